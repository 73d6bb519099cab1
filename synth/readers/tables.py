"""Survey tables (.csv, .xlsx) → one record per row: its text cell, its id, and its other cells as metadata."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from synth.errors import InputError
from synth.readers.decoding import decode_text
from synth.readers.limits import check_chars, check_zip

TEXT_COLUMN_NAMES = ("text", "response", "answer", "comment", "responses", "answers", "comments")
# The metadata field that holds the question a row answers: a column of this name, or the column
# named by --question-column (copied here). Its wording is a prior for the answer's category.
QUESTION_FIELD = "question"
_DELIMITERS = (",", ";", "\t", "|")
_PROGRESS_EVERY = 5000  # rows between progress reports

# (rows read, rows in the sheet or None when the file does not say)
RowProgress = Callable[[int, "int | None"], None]


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


def read_table(path: Path, data: bytes, *, text_column: str | None, id_column: str | None,
               progress: RowProgress | None = None, question_column: str | None = None) -> Table:
    """The table's rows. `question_column`: the column holding the question each row answers; its cell
    is kept under QUESTION_FIELD (a column already named so is used without being named)."""
    if path.suffix.lower() == ".xlsx":
        grid, notes = _xlsx_grid(path, progress), ()
    else:
        text, notes = decode_text(path, data)
        check_chars(path, len(text), table=True, what="the table")
        grid = csv_grid(path, text)
    header_at = next((i for i, row in enumerate(grid) if any(cell.strip() for cell in row)), None)
    if header_at is None:
        raise InputError(path, "empty table: add a header row and at least one row of answers")
    width = max(len(row) for row in grid[header_at:])
    wide = [n for n, row in enumerate(grid[header_at + 1:], start=1) if len(row) > len(grid[header_at])
            and any(cell.strip() for cell in row[len(grid[header_at]):])]
    header = _header(grid[header_at] + [""] * (width - len(grid[header_at])))
    if wide:  # kept under column_N names rather than dropped: nothing in the file is lost
        notes += (f"{len(wide)} row(s) have more cells than the header (first: data row {wide[0]}); the extra "
                  f"cells are kept as {', '.join(header[len(grid[header_at]):][:3])}",)
    text_idx = _column(path, header, text_column, "text column", default=TEXT_COLUMN_NAMES)
    id_idx = _column(path, header, id_column, "id column") if id_column else None
    question_idx = _column(path, header, question_column, "question column") if question_column else None
    if question_idx is not None and header[question_idx] != QUESTION_FIELD and QUESTION_FIELD in header:
        raise InputError(path, f"--question-column '{question_column}': the table also has a column named "
                               f"'{QUESTION_FIELD}', which would be overwritten; rename one of them")
    if question_idx is not None and question_idx == text_idx:
        raise InputError(path, f"--question-column '{question_column}' is the text column; name the column "
                               "holding the questions, not the answers")
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
                    if i != text_idx and cells[i].strip()}
        if question_idx is not None and cells[question_idx].strip():
            metadata[QUESTION_FIELD] = cells[question_idx].strip()
        row_id = (cells[id_idx].strip() or None) if id_idx is not None else None
        rows.append(Row(number, text, metadata, row_id))
    if not rows:
        what = f"all {skipped} rows have an empty" if skipped else "no data rows under the header, so no"
        raise InputError(path, f"{what} '{header[text_idx]}' cell: nothing to ingest; "
                               "fill in the answers or name another column with --text-column")
    return Table(rows, header[text_idx], skipped, notes)


def csv_grid(path: Path, text: str) -> list[list[str]]:
    """Parse CSV text, sniffing the delimiter (`,` `;` tab `|`) from how consistently each one splits the rows.

    Quoting is read strictly: an unterminated quote would otherwise swallow every later row into one cell.
    """
    delimiter = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    grid: list[list[str]] = []
    with _field_limit(len(text)):
        while True:
            started = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return grid
            except csv.Error as e:
                raise InputError(path, _quoting_error(started, reader.line_num, str(e))) from None
            grid.append(row)


def _quoting_error(started: int, at: int, detail: str) -> str:
    if "unexpected end of data" in detail:
        return (f"malformed CSV: the quoted cell opened on line {started} is never closed (its quote runs to the "
                "end of the file): add the closing quote, or re-export the file from the spreadsheet")
    if "expected after" in detail:
        return (f"malformed CSV: on line {at}, a quote inside the quoted cell that starts on line {started} is "
                "not doubled (\"\") nor followed by the delimiter: fix the quoting, or re-export the file")
    return f"malformed CSV on line {at} ({detail}): check its quoting, or re-export it from the spreadsheet"


@contextmanager
def _field_limit(chars: int) -> Iterator[None]:
    """The csv module refuses cells over 128 KB; a long answer is no error. Raised for one parse only, to the
    text's own length (which the table limit already bounds), and put back after."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, chars + 1))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _sniff(text: str) -> str:
    """The delimiter that splits the sampled rows into the most consistent number of cells.

    Comma wins unless another delimiter is clearly better: rows with missing or extra cells (exports
    drop trailing empty cells) must not make a delimiter that splits nothing look "consistent". A table
    of one column gets a delimiter that splits none of its lines.
    """
    sample = text[:100_000]
    scores: dict[str, float] = {}
    single: dict[str, float] = {}  # share of rows a delimiter leaves whole
    for delimiter in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if r][:50]
        except csv.Error:
            continue
        if len(rows) > 2 and len(sample) < len(text):
            rows = rows[:-1]  # the last sampled row may be cut short
        widths = [len(r) for r in rows]
        if not widths:
            continue
        mode = max(set(widths), key=lambda w: (widths.count(w), w))
        if mode > 1:
            scores[delimiter] = widths.count(mode) / len(widths)
        single[delimiter] = widths.count(1) / len(widths)
    if not scores:
        return max(single, key=lambda d: (single[d], d == ","), default=",")
    best = max(scores, key=lambda d: (scores[d], d == ","))
    if "," in scores and scores[best] - scores[","] < 0.2:
        return ","
    return best


