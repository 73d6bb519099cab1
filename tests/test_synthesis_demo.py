"""Triangulation, transferability and the framework matrix on the real demo corpus, with
expectations worked out by hand from the corpus (which sources say what, and their metadata).

Themes are built deterministically, independent of clustering: a small codebook is imported and
passages chosen by their content are placed in its codes with the CLI's review actions.
"""

from __future__ import annotations

import csv
import json

import pytest

from conftest import DEMO
from synth.export.cells import csv_cell
from synth.store import Project

CODEBOOK = """name,definition,category
Young people at risk of NEET,Advisers working with schools and youth services for young people at risk of not being in education or employment,practice
Digital exclusion,Online forms and digital services that people cannot use alone,barrier
Evaluation design,How the evaluations were designed and carried out,context
"""

# theme -> what its passages must contain, and which source kinds they may come from
SELECTION = {
    # "Support for Schools" too: corroboration needs two substantive passages on each side, and the
    # literature names NEET in one passage only.
    "Young people at risk of NEET": (("NEET", "Support for Schools"), ("literature", "interview")),
    "Digital exclusion": (("online form", "online application", "digital"), ("interview", "survey")),
    "Evaluation design": (("qualitative",), ("literature",)),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from conftest import Synth

    synth = Synth()
    tmp = tmp_path_factory.mktemp("synthesis")
    path = tmp / "review.synth"
    (tmp / "codes.csv").write_text(CODEBOOK, encoding="utf-8")
    synth.ok("ingest", path, DEMO)
    synth.ok("codebook", "import", path, tmp / "codes.csv")
    chosen: dict[str, list[tuple[int, str, str]]] = {}
    with Project.open(path, create=False) as project:
        themes = {t.label: t.id for t in project.themes()}
        sources = {s.id: s for s in project.sources()}
        for label, (needles, kinds) in SELECTION.items():
            taken = {pid for picked in chosen.values() for pid, _, _ in picked}  # a passage goes to one theme
            chosen[label] = [
                (p.id, sources[p.source_id].kind, sources[p.source_id].name)
                for p in project.passages(codable_only=True)
                if any(n.lower() in p.text.lower() for n in needles) and sources[p.source_id].kind in kinds
                and p.id not in taken
            ]
    for label, picked in chosen.items():
        for passage_id, _, _ in picked:
            synth.ok("theme", "move", path, str(passage_id), str(themes[label]), "--reviewer", "tester")
    summaries = {t["label"]: t for t in json.loads(synth.ok("themes", path, "--json"))}
    return synth, tmp, path, chosen, summaries


def test_the_selection_is_what_the_corpus_holds(demo):
    _, _, _, chosen, _ = demo
    neet_sources = {name for _, _, name in chosen["Young people at risk of NEET"]}
    assert neet_sources == {"literature/support-for-schools-pathfinder-rr932-summary.txt",
                            "interviews/kingsmoor-jobcentre-manager.txt",
                            "interviews/riverside-youth-hub-work-coach.vtt"}
    assert {kind for _, kind, _ in chosen["Digital exclusion"]} == {"interview", "survey"}
    assert {kind for _, kind, _ in chosen["Evaluation design"]} == {"literature"}


def test_triangulation_labels(demo):
    _, _, _, chosen, summaries = demo
    assert summaries["Young people at risk of NEET"]["triangulation"]["label"] == "corroborated"
    assert summaries["Digital exclusion"]["triangulation"]["label"] == "fieldwork only"
    assert summaries["Evaluation design"]["triangulation"]["label"] == "literature only"
    for label, picked in chosen.items():
        counts = summaries[label]["triangulation"]["passages"]
        for kind in ("literature", "interview", "survey"):
            assert counts.get(kind, 0) == sum(1 for _, k, _ in picked if k == kind), (label, kind)


def test_the_theme_list_counts_in_sql_what_the_summaries_count(demo):
    """The review app's theme list is built from one aggregate query; its figures must be the
    full summaries' and the hand-worked ones."""
    from synth.summary import list_entries, summarise_all

    _, _, path, chosen, _ = demo
    with Project.open(path, create=False) as project:
        entries = {e.label: e for e in list_entries(project)}
        summaries = {s.label: s for s in summarise_all(project)}
    assert entries.keys() == summaries.keys()
    for label, entry in entries.items():
        full = summaries[label]
        assert (entry.size, entry.spread.sources, entry.spread.kinds, entry.triangulation) == \
               (full.size, full.spread.sources, full.spread.kinds, full.triangulation), label
    for label, picked in chosen.items():
        assert entries[label].size == len(picked)
        assert entries[label].spread.sources == len({name for _, _, name in picked})
    assert entries["Digital exclusion"].triangulation["label"] == "fieldwork only"


def test_transferability_of_the_practice(demo):
    _, _, _, _, summaries = demo
    transfer = summaries["Young people at risk of NEET"]["transferability"]
    # Three places: the Support for Schools pathfinder (literature, programme only), Kingsmoor's
    # district partnerships, and Riverside's youth hub.
    assert len(transfer["contexts"]) == 3
    assert transfer["score"] == pytest.approx(1 - 1 / 3, abs=1e-4)  # stored rounded to 4 places
    joined = " ".join(transfer["contexts"])
    assert "Jobcentre Plus Support for Schools" in joined and "Kingsmoor" in joined and "Riverside" in joined
    # Transferability is only claimed for practices.
    assert summaries["Digital exclusion"]["transferability"] == {}


def test_matrix_by_kind_counts_and_quotes(demo):
    synth, tmp, path, chosen, _ = demo
    out = tmp / "matrix.csv"
    synth.ok("export", path, "matrix", "--by", "kind", "-o", out)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["theme"]: r for r in csv.DictReader(fh)}
    with Project.open(path, create=False) as project:
        texts = {s.name: s.text for s in project.sources()}
    for label, picked in chosen.items():
        row = rows[label]
        for kind in ("literature", "interview", "survey"):
            expected = sum(1 for _, k, _ in picked if k == kind)
            assert int(row.get(f"{kind}: passages") or 0) == expected, (label, kind)
            if expected:
                citation = row[f"{kind}: citation"]
                name, _, span = citation.rpartition(" [")
                start, end = (int(x) for x in span.rstrip("]").replace("–", "-").split("-"))
                assert csv_cell(texts[name][start:end]) == row[f"{kind}: quote"]  # OWASP mark on '-…' quotes


def test_every_move_is_in_the_log(demo):
    synth, _, path, chosen, _ = demo
    log = json.loads(synth.ok("log", path, "--json"))
    moves = [d for d in log if d["action"] == "move"]
    assert len(moves) == sum(len(p) for p in chosen.values())
    assert all(d["reviewer"] == "tester" for d in moves)
