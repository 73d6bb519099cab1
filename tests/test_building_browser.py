"""Search, building themes and keyboard triage in a real browser (Playwright driving Debian's
Chromium against a real uvicorn server and project file)."""

from __future__ import annotations

import re

from synth.store import Project
from review_fixture import Built, members
from test_review_browser import browser, pytestmark, serve, submit  # noqa: F401  (fixtures and marks)


def _page(browser, url: str):  # noqa: F811
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # CSP violations are console errors; failed requests (but the favicon nobody serves) are errors too.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    page.on("dialog", lambda d: d.accept())
    page.goto(url)
    return page, errors


def test_search_from_the_box_and_new_theme_from_ticked_results(browser, built: Built, serve) -> None:  # noqa: F811
    url = serve(built.path, "alice")
    page, errors = _page(browser, f"{url}/themes/{built.themes['C']}")
    page.fill("#search-input", "train*")
    page.press("#search-input", "Enter")
    page.wait_for_url(re.compile(r".*/search\?q=train"))
    hits = [p for p, t in built.text.items() if "train" in t.lower()]
    assert page.locator("li.hit").count() == len(hits)
    assert page.locator("li.hit mark.match").first.inner_text().lower().startswith("train")
    for pid in hits[:2]:
        page.check(f'#search-results input[name="passage"][value="{pid}"]')
    page.fill("#new-theme-label", "Learning at work")
    page.select_option('#search-results select[name="category"]', "practice")
    page.click("#create-button")
    page.wait_for_url(re.compile(r".*/themes/\d+$"))
    assert page.locator("#theme-label").inner_text().startswith("Learning at work")
    assert "created theme" in page.locator(".flash").inner_text()
    assert page.locator("li.member").count() == 2
    tid = int(page.url.rsplit("/", 1)[1])
    with Project.open(built.path, create=False) as project:
        assert {pid for pid, _, _ in project.theme_members(tid)} == set(hits[:2])
        assert project.theme(tid).category == "practice" and project.theme(tid).origin == "reviewer"
    assert errors == []


def test_coding_from_the_source_view(browser, built: Built, serve) -> None:  # noqa: F811
    url = serve(built.path, "alice")
    sid = built.sources["survey-answers"]
    lone = built.passages["None"][1]  # "my adviser was kind and listened": in no theme
    b = built.themes["B"]
    page, errors = _page(browser, f"{url}/sources/{sid}")
    page.click(f"#p{lone}")  # clicking a passage's text selects it
    assert page.locator(f'input.tick[value="{lone}"]').is_checked()
    page.select_option('#source-form select[name="theme_id"]', str(b))
    submit(page, "#move-button")  # back to the same source page: wait_for_url alone would match the old one
    assert re.match(rf".*/sources/{sid}.*", page.url)
    assert "moved passage" in page.locator(".flash").inner_text()
    assert page.locator(f'mark#p{lone} + a.tag').inner_text() == str(b)
    with Project.open(built.path, create=False) as project:
        assert lone in members(project, b) and project.membership(lone).by_human
    assert errors == []


def test_keyboard_only_triage(browser, built: Built, serve) -> None:  # noqa: F811
    """Themes list → open a theme → accept → next theme → reject → tick a passage → move it →
    search → new theme from a result → help and undo, all from the keyboard."""
    url = serve(built.path, "alice")
    a, b, c = built.themes["A"], built.themes["B"], built.themes["C"]
    page, errors = _page(browser, url + "/")
    kb = page.keyboard

    def go(key: str) -> None:
        """Press a key that loads another page, and wait until it has loaded."""
        with page.expect_navigation():
            kb.press(key)

    kb.press("?")
    assert page.locator("#keys-help").is_visible()
    kb.press("Escape")
    assert not page.locator("#keys-help").is_visible()
    kb.press("j")  # first theme row
    assert page.locator("tr.current").get_attribute("data-theme") == str(a)
    go("Enter")
    assert page.url == f"{url}/themes/{a}"
    go("a")
    assert page.locator("#theme-label .badge").inner_text() == "accepted"
    go("n")
    assert page.url == f"{url}/themes/{b}"
    go("r")
    assert page.locator("#theme-label .badge").inner_text() == "rejected"
    go("p")
    assert page.url == f"{url}/themes/{a}"
    # Move the first passage of theme A to theme C: j selects it, m moves it, the theme by keys.
    kb.press("j")
    first = int(page.locator("li.member.current input[name=passage]").get_attribute("value"))
    kb.press("m")
    assert page.evaluate("document.activeElement.name") == "theme_id"
    assert page.locator(f'li.member.current input[value="{first}"]').is_checked()  # m ticks the current passage
    kb.press("j")  # typing in a field is not a shortcut
    assert page.locator("li.member.current").count() == 1
    assert page.locator("li.member.current input[name=passage]").get_attribute("value") == str(first)
    choose = page.locator('#members-form select[name="theme_id"]')
    for _ in range(10):  # arrow down through the themes to C
        if choose.input_value() == str(c):
            break
        kb.press("ArrowDown")
    assert choose.input_value() == str(c)
    go("Enter")
    assert "moved passage" in page.locator(".flash").inner_text()
    # Search from the keyboard, then make a theme from a result.
    kb.press("/")
    assert page.evaluate("document.activeElement.id") == "search-input"
    kb.type("funding")
    go("Enter")
    assert "/search?q=funding" in page.url
    kb.press("j")
    kb.press("x")
    assert page.locator('input[name="passage"]:checked').count() == 1
    kb.press("t")
    assert page.evaluate("document.activeElement.id") == "new-theme-label"
    kb.type("Money troubles")
    go("Enter")
    assert page.locator("#theme-label").inner_text().startswith("Money troubles")
    go("u")  # undo my last decision
    assert "undid decision" in page.locator(".flash").inner_text()
    # On the themes list, a / r act on the current row.
    page.goto(url + "/")
    rows = page.locator("table.themes tbody tr")
    row_of_c = [rows.nth(i).get_attribute("data-theme") for i in range(rows.count())].index(str(c))
    for _ in range(row_of_c + 1):
        kb.press("j")
    assert page.locator("tr.current").get_attribute("data-theme") == str(c)
    go("a")
    assert page.locator(f'tr[data-theme="{c}"] .badge').inner_text() == "accepted"
    with Project.open(built.path, create=False) as project:
        assert project.theme(a).status == "accepted" and project.theme(b).status == "rejected"
        assert project.theme(c).status == "accepted"
        assert project.membership(first).theme_id == c
        assert [d.action for d in project.decisions()] == ["accept", "reject", "move", "create", "undo", "accept"]
    assert errors == []


def test_keyboard_places_an_unplaced_passage_in_its_nearest_theme(browser, built: Built, serve) -> None:  # noqa: F811
    url = serve(built.path, "alice")
    page, errors = _page(browser, f"{url}/unplaced")
    first = page.locator("li.member").first
    pid, nearest = int(first.locator("input[name=passage]").get_attribute("value")), first.get_attribute("data-nearest")
    assert nearest is not None
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("a")
    assert "moved passage" in page.locator(".flash").inner_text()
    with Project.open(built.path, create=False) as project:
        m = project.membership(pid)
        assert (m.theme_id, m.placed, m.by_human) == (int(nearest), True, True)
    assert errors == []
