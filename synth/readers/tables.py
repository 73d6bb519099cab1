"""Survey tables (.csv, .xlsx) → one record per row: its text cell, its id, and its other cells as metadata."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from synth.errors import InputError
from synth.readers.decoding import decode_text

TEXT_COLUMN_NAMES = ("text", "response", "answer", "comment", "responses", "answers", "comments")
_DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class Row:
    number: int  # 1-based position among the data rows (the header is row 0), blank rows counted
    text: str
    metadata: dict[str, str]  # every non-empty cell but the text, by column name (id column included)
    row_id: str | None  # the id column's value, when one was asked for and the cell is not empty


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    text_column: str
    skipped: int  # data rows whose text cell is empty
    notes: tuple[str, ...] = field(default=())


def read_table(path: Path, data: bytes, *, text_column: str | None, id_column: str | None) -> Table:
    if path.suffix.lower() == ".xlsx":
        grid, notes = _xlsx_grid(path), ()
    else:
        text, notes = decode_text(path, data)
        grid = csv_grid(path, text)
    header_at = next((i for i, row in enumerate(grid) if any(cell.strip() for cell in row)), None)
    if header_at is None:
        raise InputError(path, "empty table: add a header row and at least one row of answers")
    header = _header(grid[header_at])
    text_idx = _column(path, header, text_column, "text column", default=TEXT_COLUMN_NAMES)
    id_idx = _column(path, header, id_column, "id column") if id_column else None
    rows: list[Row] = []
    skipped = 0
    for number, cells in enumerate(grid[header_at + 1:], start=1):
        if not any(cell.strip() for cell in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        text = cells[text_idx].strip()
        if not text:
            skipped += 1
            continue
        metadata = {name: cells[i].strip() for i, name in enumerate(header)
                    if i != text_idx and i < len(cells) and cells[i].strip()}
        row_id = (cells[id_idx].strip() or None) if id_idx is not None else None
        rows.append(Row(number, text, metadata, row_id))
    if not rows:
        what = f"all {skipped} rows have an empty" if skipped else "no data rows under the header, so no"
        raise InputError(path, f"{what} '{header[text_idx]}' cell: nothing to ingest; "
                               "fill in the answers or name another column with --text-column")
    return Table(rows, header[text_idx], skipped, notes)


def csv_grid(path: Path, text: str) -> list[list[str]]:
    """Parse CSV text, sniffing the delimiter (`,` `;` tab `|`) from how consistently each one splits the rows."""
    delimiter = _sniff(text)
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as e:
        cause = f"malformed CSV ({e}): check its quoting, or re-export it from the spreadsheet"
        raise InputError(path, cause) from None


def _sniff(text: str) -> str:
    sample = text[:100_000]
    best, best_key = ",", (False, 0, 0.0)
    for delimiter in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if r][:50]
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        body = rows[1:-1] or rows[1:]  # the last sampled row may be cut short
        consistent = sum(1 for r in body if len(r) == width) / len(body) if body else 1.0
        key = (width > 1 and consistent >= 0.9, width if consistent >= 0.9 else 0, consistent)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _xlsx_grid(path: Path) -> list[list[str]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:
        raise InputError(path, f"not a readable .xlsx ({type(e).__name__}): check it opens in a spreadsheet "
                               "program, or save it again as .xlsx (or .csv)") from None
    try:
        sheet = workbook.worksheets[0]  # the first sheet holds the answers; later ones are often codebooks
        return [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    except Exception as e:
        raise InputError(path, f"not a readable .xlsx ({type(e).__name__}): save it again as .xlsx or .csv") from None
    finally:
        workbook.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _header(cells: list[str]) -> list[str]:
    names: list[str] = []
    for i, cell in enumerate(cells, start=1):
        name = " ".join(cell.split()) or f"column_{i}"
        while name in names:
            name += "_"
        names.append(name)
    return names


def _column(path: Path, header: list[str], wanted: str | None, role: str, default: tuple[str, ...] = ()) -> int:
    folded = [h.casefold() for h in header]
    if wanted is not None:
        if wanted in header:
            return header.index(wanted)
        if folded.count(wanted.strip().casefold()) == 1:
            return folded.index(wanted.strip().casefold())
        raise InputError(path, f"no {role} named '{wanted}'; the columns are: {_listing(header)}")
    for name in default:
        if name in folded:
            return folded.index(name)
    raise InputError(path, f"no text column found (looked for {', '.join(default[:4])}); the columns are: "
                           f"{_listing(header)}: name the one holding the answers with --text-column")


def _listing(header: list[str]) -> str:
    return ", ".join(repr(h) for h in header)
