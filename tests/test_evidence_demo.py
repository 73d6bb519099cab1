"""On the demo corpus, end to end from the CLI: every theme's evidence profile agrees with its passages
counted independently, saturation is computed (and plotted) for the interviews, the reviewer's
confidence, appraisals and scope survive a re-run of discover, and the report prints to a PDF."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import DEMO
from synth.store import Project
from test_review_browser import CHROMIUM, CHROMIUM_ARGS, watched  # one owner of how Chromium is found and started

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from conftest import Synth

    synth = Synth()
    path = tmp_path_factory.mktemp("evidence-demo") / "demo.synth"
    synth.ok("ingest", path, DEMO)
    synth.ok("discover", path, "--seed", "42")
    return synth, path


def test_every_theme_has_a_profile_whose_numbers_match_its_passages(demo):
    synth, path = demo
    themes = json.loads(synth.ok("themes", path, "--json"))
    assert themes
    with Project.open(path, create=False) as project:
        passages = {p.id: p for p in project.passages()}
        sources = {s.id: s for s in project.sources()}
        categories = project.passage_categories()
        for t in themes:
            ev = t["evidence"]
            rows = project.theme_evidence_rows(t["id"])
            assert ev["adequacy"]["passages"] == len(rows) == t["size"]
            assert ev["adequacy"]["sources"] == len({r["source_id"] for r in rows}) == t["spread"]["sources"]
            people = set()
            for r in rows:
                source, p = sources[r["source_id"]], passages[r["id"]]
                if source.kind == "interview":
                    people.add((source.name, p.speaker or ""))
                elif source.kind == "survey":
                    people.add(source.metadata.get("respondent_id") or source.name)
            assert ev["adequacy"]["participants"] == len(people)
            own = [categories[r["id"]]["category"] for r in rows if r["id"] in categories]
            assert ev["coherence"]["in_category"] == sum(1 for c in own if c == t["category"])
            assert ev["suggested"] in ("high", "moderate", "low", "very low")
            assert ev["reasons"][0].startswith(ev["suggested"])
            assert 0 < (ev["coherence"]["similarity"] or 0) <= 1


def test_saturation_of_the_interviews(demo):
    synth, path = demo
    result = json.loads(synth.ok("saturation", path, "--json", "--runs", "50", "--seed", "1"))
    (interviews,) = [c for c in result["curves"] if c["group"] == "interview"]
    assert len(interviews["sources"]) == 7 and interviews["cumulative"][-1] == interviews["themes"]
    assert [s["base"] for s in interviews["steps"]] == [4, 5]  # 7 interviews: runs 5–6 and 6–7
    assert interviews["verdict"].startswith(("reached at", "not reached"))
    text = synth.ok("saturation", path, "--by", "kind", "--runs", "20")
    assert "base size 4, run length 2, new-information threshold ≤5%" in text and "interview: 7 sources" in text


def test_a_report_before_any_review_says_so(demo, tmp_path):
    synth, path = demo
    fresh = tmp_path / "fresh.synth"
    shutil.copy(path, fresh)
    out = tmp_path / "before-review.html"
    synth.ok("report", fresh, "-o", out, "--include-suggested")
    page = out.read_text(encoding="utf-8")
    assert "no review decisions yet" in page and "decisions by" not in page


def test_reviewer_judgements_survive_a_rerun_of_discover_and_reach_the_report(demo, tmp_path):
    synth, path = demo
    synth.ok("scope", path, "--kind", "interview", "--kind", "survey")
    synth.ok("source", "appraise", path, "riverside-employer.txt", "--quality", "low", "--note", "one informant")
    theme = json.loads(synth.ok("themes", path, "--json"))[0]
    synth.ok("theme", "confidence", path, theme["id"], "--set", "moderate", "--reason", "Seen in three areas.")
    synth.ok("discover", path, "--seed", "42")
    with Project.open(path, create=False) as project:
        assert project.theme_confidences()[theme["id"]]["level"] == "moderate"
        assert project.source_appraisals()["interviews/riverside-employer.txt"]["quality"] == "low"
        assert project.review_scope() == {"kind": ("interview", "survey")}
    out = tmp_path / "findings.html"
    synth.ok("report", path, "-o", out, "--include-suggested", "--title", "Demo findings")
    page = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 1_000_000, "far below the old 5 MB plotly report"
    assert "Interview sources" in page and "saturation curve for interview sources" in page
    assert "Seen in three areas." in page
    assert "decisions by " in page and "no review decisions yet" not in page
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    problems = []
    pdf = tmp_path / "findings.pdf"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = watched(browser.new_page(viewport={"width": 390, "height": 844}), problems)
            tab.goto(out.as_uri())
            width = tab.evaluate("document.documentElement.scrollWidth")
            tab.pdf(path=str(pdf), format="A4", print_background=True)
        finally:
            browser.close()
    assert problems == [] and width <= 390
    text = " ".join(" ".join(pg.extract_text() or "" for pg in PdfReader(str(pdf)).pages).split())
    with Project.open(path, create=False) as project:
        quoted = project.quotes(theme["id"])[0]
        name = project.source(quoted.source_id).name
    assert " ".join(quoted.text.split())[:80] in text
    assert f"{name} [{quoted.start_char}–{quoted.end_char}]" in text
