"""PDF → text with pypdf: the text layer of every page, pages joined with a blank line."""

from __future__ import annotations

import logging
from pathlib import Path

from synth.errors import InputError

PAGE_SEPARATOR = "\n\n"


def read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            # Many PDFs carry only an owner password (no password to open): those read fine.
            try:
                opened = reader.decrypt("")
            except DependencyError:
                opened = 0
            if not opened:
                raise InputError(path, "encrypted PDF (password-protected): save an unprotected copy "
                                       "(e.g. print it to PDF) and ingest that")
        with _quiet_pypdf():
            pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except Exception as e:  # pypdf raises many types for damaged files
        raise InputError(path, f"not a readable PDF ({type(e).__name__}: {_first_line(e)}): "
                               "check the file opens in a PDF viewer, or re-export it") from None
    text = PAGE_SEPARATOR.join(pages)
    if not text.strip():
        raise InputError(path, f"PDF with {len(pages)} page(s) but no text layer: it needs OCR first "
                               "(e.g. ocrmypdf), then ingest the OCR'd PDF")
    return text


class _quiet_pypdf:
    """pypdf logs a warning for every small defect it repairs; the user cannot act on those."""

    def __enter__(self) -> None:
        self._logger = logging.getLogger("pypdf")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self._logger.setLevel(self._level)


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or ["no detail"])[0][:200]
