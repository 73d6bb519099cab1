"""The report as a Word document (python-docx), with the HTML report's structure: findings by
category, each with its definition, confidence and reasons, evidence profile and cited quotes; then
saturation and the framework matrix as tables. Analysts write their reports in Word, so this is a
starting draft they can edit, not a picture of the web page (the charts stay in the HTML)."""

from __future__ import annotations

from pathlib import Path

from ..export.files import atomic_write
from .build import ReportData


def _counts(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


def _table(doc, header: list[str], rows: list[list[str]]):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = str(text)
    return table


def build_document(r: ReportData):
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.title = r.title
    if r.author:
        doc.core_properties.author = r.author
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.add_heading(r.title, level=0)
    doc.add_paragraph(" · ".join(x for x in (r.author, r.date) if x))
    doc.add_paragraph(
        f"From the synth project {r.project_name}" + (f", as it stood on {r.as_of}" if r.as_of else "") + ". "
        + ("Accepted findings and suggested ones not yet accepted (marked)." if r.include_suggested
           else "Accepted findings only.")
        + " Every quote is verbatim and cited as source [start–end]: the character positions of the quote in the source.")
    doc.add_paragraph("; ".join(f"{key}: {number} ({detail})" for key, number, detail in r.stats))

    doc.add_heading("Findings at a glance", level=1)
    rows = []
    for group in r.findings:
        for code in group.codes:
            p = r.profiles[code.theme_id]
            rows.append([group.name, code.display_name, p.confidence + (" (reviewer)" if p.reviewer else ""),
                         str(p.adequacy.sources), str(p.adequacy.passages)])
    _table(doc, ["Category", "Finding", "Confidence", "Sources", "Passages"], rows)

    for group in r.findings:
        doc.add_heading(group.name, level=1)
        doc.add_paragraph(group.description)
        for code in group.codes:
            p = r.profiles[code.theme_id]
            s = r.summaries[code.theme_id]
            doc.add_heading(code.display_name, level=2)
            doc.add_paragraph(code.definition or "(no definition yet)")
            line = doc.add_paragraph()
            line.add_run("Confidence in this finding: ")
            line.add_run(p.confidence).bold = True
            if p.reviewer:
                line.add_run(f" — set by {p.reviewer['reviewer']} ({p.reviewer['at'][:10]}): {p.reviewer['reason']}. "
                             f"synth suggested {p.suggested}.")
            else:
                line.add_run(" — suggested by synth; a reviewer has not set it yet.")
            for reason in p.reasons:
                doc.add_paragraph(reason, style="List Bullet")
            doc.add_heading("Evidence profile", level=3)
            _table(doc, ["Component", "Concerns", "What was counted"],
                   [[c.name, c.concern, c.explanation] for c in p.components])
            facts = [f"Passages: {p.adequacy.passages} ({_counts(p.adequacy.passages_by_kind)})",
                     f"Sources: {p.adequacy.sources} ({_counts(p.adequacy.sources_by_kind)})",
                     f"Participants: {p.adequacy.participants}"
                     + (f" ({_counts(p.adequacy.participants_by_kind)})" if p.adequacy.participants else "")]
            facts += [f"By {f}: {_counts(v)}" for f, v in p.adequacy.groups.items()]
            if s.triangulation:
                facts.append(f"Triangulation: {s.triangulation.get('explanation', '')}")
            if s.transferability:
                facts.append(f"Transferability: {s.transferability.get('score', 0):.2f} — "
                             f"{s.transferability.get('explanation', '')}")
            for fact in facts:
                doc.add_paragraph(fact, style="List Bullet")
            doc.add_heading("What people and reports said", level=3)
            for q in r.examples.get(code.theme_id, ()):
                quote = doc.add_paragraph(style="Quote")
                quote.add_run(q.text)
                quote.add_run(f"\n— {q.citation}").italic = False
                for m in r.passage_memos.get(q.passage_id, []):
                    doc.add_paragraph(f"Reviewer's note ({m.reviewer}): {m.text}")
            if p.coherence.counter_quotes:
                doc.add_heading(f"Cuts against this finding ({p.coherence.against})", level=3)
                for q in p.coherence.counter_quotes:
                    doc.add_paragraph(f"{q.text}\n— {q.citation} · reads as {q.category}", style="Quote")
            notes = [f"{m.text} — {m.reviewer}, {m.at[:10]}" for m in r.theme_memos.get(code.theme_id, [])]
            notes += [f"On {m.citation}: {m.text} — {m.reviewer}, {m.at[:10]}"
                      for m in r.theme_passage_memos.get(code.theme_id, [])]
            if notes:
                doc.add_heading("Reviewer's notes", level=3)
                for note in notes:
                    doc.add_paragraph(note, style="List Bullet")

    if r.saturation:
        doc.add_heading("Saturation", level=1)
        doc.add_paragraph(
            f"After Guest, Namey & Chen (2020, PLoS ONE e0232076): base size {r.saturation.base}, run length "
            f"{r.saturation.run}, new-information threshold ≤{r.saturation.threshold:.0%}; in ingest order and over "
            f"{r.saturation.runs} random orders. A theme counts as found when the first source holding one of its "
            "passages is added.")
        _table(doc, ["Sources", "Count", "Themes", "Saturation", "Random orders reaching it", "New themes per source"],
               [[c.group, str(len(c.sources)), str(c.themes), c.verdict, f"{c.random_reached_share:.0%}",
                 ", ".join(map(str, c.new_per_source[:40])) + (" …" if len(c.sources) > 40 else "")]
                for c in r.saturation.curves])

    if r.matrix.columns:
        doc.add_heading(f"Framework matrix (findings × {r.matrix.by})", level=1)
        _table(doc, ["Finding", *r.matrix.columns, "total"],
               [[line.label, *[str(line.cells[c].count if c in line.cells else 0) for c in r.matrix.columns],
                 str(line.total)] for line in r.matrix.lines])
    if r.map is not None:
        doc.add_heading("Map of passages", level=1)
        doc.add_paragraph(
            f"In the HTML report: a 2-D principal-component projection of the passages' embeddings, showing "
            f"{sum(r.map.explained):.0%} of their variance (component 1 {r.map.explained[0]:.0%}, "
            f"component 2 {r.map.explained[1]:.0%}).")
    doc.add_paragraph(f"Made by synth {r.version}" + (f" from run {r.run['id']} (seed {r.run['seed']}, model "
                                                      f"{r.run['model_id']})" if r.run else "") + ".")
    return doc


def write_docx(report: ReportData, out: Path) -> None:
    doc = build_document(report)
    with atomic_write(out, "wb") as fh:
        doc.save(fh)
