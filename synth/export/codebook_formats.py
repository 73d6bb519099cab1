"""Writing a `Codebook` in the format its file name asks for: .qdc (REFI-QDA), .csv, .md, .json, .xlsx."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from .. import __version__
from ..store import Project
from .codebook import Code, Codebook, build_codebook
from .cells import csv_dict, xlsx_append
from .files import atomic_write, writer_for
from .refi import CODEBOOK_NS, check_valid, to_bytes, xml_safe

CSV_COLUMNS = ("guid", "parent", "name", "category", "status", "definition", "when_to_use", "when_not_to_use",
               *(f"example_{i}{part}" for i in range(1, 4) for part in ("", "_citation")),
               "passages", "sources", "spread", "colour", "same_topic_other_stance", "label_locations")


def code_elements(parent: etree._Element, codebook: Codebook, namespace: str) -> None:
    """Parent codes (not codable) per category, each theme a codable child. Used for .qdc and .qdpx."""
    tag = f"{{{namespace}}}Code"
    for group in codebook.groups:
        g = etree.SubElement(parent, tag, guid=group.guid, name=group.name, isCodable="false", color=group.colour)
        etree.SubElement(g, f"{{{namespace}}}Description").text = xml_safe(group.description)
        for code in group.codes:
            c = etree.SubElement(g, tag, guid=code.guid, name=xml_safe(code.display_name), isCodable="true",
                                 color=code.colour)
            etree.SubElement(c, f"{{{namespace}}}Description").text = xml_safe(code.description())


def qdc_document(codebook: Codebook) -> etree._Element:
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin=f"synth {__version__}")
    code_elements(etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes"), codebook, CODEBOOK_NS)
    # No <Sets>: the schema allows it to be absent but not empty, and synth has no code sets.
    return root


def write_qdc(codebook: Codebook, out: Path) -> None:
    root = qdc_document(codebook)
    check_valid(root, str(out))
    with atomic_write(out, "wb") as fh:
        fh.write(to_bytes(root))


def csv_rows(codebook: Codebook) -> list[dict]:
    rows = []
    for group in codebook.groups:
        for code in group.codes:
            row = {"guid": code.guid, "parent": group.name, "name": code.name, "category": code.category,
                   "status": code.status, "definition": code.definition, "when_to_use": code.when_to_use,
                   "when_not_to_use": code.when_not_to_use, "passages": code.size, "sources": code.sources,
                   "spread": code.spread, "colour": code.colour, "same_topic_other_stance": code.siblings,
                   "label_locations": code.label_found}
            for i in range(1, 4):
                q = code.examples[i - 1] if i <= len(code.examples) else None
                row[f"example_{i}"] = q.text if q else ""
                row[f"example_{i}_citation"] = q.citation if q else ""
            rows.append(row)
    return rows


def write_csv(codebook: Codebook, out: Path) -> None:
    # utf-8-sig: Excel, where analysts open CSVs, reads accents and curly quotes right only with the BOM.
    with atomic_write(out, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_dict(row) for row in csv_rows(codebook))


def write_xlsx(codebook: Codebook, out: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Codebook"
    xlsx_append(ws, list(CSV_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in csv_rows(codebook):
        xlsx_append(ws, [row[c] for c in CSV_COLUMNS])
        colour = row["colour"].lstrip("#")
        ws.cell(ws.max_row, CSV_COLUMNS.index("colour") + 1).fill = PatternFill("solid", start_color=colour, end_color=colour)
    widths = {"guid": 38, "parent": 20, "name": 30, "definition": 50, "when_to_use": 50, "when_not_to_use": 50,
              "spread": 36}
    for i, col in enumerate(CSV_COLUMNS, start=1):
        letter = ws.cell(1, i).column_letter
        ws.column_dimensions[letter].width = widths.get(col, 45 if col.startswith("example") else 12)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "D2"
    with atomic_write(out, "wb") as fh:
        wb.save(fh)


def codebook_dict(codebook: Codebook) -> dict:
    return {
        "project": codebook.project_name,
        "generated_by": f"synth {__version__}",
        "include_suggested": codebook.include_suggested,
        "groups": [
            {"name": g.name, "category": g.category, "guid": g.guid, "colour": g.colour, "description": g.description,
             "codes": [_code_dict(c) for c in g.codes]}
            for g in codebook.groups
        ],
    }


def _code_dict(c: Code) -> dict:
    return {
        "guid": c.guid, "theme_id": c.theme_id, "name": c.name, "status": c.status, "category": c.category,
        "definition": c.definition, "when_to_use": c.when_to_use, "when_not_to_use": c.when_not_to_use,
        "examples": [{"text": q.text, "source": q.source_name, "start_char": q.start_char, "end_char": q.end_char,
                      "citation": q.citation} for q in c.examples],
        "passages": c.size, "sources": c.sources, "spread": c.spread, "triangulation": c.triangulation,
        "colour": c.colour, "label_by_human": c.label_by_human, "definition_by_human": c.definition_by_human,
        "category_by_human": c.category_by_human, "same_topic_other_stance": c.siblings,
        "label_locations": c.label_found,
        **({"agreement": c.agreement} if c.agreement else {}),  # only once a validation sample was coded
    }


def write_json(codebook: Codebook, out: Path) -> None:
    with atomic_write(out, "w", encoding="utf-8") as fh:
        json.dump(codebook_dict(codebook), fh, indent=2, ensure_ascii=False, sort_keys=True)
        fh.write("\n")


def markdown(codebook: Codebook) -> str:
    lines = [f"# Codebook: {codebook.project_name}", ""]
    n = len(codebook.codes)
    lines.append(f"{n} code{'s' if n != 1 else ''}"
                 + (", including suggested themes not yet accepted (marked *suggested*)" if codebook.include_suggested else "")
                 + f". Generated by synth {__version__}. “When to use” and “when not” are drafts for the analyst to edit.")
    for group in codebook.groups:
        lines += ["", f"## {group.name}", "", group.description]
        for code in group.codes:
            lines += ["", f"### {_md_inline(code.name)}" + (" *(suggested)*" if code.is_suggested else ""), ""]
            lines.append(f"**Definition.** {_md_inline(code.definition) or '(no definition yet)'}")
            lines += ["", f"**When to use.** {_md_inline(code.when_to_use)}"]
            lines += ["", f"**When not to use.** {_md_inline(code.when_not_to_use)}"]
            if code.examples:
                lines += ["", "**Examples.**", ""]
                for q in code.examples:
                    lines.append(f"> {_md_inline(q.text)}\n>\n> — {_md_inline(q.citation)}\n")
            lines += ["", f"**Size and spread.** {code.spread}" + (f"; {code.triangulation}" if code.triangulation else "")
                      + f". GUID `{code.guid}`."]
    return "\n".join(lines).rstrip() + "\n"


def _md_inline(text: str) -> str:
    # Quotes are verbatim and may hold line breaks or characters Markdown would read as markup.
    text = " ".join(text.split())
    for ch in "\\`*_[]<>#|":
        text = text.replace(ch, "\\" + ch)
    return text


def write_md(codebook: Codebook, out: Path) -> None:
    with atomic_write(out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(markdown(codebook))


WRITERS: dict[str, Callable[[Codebook, Path], None]] = {
    ".qdc": write_qdc, ".csv": write_csv, ".md": write_md, ".json": write_json, ".xlsx": write_xlsx,
}


def export_codebook(project: Project, out: Path, options: dict) -> str:
    out = Path(out)
    writer = writer_for(out, WRITERS, "codebook")
    codebook = build_codebook(project, include_suggested=bool(options.get("include_suggested")))
    writer(codebook, out)
    suggested = sum(c.is_suggested for c in codebook.codes)
    n = len(codebook.codes)
    return (f"wrote {n} code{'s' if n != 1 else ''} under {len(codebook.groups)} parent codes"
            + (f" ({suggested} marked suggested)" if suggested else "") + f" to {out}")