def _xlsx_grid(path: Path, progress: RowProgress | None = None) -> list[list[str]]:
    """The first worksheet's cells, from A1, as text.

    python-calamine (Rust) reads a sheet some twenty times faster than openpyxl's read-only mode (a
    1,048,576-row sheet: 4 s against 75 s of CPU), and gives the cached values of formulas, as Excel shows them.
    """
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    # calamine holds the sheet's values whole; the zip check bounds what it can inflate first.
    check_zip(path, ".xlsx")
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        # The first worksheet holds the answers (later ones are often codebooks; chart sheets hold no cells).
        first = next((m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet), None)
        if first is None:
            raise InputError(path, "the workbook has no worksheet: save the answers in a sheet, or as .csv")
        # skip_empty_area=False: columns count from A, as the spreadsheet shows them, whatever is blank.
        values = workbook.get_sheet_by_name(first).to_python(skip_empty_area=False)
    except InputError:
        raise
    except Exception as e:
        raise InputError(path, f"not a readable .xlsx ({type(e).__name__}): check it opens in a spreadsheet "
                               "program, or save it again as .xlsx (or .csv)") from None
    grid: list[list[str]] = []
    chars = 0
    for row in values:
        cells = [_cell(value) for value in row]
        grid.append(cells)
        chars += sum(map(len, cells))
        if len(grid) % _PROGRESS_EVERY == 0:
            check_chars(path, chars, table=True, what="the sheet")
            if progress is not None:
                progress(len(grid), len(values))
    check_chars(path, chars, table=True, what="the sheet")
    if progress is not None:
        progress(len(grid), len(grid))
    return grid


def _cell(value: object) -> str:
    if isinstance(value, str):  # most cells; calamine gives "" for an empty one
        return value
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
    """Column names, made unique by suffixes ("_2", "_3"…); linear, for sheets with very many columns."""
    names: list[str] = []
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}
    for i, cell in enumerate(cells, start=1):
        base = " ".join(cell.split()) or f"column_{i}"
        name = base
        while name in taken:
            suffix = next_suffix.get(base, 2)
            next_suffix[base] = suffix + 1
            name = f"{base}_{suffix}"
        taken.add(name)
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


def _listing(header: list[str], most: int = 20) -> str:
    shown = ", ".join(repr(h) for h in header[:most])
    return shown + (f" … ({len(header):,} in all)" if len(header) > most else "")
