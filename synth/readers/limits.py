"""How much any reader will read, inflate or hold: files are hostile, and a small file can expand enormously.

A 0.9 MB DOCX can inflate to 300 MB of XML that python-docx parses into a tree many times that size; a
PDF can promise a million pages. Every reader checks these bounds *before* the expensive step where it
can (zip members are checked from the archive's directory, whose sizes `zipfile` enforces while
inflating), and counts what it extracts as it goes. The limits are far above real evidence-review
sources: a 1,500-page book is about 3 million characters, Excel stops at 1,048,576 rows.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from synth.errors import InputError

MAX_FILE_BYTES = 512 * 1024 * 1024          # any one file read into memory (PDFs with images run large)
MAX_SOURCE_CHARS = 20_000_000               # the text of one source: about six times War and Peace
MAX_TABLE_CHARS = 250_000_000               # every cell of one table together (a full Excel sheet of answers)
MAX_PDF_PAGES = 10_000
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_TOTAL_BYTES = 2 * 1024 * 1024 * 1024  # all members of an .xlsx, inflated (its sheets are streamed)
MAX_ZIP_RATIO = 200                          # inflated/compressed, for members over RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 4 * 1024 * 1024          # small members may compress as well as they like
# A member that a library parses whole into memory (a .docx's document.xml, an .xlsx's shared strings)
# takes ten to twenty times its size as a tree, so it gets a tighter bound than streamed sheets.
MAX_PARSED_MEMBER_BYTES = 100 * 1024 * 1024


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB"


# The checks read the limits when called (not as default arguments), so a test can lower them.


def check_file_size(path: Path, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise InputError(path, f"file of {_mb(size)} is over synth's limit of {_mb(MAX_FILE_BYTES)} per file: "
                               "split it into smaller files")


def check_text_file_size(path: Path, size: int) -> None:
    """A text file of more than 4 bytes per character allowed holds too many characters, whatever its encoding:
    refused before it is decoded."""
    check_chars(path, size // 4)


def check_chars(path: Path, chars: int, *, table: bool = False, what: str = "text") -> None:
    """Refuse text past the limit per source (or per table) in characters; call as text accumulates."""
    limit = MAX_TABLE_CHARS if table else MAX_SOURCE_CHARS
    if chars > limit:
        raise InputError(path, f"{what} runs past synth's limit of {limit:,} characters per "
                               f"{'table' if table else 'source'}: "
                               "split the file into parts (e.g. by chapter) and ingest those")


def check_zip(path: Path, kind: str, *, parsed_whole: tuple[str, ...] = (), max_total: int | None = None) -> None:
    """Refuse a .docx/.xlsx whose members would inflate past the limits, before any library opens it.

    `parsed_whole`: name prefixes of members the reading library loads into memory whole; `max_total`:
    the bound on all members inflated (python-docx holds every part in memory, openpyxl streams sheets).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InputError(path, f"not a readable {kind} ({type(e).__name__}: not a valid zip archive): "
                               "check it opens, or save it again") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise InputError(path, f"{kind} with {len(members):,} parts, over synth's limit of {MAX_ZIP_MEMBERS:,}: "
                               "not a document synth will open")
    max_total = MAX_ZIP_TOTAL_BYTES if max_total is None else max_total
    total = 0
    for info in members:
        size = info.file_size
        total += size
        if size > RATIO_FLOOR_BYTES and size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise InputError(path, f"{kind} part '{info.filename}' inflates from {info.compress_size:,} bytes to "
                                   f"{_mb(size)} (over {MAX_ZIP_RATIO}:1): refused as a likely zip bomb")
        if size > MAX_PARSED_MEMBER_BYTES and info.filename.startswith(parsed_whole):
            raise InputError(path, f"{kind} part '{info.filename}' is {_mb(size)} inflated, over synth's limit of "
                                   f"{_mb(MAX_PARSED_MEMBER_BYTES)}: split the document into smaller files")
    if total > max_total:
        raise InputError(path, f"{kind} inflates to {_mb(total)}, over synth's limit of {_mb(max_total)}: "
                               "split it into smaller files")
