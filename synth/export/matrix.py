"""The framework matrix: themes × sources (or × a metadata field: programme, area, role…).

Each cell holds the number of the theme's passages from that column and its most representative
(most central) quote with a citation, so a reader sees both how much and what was said. Written
as .csv (wide: a count and a quote column per column value) or .xlsx (one cell per theme and
column, shaded by count, plus a sheet of bare counts); the report draws it as a heatmap.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..errors import SynthError
from ..store import Project
from ..readmodel import ReadModel
from ..synthesis import framework_matrix
from ..records import CATEGORIES
from .codebook import UNCATEGORISED, category_key, no_themes_error, statuses_for
from .cells import csv_row, xlsx_append
from .files import atomic_write, writer_for

BUILT_IN_FIELDS = ("source", "kind")


@dataclass(frozen=True)
class Cell:
    count: int
    quote: str = ""
    citation: str = ""


@dataclass(frozen=True)
class MatrixLine:
    theme_id: int
    guid: str
    label: str
    category: str
    status: str
    cells: dict[str, Cell]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.cells.values())


@dataclass(frozen=True)
class Matrix:
    by: str
    columns: tuple[str, ...]
    lines: tuple[MatrixLine, ...]


def available_fields(project: Project) -> list[str]:
    return [*BUILT_IN_FIELDS, *sorted({k for meta in project.source_metadata().values() for k in meta})]


def build_matrix(project: Project, *, by: str = "source", include_suggested: bool = False,
                 model: ReadModel | None = None) -> Matrix:
    """The framework matrix; `model` is the command's read model, when it has one."""
    fields = available_fields(project)
    if by not in fields:
        raise SynthError(f"--by {by!r}: no source has that field; choose one of: {', '.join(fields)}")
    model = model or ReadModel(project)
    themes = model.themes(statuses_for(include_suggested))
    if not themes:
        raise no_themes_error(project, include_suggested)
    evidence = {t.id: (t.label, model.evidence(t.id)) for t in themes}
    rows = framework_matrix(evidence, by=by)
    by_id = {t.id: t for t in themes}
    lines = []
    for row in rows:
        theme = by_id[row.theme_id]
        cells = {col: Cell(cell.count, cell.quote or "", cell.citation or "")
                 for col, cell in row.cells.items() if cell.count}
        lines.append(MatrixLine(theme.id, theme.guid, theme.label, category_key(theme.category), theme.status, cells))
    order = {key: i for i, key in enumerate((*CATEGORIES, UNCATEGORISED))}
    lines.sort(key=lambda line: (order[line.category], line.status != "accepted", -line.total, line.label.lower()))
    # framework_matrix orders the columns (sorted, "(not recorded)" last) and gives every row all of them
    columns = tuple(rows[0].cells) if rows else ()
    return Matrix(by=by, columns=columns, lines=tuple(lines))


def _header(m: Matrix) -> list[str]:
    head = ["theme_id", "guid", "theme", "category", "status", "passages"]
    for col in m.columns:
        head += [f"{col}: passages", f"{col}: quote", f"{col}: citation"]
    return head


def _row(line: MatrixLine, m: Matrix) -> list[object]:
    out: list[object] = [line.theme_id, line.guid, line.label, line.category, line.status, line.total]
    for col in m.columns:
        cell = line.cells.get(col, Cell(0))
        out += [cell.count, cell.quote, cell.citation]
    return out


def write_csv(m: Matrix, out: Path) -> None:
    with atomic_write(out, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_row(_header(m)))
        writer.writerows(csv_row(_row(line, m)) for line in m.lines)


def write_xlsx(m: Matrix, out: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Matrix"
    xlsx_append(ws, ["theme", "category", "status", "passages", *m.columns])  # columns: source names, metadata
    peak = max((c.count for line in m.lines for c in line.cells.values()), default=1) or 1
    for line in m.lines:
        texts = []
        for col in m.columns:
            cell = line.cells.get(col)
            texts.append(f"{cell.count} passage{'s' if cell.count != 1 else ''}\n“{cell.quote}”\n— {cell.citation}"
                         if cell else "")
        xlsx_append(ws, [line.label, line.category, line.status, line.total, *texts])
        for j, col in enumerate(m.columns, start=5):
            cell = line.cells.get(col)
            if cell:
                # light to strong blue by count: the heat of the matrix, readable with the text on it
                level = int(235 - 120 * cell.count / peak)
                shade = f"{level:02X}{min(255, level + 12):02X}FF"
                ws.cell(ws.max_row, j).fill = PatternFill("solid", start_color=shade, end_color=shade)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 32
    for j in range(5, 5 + len(m.columns)):
        ws.column_dimensions[ws.cell(1, j).column_letter].width = 48
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "E2"

    counts = wb.create_sheet("Counts")
    xlsx_append(counts, ["theme", "category", *m.columns, "total"])
    for line in m.lines:
        xlsx_append(counts, [line.label, line.category,
                            *(line.cells[c].count if c in line.cells else 0 for c in m.columns), line.total])
    if m.lines and m.columns:
        last = counts.cell(1 + len(m.lines), 2 + len(m.columns)).coordinate
        counts.conditional_formatting.add(f"C2:{last}", ColorScaleRule(start_type="num", start_value=0,
                                                                      start_color="FFFFFF", end_type="max",
                                                                      end_color="2E86C1"))
    for cell in counts[1]:
        cell.font = Font(bold=True)
    counts.freeze_panes = "C2"
    ws_about = wb.create_sheet("About")
    xlsx_append(ws_about, [f"Themes × {m.by}. Each cell: passages of the theme from that {m.by}, and the most "
                     "representative one (closest to the theme's centre) with its citation: source [start–end] "
                     "character offsets."])
    with atomic_write(out, "wb") as fh:
        wb.save(fh)


WRITERS = {".csv": write_csv, ".xlsx": write_xlsx}


def export_matrix(project: Project, out: Path, options: dict) -> str:
    out = Path(out)
    writer = writer_for(out, WRITERS, "matrix")
    m = build_matrix(project, by=options.get("by") or "source", include_suggested=bool(options.get("include_suggested")))
    writer(m, out)
    return f"wrote a matrix of {len(m.lines)} themes × {len(m.columns)} {m.by} values to {out}"
