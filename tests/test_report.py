"""The report for a policy team: one small self-contained HTML file that renders in a real headless
Chromium without errors, fits a 390 px phone, prints to a PDF whose text holds the quotes and their
citations; and the same structure as a Word document."""

from __future__ import annotations

import re

import numpy as np
import pytest

from export_fixture import SOURCES, THEMES, build_review_project
from synth.errors import SynthError
from synth.report import build as report_build
from synth.report import write_report
from synth.store import Project
from test_review_browser import CHROMIUM, CHROMIUM_ARGS, watched  # one owner of how Chromium is found and started

QUOTE = SOURCES["smith_2019.md"][2][0][0]  # "Language barriers limited access to online job search…"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_review_project(tmp_path_factory.mktemp("report") / "review.synth")


@pytest.fixture(scope="module")
def report(built, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "report.html"
    with Project.open(built.path, create=False) as project:
        message = write_report(project, out, title="Outreach review", author="Evidence team", date="1 December 2026")
    assert "3 themes, 10 passages on the map" in message
    return out


def _citation(built, source: str, index: int) -> str:
    sentence = SOURCES[source][2][index][0]
    start = built.texts[source].index(sentence)
    return f"{source} [{start}–{start + len(sentence)}]"


def _finding(page: str, theme_id: int) -> str:
    start = page.index(f'id="theme-{theme_id}"')
    return page[start:page.index("</article>", start)]


def test_one_small_self_contained_file_without_scripts(report):
    page = report.read_text(encoding="utf-8")
    assert "<script" not in page, "charts are inline SVG: nothing to run, nothing to fail"
    assert not re.search(r"<link[^>]+href=", page), "no external stylesheets"
    assert not re.search(r"""(?:src|href)=["']https?:""", page), "nothing fetched from outside"
    assert report.stat().st_size < 300_000
    assert "<title>Outreach review</title>" in page and "Evidence team · 1 December 2026" in page


def test_findings_grouped_with_confidence_profile_and_visible_cited_quotes(built, report):
    page = report.read_text(encoding="utf-8")
    order = [page.index(f'id="category-{c}"') for c in ("barrier", "enabler", "practice")]
    assert order == sorted(order), "barriers, enablers, then transferable practices"
    for label, (status, category, terms, members) in THEMES.items():
        if status != "accepted":
            assert f">{label}<" not in page
            continue
        finding = _finding(page, built.theme_ids[label])
        assert f"Passages about {terms[0]} and {terms[1]}." in finding
        assert f"passages read as {category}" in finding
        assert "Confidence in this finding:" in finding and "Evidence profile" in finding
        for component in ("methodological limitations", "coherence", "adequacy", "relevance"):
            assert f"<td>{component}</td>" in finding
        quotes = re.findall(r"<blockquote>", finding)
        assert 2 <= len(quotes) <= 3
    # Each accepted theme of the fixture has one literature passage: too few to corroborate.
    assert "fieldwork only" in page and "too few to corroborate" in page
    assert "Triangulation" in page and "Transferability" in page
    language = _finding(page, built.theme_ids["Language barriers"])
    # The citation is printed text after the quote, not a tooltip.
    quote = SOURCES["interview_01.txt"][2][1][0]
    assert f"{quote}<cite>— {_citation(built, 'interview_01.txt', 1)}</cite></blockquote>" in language
    assert "3 passages from 3 sources, 2 participants" in language
    assert "Confidence in this finding: <span class=\"level level-moderate\">moderate</span>" in language


def test_memos_appear_under_their_finding(built, report):
    page = report.read_text(encoding="utf-8")
    outreach = _finding(page, built.theme_ids["Outreach in community venues"])
    assert "Only venues outside Jobcentre offices count." in outreach
    assert "Only venues outside Jobcentre offices count." not in _finding(page, built.theme_ids["Language barriers"])


def test_heatmap_shows_its_numbers_and_the_map_its_variance(built, report):
    page = report.read_text(encoding="utf-8")
    table = page[page.index('<table class="heatmap">'):page.index("</table>", page.index('<table class="heatmap">'))]
    cells = [int(n) for n in re.findall(r'<td class="num"[^>]*>(\d+)</td>', table)]
    assert len(cells) == 3 * 3, "3 accepted findings × interview, literature, survey"
    assert sum(cells) == 3 + 2 + 3
    assert re.search(r"it shows \d+% of their variance \(component 1 \d+%, component 2 \d+%\)", page)
    assert page.count("<circle") >= 10


def test_markup_in_passages_is_text_not_markup(report):
    page = report.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_map_is_a_seeded_sample_beyond_the_limit(built, monkeypatch):
    monkeypatch.setattr(report_build, "MAP_MAX_POINTS", 4)
    with Project.open(built.path, create=False) as project:
        first, facts = report_build.build_report(project, date="2026-12-01")
        second, _ = report_build.build_report(project, date="2026-12-01")
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
        with pytest.raises(SynthError, match=r"ending in \.html or \.docx"):
            write_report(project, tmp_path / "report.pdf")
    fresh = tmp_path / "fresh.synth"
    with Project.open(fresh) as project, project.transaction():
        project.create_theme(label="Only suggested")
    with Project.open(fresh, create=False) as project:
        with pytest.raises(SynthError, match="--include-suggested"):
            write_report(project, tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_word_document_has_the_same_structure(built, tmp_path):
    from docx import Document

    out = tmp_path / "findings.docx"
    with Project.open(built.path, create=False) as project:
        message = write_report(project, out, title="Outreach review", author="Evidence team")
    assert "Word document" in message
    doc = Document(str(out))
    assert doc.core_properties.title == "Outreach review" and doc.core_properties.author == "Evidence team"
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    names = [text for _, text in headings]
    assert names.index("Barriers") < names.index("Enablers") < names.index("Transferable practices")
    assert ("Heading 2", "Language barriers") in headings
    quotes = [p.text for p in doc.paragraphs if p.style.name == "Quote"]
    assert f"{QUOTE}\n— {_citation(built, 'smith_2019.md', 0)}" in quotes
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Confidence in this finding: moderate" in text
    assert "Only venues outside Jobcentre offices count." in text
    profile_tables = [t for t in doc.tables if t.rows[0].cells[0].text == "Component"]
    assert len(profile_tables) == 3
    assert [r.cells[0].text for r in profile_tables[0].rows[1:]] == [
        "methodological limitations", "coherence", "adequacy", "relevance"]


@pytest.mark.browser
def test_renders_prints_and_fits_a_phone_in_headless_chromium(built, report, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    problems, requests = [], []
    pdf = tmp_path / "report.pdf"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = watched(browser.new_page(viewport={"width": 1280, "height": 900}), problems)
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            points = page.eval_on_selector_all("#map svg circle", "els => els.length")
            page.pdf(path=str(pdf), format="A4", print_background=True)
            phone = watched(browser.new_page(viewport={"width": 390, "height": 844}), problems)
            phone.goto(report.as_uri())
            width = phone.evaluate("document.documentElement.scrollWidth")
            overflowing = phone.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll')"
                " && e.getBoundingClientRect().right > window.innerWidth + 1).length")
        finally:
            browser.close()
    assert problems == []
    assert [u for u in requests if not u.startswith("file:")] == [], "the report reaches nothing outside itself"
    assert points == 10, "every codable passage with an embedding is on the map"
    assert width <= 390 and overflowing == 0, "no horizontal overflow on a 390 px phone"
    text = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(str(pdf)).pages).split())
    assert "ﬁ" not in text, "no ligatures in print: the PDF's text can be searched and copied"
    assert QUOTE in text, "a quote survives printing"
    assert _citation(built, "smith_2019.md", 0) in text, "and so does its citation"
    assert "Confidence in this finding" in text and "Saturation" in text


def test_cli_writes_the_report_with_title_author_date(built, synth, tmp_path):
    out = tmp_path / "report.html"
    output = synth.ok("report", built.path, "-o", out, "--by", "source", "--include-suggested", "--title", "T1",
                      "--author", "A1", "--date", "D1")
    assert output.startswith("wrote the report (4 themes, 10 passages on the map") and "opens offline" in output
    page = out.read_text(encoding="utf-8")
    assert "Local labour market" in page and "<h1>T1</h1>" in page and "A1 · D1" in page
    assert '<th class="num">smith_2019.md</th>' in page


def test_a_hostile_title_stays_text_in_the_page_and_its_print_footer(built, tmp_path):
    out = tmp_path / "report.html"
    title = 'Review "one" </style><script>alert(1)</script> & co'
    with Project.open(built.path, create=False) as project:
        write_report(project, out, title=title)
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and page.count("</style>") == 1
    assert "<h1>Review &#34;one&#34; &lt;/style&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</h1>" in page
    assert 'content: "Review \\22 one\\22  \\3c \\2f style\\3e ' in page
