"""The assignments table: one row per codable passage, with its theme and categories.

Rows carry the passage's exact offsets into its source, so anyone can check that `text` is
what the source says at `start_char:end_char`. Written as .csv, .xlsx or .json, by extension.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..records import CATEGORIES
from ..relearn import effective_categories
from ..readmodel import ReadModel
from ..statuses import LIVE
from ..store import Project
from .cells import csv_dict, xlsx_append
from .files import atomic_write, writer_for

COLUMNS = ("passage_id", "source_name", "start_char", "end_char", "text", "theme_id", "theme_label", "category",
           "probability", "passage_category", *CATEGORIES)

# Only these themes place passages; a rejected, merged or retired theme leaves its passages unplaced.
LIVE_STATUSES = LIVE


def assignment_rows(project: Project) -> list[dict]:
    themes = ReadModel(project).live()
    memberships = {m.passage_id: m for m in project.memberships(placed=True)}
    categories = project.passage_categories()
    current = effective_categories(project)  # the reviewer's, else the learned suggestion, else the machine's
    names = {s.id: s.name for s in project.sources()}
    rows = []
    for p in project.passages(codable_only=True):
        m = memberships.get(p.id)
        theme = themes.get(m.theme_id) if m else None
        cat = categories.get(p.id)
        rows.append({
            "passage_id": p.id, "source_name": names[p.source_id], "start_char": p.start_char,
            "end_char": p.end_char, "text": p.text,
            "theme_id": theme.id if theme else "", "theme_label": theme.label if theme else "",
            "category": (theme.category or "") if theme else "",
            "probability": f"{m.probability:.4f}" if theme else "",
            "passage_category": current[p.id].category if p.id in current else "",
            **{c: (f"{cat['scores'][c]:.4f}" if cat else "") for c in CATEGORIES},
        })
    return rows


def write_csv(rows: list[dict], out: Path) -> None:
    with atomic_write(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(csv_dict(r) for r in rows)


def write_xlsx(rows: list[dict], out: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Assignments"
    xlsx_append(ws, list(COLUMNS))
    for r in rows:
        xlsx_append(ws, [r[c] for c in COLUMNS])
    ws.freeze_panes = "A2"
    with atomic_write(out, "wb") as fh:
        wb.save(fh)


def write_json(rows: list[dict], out: Path) -> None:
    # JSON keeps types: numbers as numbers, no theme as null (the CSV's empty cells).
    typed = [{k: (None if v == "" else float(v) if k == "probability" or k in CATEGORIES else v)
              for k, v in r.items()} for r in rows]
    with atomic_write(out, "w", encoding="utf-8") as fh:
        json.dump(typed, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


WRITERS = {".csv": write_csv, ".xlsx": write_xlsx, ".json": write_json}


def export_assignments(project: Project, out: Path, options: dict) -> str:
    out = Path(out)
    writer = writer_for(out, WRITERS, "assignments")
    rows = assignment_rows(project)
    writer(rows, out)
    placed = sum(1 for r in rows if r["theme_id"] != "")
    return f"wrote {len(rows)} passages ({placed} in a theme) to {out}"
