"""Spreadsheet cells, made safe in one place for every CSV and XLSX export.

Quotes, labels, source names and metadata come from files a user did not write. A spreadsheet
reads a CSV cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
programs skip before looking) as a formula, so `=HYPERLINK(…)` or `=cmd|…` in an interview
transcript would run on the analyst's machine. OWASP's CSV-injection guidance: prefix such a cell
with a single quote so it is read as text. Real numbers stay numbers: a value that is an int or
float, or a string that is exactly a number ("-3", "+0.5"), is left as it is.

XLSX cells are typed, so a string is never evaluated; but openpyxl stores a string starting with
`=` as a formula, and Excel turns a text cell starting with `=` into a formula as soon as someone
edits it. There the cell is forced to text and given Excel's own quote prefix (a style flag, so
the text keeps its exact characters). XML also cannot hold most control characters (openpyxl
raises IllegalCharacterError): they are replaced by U+FFFD, visibly, rather than crashing the export.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
REPLACEMENT = "\ufffd"


def is_formula_like(value: object) -> bool:
    """Would a spreadsheet read this string as a formula (and is it not simply a number)?"""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _NUMBER.match(value)


def csv_cell(value: object) -> object:
    """A value for a CSV export: formula-like text gets OWASP's leading single quote."""
    return "'" + value if is_formula_like(value) else value  # type: ignore[operator]


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_cell(v) for v in values]


def csv_dict(row: dict) -> dict:
    return {k: csv_cell(v) for k, v in row.items()}


def xlsx_text(value: object) -> object:
    """A value openpyxl can store: control characters XML cannot hold become U+FFFD."""
    # Imported here: every command imports this module (through the export commands), only an XLSX
    # export needs openpyxl, and importing it costs about 0.2 s at each start.
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value) if isinstance(value, str) else value


def xlsx_append(ws, values: Iterable[object]) -> None:
    """Append a row to an openpyxl worksheet with every cell safe: text stays text, never a formula."""
    ws.append([xlsx_text(v) for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl made '=…' a formula; a quote is never one
            if is_formula_like(cell.value):
                cell.quotePrefix = True  # Excel keeps it text even when someone edits the cell
