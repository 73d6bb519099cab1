"""Stance siblings and label locations in a real browser (Chromium via Playwright) on the demo."""

from __future__ import annotations

import pytest

from synth.store import Project
from test_review_browser import CHROMIUM, browser, serve  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"),
]


def test_theme_page_marks_its_label_and_walks_to_its_sibling(browser, serve, discovered_demo):  # noqa: F811
    with Project.open(discovered_demo, create=False, write=False) as project:
        links = project.stance_links()
        theme_id = min(links)
        other_id = links[theme_id][0]["other_id"]
        label, other_label = project.theme(theme_id).label, project.theme(other_id).label
    url = serve(discovered_demo, "alice")
    page = browser.new_page()
    page.goto(f"{url}/themes/{theme_id}")
    mark = page.locator("mark.label-phrase").first
    assert mark.is_visible()
    assert " ".join(mark.inner_text().lower().split()) == label.lower()
    background = mark.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background  # visibly highlighted
    note = page.locator("#stance-siblings")
    assert note.is_visible() and "Same topic, other stance" in note.inner_text()
    note.get_by_role("link", name=other_label).click()
    page.wait_for_url(f"**/themes/{other_id}")
    assert other_label in page.locator("#theme-label").inner_text()
    assert page.locator("#stance-siblings").get_by_role("link", name=label).is_visible()
    page.close()
