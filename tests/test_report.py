"""The HTML report: one self-contained file, rendered by a real headless Chromium without errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from export_fixture import SOURCES, THEMES, build_review_project
from synth.errors import SynthError
from synth.report import build as report_build
from synth.report import write_report
from synth.store import Project

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_review_project(tmp_path_factory.mktemp("report") / "review.synth")


@pytest.fixture(scope="module")
def report(built, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "report.html"
    with Project.open(built.path, create=False) as project:
        message = write_report(project, out)
    assert "3 themes, 10 passages on the map" in message
    return out


def test_one_self_contained_file_with_plotly_inlined_once(report):
    page = report.read_text(encoding="utf-8")
    assert page.count("Plotly.newPlot(") == 3, "map, sizes by category, matrix"
    assert len(re.findall(r"\* plotly\.js v\d", page)) == 1, "plotly.js is inlined exactly once"
    assert not re.search(r"<script[^>]+src=", page), "no external scripts"
    assert not re.search(r"<link[^>]+href=", page), "no external stylesheets"
    assert report.stat().st_size < 8_000_000


def test_every_theme_with_definition_category_reasons_triangulation_and_cited_quotes(built, report):
    page = report.read_text(encoding="utf-8")
    for label, (status, category, terms, members) in THEMES.items():
        if status != "accepted":
            assert f">{label}<" not in page
            continue
        assert f'id="theme-{built.theme_ids[label]}"' in page
        assert f"Passages about {terms[0]} and {terms[1]}." in page
        assert f"passages read as {category}" in page
    # Each accepted theme of the fixture has one literature passage: too few to corroborate.
    assert "fieldwork only" in page and "too few to corroborate" in page
    assert "Triangulation" in page and "Transferability" in page
    quote = SOURCES["interview_01.txt"][2][1][0]
    assert f"{quote}<cite>— interview_01.txt [44–118]</cite>" in page


def test_markup_in_passages_is_text_not_markup(report):
    page = report.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_map_is_a_seeded_sample_beyond_the_limit(built, tmp_path, monkeypatch):
    monkeypatch.setattr(report_build, "MAP_MAX_POINTS", 4)
    with Project.open(built.path, create=False) as project:
        first, facts = report_build.build_report(project)
        second, _ = report_build.build_report(project)
    assert facts["map_points"] == 4
    assert "A random sample of 4 of 10 passages is shown." in first
    assert first == second


def test_pca_is_deterministic_and_sign_fixed():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 6))
    a, share = report_build.pca_2d(x)
    b, _ = report_build.pca_2d(x[::-1].copy())
    assert np.allclose(a, b[::-1]) and 0 < share[1] <= share[0] < 1
    c, _ = report_build.pca_2d(-x)  # a mirrored cloud gives the same picture, not a flipped one
    assert np.allclose(np.abs(a), np.abs(c))


def test_no_accepted_themes_and_wrong_extension_are_one_clear_error(built, tmp_path):
    with Project.open(built.path, create=False) as project:
        with pytest.raises(SynthError, match=r"ending in \.html"):
            write_report(project, tmp_path / "report.pdf")
    fresh = tmp_path / "fresh.synth"
    with Project.open(fresh) as project, project.transaction():
        project.create_theme(label="Only suggested")
    with Project.open(fresh, create=False) as project:
        with pytest.raises(SynthError, match="--include-suggested"):
            write_report(project, tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


@pytest.mark.browser
def test_renders_in_headless_chromium_without_console_errors(report, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    problems, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=20_000)
            points = page.eval_on_selector_all("#synth-map .scatterlayer .point", "els => els.length")
            cells = page.evaluate("document.getElementById('synth-matrix').data[0].z.flat().length")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert [u for u in requests if not u.startswith("file:")] == [], "the report reaches nothing outside itself"
    assert points == 10, "every codable passage with an embedding is on the map"
    assert cells == 3 * 4
    assert shot.stat().st_size > 50_000


def test_cli_writes_the_report(built, synth, tmp_path):
    out = tmp_path / "report.html"
    output = synth.ok("report", built.path, "-o", out, "--by", "kind", "--include-suggested")
    assert output.startswith("wrote the report (4 themes, 10 passages on the map") and "opens offline" in output
    assert "Local labour market" in out.read_text(encoding="utf-8")
