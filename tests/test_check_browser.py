"""The "Check next" page (`synth passage next` in the app) in a real browser (Playwright driving Debian's
Chromium, as test_review_browser.py does): confirm one, correct one, see the next one, by mouse and
by keyboard alone; and its header stays one line on a desktop and within a phone's width."""

from __future__ import annotations

import pytest

from synth.store import Project
from review_fixture import Built, build_review_project
from test_review_browser import CHROMIUM, browser, serve, submit, watched  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def queued(tmp_path) -> tuple[Built, list[int]]:
    """A review project whose machine categories are unsure to a known order: the queue, least sure first."""
    built = build_review_project(tmp_path / "review.synth")
    ids = built.passages["A1"] + built.passages["B"] + built.passages["C"]
    with Project.open(built.path, create=False) as p, p.transaction():
        for i, pid in enumerate(ids):  # the margin grows with i: the first is the least sure
            p.set_passage_category(pid, "barrier", {"barrier": 0.3 + 0.02 * i, "enabler": 0.3, "practice": 0.2,
                                                    "context": 0.2 - 0.02 * i}, [])
    return built, ids


def _listed(page) -> list[int]:
    return [int(i[1:]) for i in page.locator("#check-form li.member").evaluate_all("els => els.map(e => e.id)")]


def _unsure(page) -> list[float]:
    return [float(t.split()[-1]) for t in page.locator("#check-form li.member p.muted.small").all_inner_texts()
            if t.startswith("unsure")]


def _open_check(browser, built: Built, serve, height: int = 900):  # noqa: F811
    """The Check next page at desktop width, and the list its script errors are gathered in."""
    page = browser.new_page(viewport={"width": 1280, "height": height})
    page.set_default_timeout(90_000)  # the first decision loads scikit-learn; the machine may be busy
    errors: list[str] = []
    watched(page, errors, console=False)
    page.goto(f"{serve(built.path, 'alice')}/check")
    return page, errors


def _reviewed(built: Built) -> dict[int, str]:
    with Project.open(built.path, create=False) as p:
        return {pid: r["category"] for pid, r in p.reviewed_categories().items()}


def test_check_next_confirm_correct_and_the_next_one(browser, queued, serve) -> None:  # noqa: F811
    built, ids = queued
    page, errors = _open_check(browser, built, serve)
    listed = _listed(page)
    assert listed[0] == ids[0] and set(ids) <= set(listed)
    # Confirm the first: the category it shows, as shown.
    first = listed[0]
    submit(page, f"#categorise-{first}")
    assert f"set passage {first} to barrier" in page.locator(".flash").inner_text()
    after = _listed(page)
    # Settled, and the queue relearned: the least sure of the rest is on top.
    assert first not in after and after and _unsure(page) == sorted(_unsure(page), reverse=True)
    # Correct the next one.
    second = after[0]
    page.select_option(f"#category-select-{second}", "enabler")
    submit(page, f"#categorise-{second}")
    assert f"set passage {second} to enabler" in page.locator(".flash").inner_text()
    assert second not in _listed(page)
    assert _reviewed(built) == {first: "barrier", second: "enabler"}
    assert errors == []
    page.close()


def test_check_next_by_keyboard_alone(browser, queued, serve) -> None:  # noqa: F811
    built, _ = queued
    page, errors = _open_check(browser, built, serve)
    listed = _listed(page)
    assert page.locator(f"#c{listed[0]}").get_attribute("class").split().count("current") == 1  # opens on the first
    with page.expect_navigation():
        page.keyboard.press("a")  # confirm the current one as shown
    assert f"set passage {listed[0]} to barrier" in page.locator(".flash").inner_text()
    now = _listed(page)
    assert listed[0] not in now and now
    assert "current" in page.locator(f"#c{now[0]}").get_attribute("class")  # the next one is current
    page.keyboard.press("j")  # skip one
    with page.expect_navigation():
        page.keyboard.press("2")  # correct it: the second category, enabler
    assert f"set passage {now[1]} to enabler" in page.locator(".flash").inner_text()
    assert _reviewed(built) == {listed[0]: "barrier", now[1]: "enabler"}
    page.keyboard.press("9")  # no such category: nothing happens
    with page.expect_navigation():
        page.keyboard.press("u")  # undo the last decision from the keyboard
    assert "undid decision" in page.locator(".flash").inner_text()
    assert _reviewed(built) == {listed[0]: "barrier"}
    assert now[1] in _listed(page)  # back in the queue
    page.keyboard.press("?")
    assert "on Check next" in page.locator("#keys-help").inner_text()
    assert errors == []
    page.close()


def test_check_page_header_is_one_line_on_a_desktop_and_fits_a_phone(browser, queued, serve) -> None:  # noqa: F811
    built, ids = queued
    page, errors = _open_check(browser, built, serve, height=800)
    check_url = page.url
    submit(page, f"#categorise-{ids[0]}")  # the undo button joins the header: the widest it gets
    assert page.locator("#undo-button").is_visible()
    tops = page.locator("header.top nav > *, header.top form.search-box, header.top .who").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect()).map(r => [r.top, r.bottom])")
    # One line: every part of the header overlaps the same band (a wrapped part starts below it).
    assert max(t for t, _ in tops) < min(b for _, b in tops), tops
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(check_url)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert page.locator("#undo-button").is_visible() and page.locator("#search-input").is_visible()
    assert errors == []
    page.close()
