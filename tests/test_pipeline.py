"""End to end from the CLI: ingest the demo corpus, discover, export; offsets, caching, stability."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from conftest import DEMO
from synth.export.cells import csv_cell
from synth.store import Project


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory):
    from conftest import Synth

    synth = Synth()
    path = tmp_path_factory.mktemp("demo") / "demo.synth"
    synth.ok("ingest", path, DEMO)
    first = synth.ok("discover", path, "--seed", "42")
    return path, first


def test_every_passage_is_its_source_text_at_its_offsets(demo_project):
    path, _ = demo_project
    with Project.open(path, create=False) as project:
        sources = {s.id: s for s in project.sources()}
        passages = project.passages()
        assert len(passages) > 100
        for p in passages:
            assert sources[p.source_id].text[p.start_char:p.end_char] == p.text
        kinds = {s.kind for s in sources.values()}
        assert kinds == {"literature", "interview", "survey"}


def test_assignments_export_reproduces_the_source_text(demo_project, synth, tmp_path):
    path, _ = demo_project
    out = tmp_path / "assignments.csv"
    synth.ok("export", path, "assignments", "-o", out)
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with Project.open(path, create=False) as project:
        texts = {s.name: s.text for s in project.sources()}
        assert len(rows) == project.counts()["codable"]
    assert list(rows[0])[:9] == ["passage_id", "source_name", "start_char", "end_char", "text", "theme_id",
                                 "theme_label", "category", "probability"]
    for row in rows:
        # a passage a spreadsheet would read as a formula ("- The Next Step…") carries OWASP's leading
        # quote mark in the CSV; the JSON export below has every text verbatim
        assert csv_cell(texts[row["source_name"]][int(row["start_char"]):int(row["end_char"])]) == row["text"]
    placed = [r for r in rows if r["theme_id"]]
    assert len(placed) / len(rows) >= 0.5
    assert all(r["theme_label"] and 0 <= float(r["probability"]) <= 1 for r in placed)
    as_json = tmp_path / "assignments.json"
    synth.ok("export", path, "assignments", "-o", as_json)
    for row in json.loads(as_json.read_text(encoding="utf-8")):
        assert texts[row["source_name"]][row["start_char"]:row["end_char"]] == row["text"]


def test_a_second_ingest_and_discover_reuses_everything(demo_project, synth, tmp_path):
    path, first = demo_project
    copy = tmp_path / "again.synth"
    shutil.copy(path, copy)
    assert "computed 0" not in first
    assert "unchanged, nothing to do" in synth.ok("ingest", copy, DEMO)
    again = synth.ok("discover", copy, "--seed", "42")
    assert "computed 0" in again and "embeddings reused" in again


def test_same_seed_gives_byte_identical_exports(demo_project, synth, tmp_path):
    path, _ = demo_project
    copy = tmp_path / "rerun.synth"
    shutil.copy(path, copy)
    synth.ok("discover", copy, "--seed", "42")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    synth.ok("export", path, "assignments", "-o", a)
    synth.ok("export", copy, "assignments", "-o", b)
    assert a.read_bytes() == b.read_bytes()


def test_themes_json_quotes_are_verbatim(demo_project, synth):
    path, _ = demo_project
    themes = json.loads(synth.ok("themes", path, "--json"))
    assert themes
    with Project.open(path, create=False) as project:
        texts = {s.name: s.text for s in project.sources()}
    for theme in themes:
        assert theme["label"] and theme["quotes"]
        for q in theme["quotes"]:
            assert texts[q["source_name"]][q["start_char"]:q["end_char"]] == q["text"]


SHARED = DEMO.parent.parent.parent / "shared" / "dev-data" / "napire"


@pytest.mark.skipif(not SHARED.exists(), reason="the shared dev data sits beside the repository only in the workplace")
def test_shared_dev_tables_ingest_with_exact_offsets(tmp_path, synth):
    table = SHARED / "work-in-progress__v_168_dissatisfaction_causes_92.csv"
    path = tmp_path / "napire.synth"
    output = synth.ok("ingest", path, table, "--text-column", "v_168", "--kind", "survey")
    assert "rows as sources" in output
    with Project.open(path, create=False) as project:
        sources = {s.id: s for s in project.sources()}
        assert len(sources) >= 80
        assert all(s.kind == "survey" and s.metadata for s in sources.values())
        for p in project.passages():
            assert sources[p.source_id].text[p.start_char:p.end_char] == p.text


def test_a_rerun_on_an_unchanged_project_keeps_the_codebook(demo_project, synth, tmp_path):
    """Issue 12 item 2: categories reused from the first run come back with their cues, so the
    themes' "barrier cues: …" reasons and the codebook's "Typical wording" survive a second run."""
    path, _ = demo_project
    copy = tmp_path / "rerun.synth"
    shutil.copy(path, copy)
    first = tmp_path / "first.md"
    synth.ok("export", copy, "codebook", "--include-suggested", "-o", first)
    assert "Typical wording" in first.read_text(encoding="utf-8")
    with Project.open(copy, create=False) as project:
        reasons = {t.id: t.category_reasons for t in project.themes()}
    assert any(r.startswith(("barrier cues", "enabler cues", "practice cues", "context cues"))
               for rs in reasons.values() for r in rs)
    again = synth.ok("discover", copy, "--seed", "42")
    assert "categories" in again or "reused" in again
    second = tmp_path / "second.md"
    synth.ok("export", copy, "codebook", "--include-suggested", "-o", second)
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    with Project.open(copy, create=False) as project:
        assert {t.id: t.category_reasons for t in project.themes()} == reasons
