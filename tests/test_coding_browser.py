"""Issue 14 in a real browser (Playwright driving Debian's Chromium, as test_review_browser.py does):
correcting a passage's category in the app, and a blind validation round."""

from __future__ import annotations

import pytest

from synth.store import Project
from review_fixture import Built, build_review_project
from test_review_browser import CHROMIUM, browser, serve, submit  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def built(tmp_path) -> Built:
    return build_review_project(tmp_path / "review.synth")


def test_correct_a_category_in_the_app(browser, built: Built, serve) -> None:  # noqa: F811
    url = serve(built.path, "alice")
    theme, pid = built.themes["B"], built.passages["B"][0]
    page = browser.new_page()
    page.set_default_timeout(90_000)  # the first decision loads scikit-learn; the machine may be busy
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/themes/{theme}")
    assert page.locator(f"#category-of-{pid}").inner_text() == "enabler"
    page.select_option(f"#category-select-{pid}", "barrier")
    submit(page, f"#categorise-{pid}")
    assert f"set passage {pid} to barrier" in page.locator(".flash").inner_text()
    assert page.locator(f"#category-of-{pid}").inner_text() == "barrier (reviewer)"
    # The same from the source view.
    page.goto(f"{url}/sources/{built.sources['report-2021']}?passage={built.passages['C'][1]}")
    page.select_option("#source-categorise select", "context")
    submit(page, f"#categorise-{built.passages['C'][1]}")
    assert "to context" in page.locator(".flash").inner_text()
    assert page.locator(f"#category-of-{built.passages['C'][1]}").inner_text() == "context"
    # Undo from the header takes the last one back.
    submit(page, page.get_by_role("button", name="Undo my last categorise"))
    assert "undid decision" in page.locator(".flash").inner_text()
    with Project.open(built.path, create=False) as p:
        reviewed = p.reviewed_categories()
    assert reviewed[pid]["category"] == "barrier" and built.passages["C"][1] not in reviewed
    assert errors == []
    page.close()


def test_blind_validation_round(browser, built: Built, serve) -> None:  # noqa: F811
    url = serve(built.path, "alice")
    page = browser.new_page()
    page.set_default_timeout(90_000)  # the first decision loads scikit-learn; the machine may be busy
    page.goto(f"{url}/validate")
    page.fill("#sample-size", "4")
    page.fill("#sample-seed", "7")
    submit(page, "#sample-button")
    assert "drew validation sample 1: 4 passages" in page.locator(".flash").inner_text()
    with Project.open(built.path, create=False) as p:
        items = p.validation_items(1)
        texts = {it["id"]: p.passage(it["passage_id"]).text for it in items}
    for n, item in enumerate(items, start=1):
        assert page.locator(".validation-item h2").inner_text() == f"Item {n} of 4"
        assert page.locator("#validation-text").inner_text() == texts[item["id"]]
        # Blind: nothing on the form is pre-chosen from synth's suggestion.
        assert page.locator("#validation-theme").input_value() == ""
        assert page.locator("#validation-form input[type=radio]:checked").count() == 0
        theme = str(item["machine_theme_id"]) if item["machine_theme_id"] else "none"
        page.select_option("#validation-theme", theme if n > 1 else "none")
        page.check(f"#validation-category-{item['machine_category']}")
        submit(page, "#validation-submit")
    assert "You have coded all 4 items" in page.locator("#validation-done").inner_text()
    table = page.locator("#agreement").inner_text()
    assert "synth · alice" in table and "synth against alice" in table
    with Project.open(built.path, create=False) as p:
        codes = p.validation_codes(1)
    assert len(codes) == 4 and all(c["reviewer"] == "alice" for c in codes)
    page.close()
