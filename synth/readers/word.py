"""DOCX → text with python-docx: body paragraphs and table cells in document order, joined with a blank line."""

from __future__ import annotations

from pathlib import Path

from synth.errors import InputError
from synth.readers import limits
from synth.readers.limits import check_chars, check_zip

BLOCK_SEPARATOR = "\n\n"


def read_docx(path: Path) -> str:
    import docx
    from docx.table import Table

    # python-docx inflates and holds every part, and parses the XML ones into trees: bound them first.
    check_zip(path, ".docx", parsed_whole=("word/", "customXml/", "docProps/"), max_total=limits.MAX_FILE_BYTES)
    blocks: list[str] = []
    chars = 0
    try:
        document = docx.Document(str(path))
        for item in document.iter_inner_content():
            new = _cells(item) if isinstance(item, Table) else [item.text]
            blocks.extend(new)
            chars += sum(len(b) + len(BLOCK_SEPARATOR) for b in new)
            check_chars(path, chars)
    except InputError:
        raise
    except Exception as e:  # python-docx raises zip, XML and key errors for damaged files
        raise InputError(path, f"not a readable .docx ({type(e).__name__}): check it opens in Word, "
                               "or save it again as .docx (a .doc must be converted first)") from None
    text = BLOCK_SEPARATOR.join(b for b in blocks if b.strip())
    if not text.strip():
        raise InputError(path, "empty document (no text in paragraphs or tables): add its text or leave it out")
    return text


def _cells(table) -> list[str]:
    seen = set()  # holds the cell elements themselves, so lxml keeps one proxy per cell
    out = []
    for row in table.rows:
        for cell in row.cells:
            if cell._tc in seen:  # a merged cell is returned once per grid position it spans
                continue
            seen.add(cell._tc)
            out.append(cell.text)
    return out
