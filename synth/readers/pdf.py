"""PDF → text with pypdf: the text layer of every page, pages joined with a blank line."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from synth.errors import InputError
from synth.readers import limits
from synth.readers.limits import check_chars

PAGE_SEPARATOR = "\n\n"


def read_pdf(path: Path, data: bytes | None = None) -> str:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    head = (data if data is not None else path.read_bytes()[:1024])[:1024]
    if b"%PDF-" not in head:  # pypdf would "repair" it and fail later with a misleading cause
        looks = " (it looks like an HTML page: a download that failed?)" if b"<html" in head.lower() else ""
        raise InputError(path, f"not a PDF: it does not start with %PDF-{looks}; check it is the right file")
    pages: list[str] = []
    try:
        with _quiet_pypdf():
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
            count = len(reader.pages)
            if count > limits.MAX_PDF_PAGES:
                raise InputError(path, f"PDF of {count:,} pages, over synth's limit of {limits.MAX_PDF_PAGES:,}: "
                                       "split it into parts and ingest those")
            chars = 0
            for page in reader.pages:
                pages.append(page.extract_text() or "")
                chars += len(pages[-1]) + len(PAGE_SEPARATOR)
                check_chars(path, chars)
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


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs (and sometimes warns) about every defect it repairs; the user cannot act on those, and
    for a damaged file they would print before synth's one-line error. Silenced here only, around one read."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or ["no detail"])[0][:200]
