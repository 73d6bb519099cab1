"""The review app in a real browser: Playwright driving Debian's Chromium (headless) against a real
uvicorn server on 127.0.0.1 and a real project file. The main review path, end to end."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from synth.review.app import create_app
from synth.store import Project
from review_fixture import Built, members

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium "
                                                     "(apt-get install chromium)"),
]


def watched(page, problems: list[str], *, console: bool = True):
    """`page`, with its uncaught script errors (and, with `console`, console errors) added to `problems`."""
    page.on("pageerror", lambda e: problems.append(str(e)))
    if console:
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    return page


def submit(page, target) -> None:
    """Click `target` (a selector or a locator) that posts a form, and wait for the page the post leads to.
    An assertion straight after a bare click can read the page being left: a race that failed CI once."""
    with page.expect_navigation():
        (page.locator(target) if isinstance(target, str) else target).click()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Path, str], str]]:
    """Start `synth review`'s app with uvicorn on a free 127.0.0.1 port; returns its base URL."""
    import uvicorn

    servers = []

    def start(path: Path, reviewer: str) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(create_app(path, reviewer=reviewer), log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append((server, thread, sock))
        deadline = time.monotonic() + 60  # generous: a loaded 2-core machine starts threads slowly
        while not server.started:
            assert time.monotonic() < deadline, "the review server did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread, sock in servers:
        server.should_exit = True
        thread.join(5)
        sock.close()


def test_review_main_path(browser, built: Built, serve, synth) -> None:
    url = serve(built.path, "alice")
    a, b, c = built.themes["A"], built.themes["B"], built.themes["C"]
    context = browser.new_context()
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())  # the "are you sure?" confirmations
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Themes list → a theme.
    page.goto(url + "/")
    assert page.locator("table.themes tbody tr").count() == 3
    page.get_by_role("link", name="Staffing").click()
    page.wait_for_url(f"{url}/themes/{a}")
    assert page.locator("li.member").count() == 6
    assert page.locator("#triangulation").inner_text().startswith("corroborated")

    # A passage → its source, highlighted in context.
    first = page.locator("li.member").first
    passage_text = first.locator("blockquote").inner_text()
    first.locator("a.open-source").click()
    page.wait_for_url(re.compile(r".*/sources/\d+\?passage=\d+#p\d+$"))
    target = page.locator("mark.target")
    assert target.count() == 1 and target.inner_text() == passage_text
    assert target.is_visible()
    assert page.locator("mark.coded").count() >= 3
    page.go_back()

    # Rename, accept.
    page.fill("#label-input", "Staff shortages & recruitment")
    submit(page, "#rename-button")
    assert page.locator("#theme-label").inner_text().startswith("Staff shortages & recruitment")
    submit(page, "#accept-button")
    assert page.locator("#theme-label .badge").inner_text() == "accepted"
    assert "accepted theme" in page.locator(".flash").inner_text()

    # Move a passage of theme B into theme C.
    page.goto(f"{url}/themes/{b}")
    moved = built.passages["B"][0]
    page.check(f'input[name="passage"][value="{moved}"]')
    page.select_option('#members-form select[name="theme_id"]', str(c))
    submit(page, "#move-button")
    assert "moved passage" in page.locator(".flash").inner_text()
    assert page.locator(f'input[name="passage"][value="{moved}"]').count() == 0

    # Split the accepted theme by similarity into 2.
    page.goto(f"{url}/themes/{a}")
    page.fill("#k-input", "2")
    submit(page, "#split-button")
    with Project.open(built.path, create=False) as project:
        parts = [t.id for t in project.themes() if t.parent_id == a]
    assert len(parts) == 2
    # the browser lands on the first part, not on the retired parent
    assert page.url.endswith(f"/themes/{min(parts)}")
    assert "Split from" in page.locator("main").inner_text()

    # Merge theme B into one of the parts, from the themes list.
    page.goto(url + "/")
    page.check(f'input[name="theme"][value="{b}"]')
    page.select_option('select[name="target"]', str(parts[0]))
    page.click("#merge-form button[type=submit]")
    page.wait_for_url(f"{url}/themes/{parts[0]}")
    assert "merged theme(s)" in page.locator(".flash").inner_text()

    assert errors == []
    context.close()

    # The project file holds every decision …
    with Project.open(built.path, create=False) as project:
        assert project.theme(a).label == "Staff shortages & recruitment" and project.theme(a).status == "retired"
        assert project.membership(moved).theme_id == c and project.membership(moved).by_human
        assert project.theme(b).status == "merged" and project.theme(b).merged_into == parts[0]
        assert set(built.passages["A1"] + built.passages["A2"]) <= members(project, parts[0]) | members(project, parts[1])
        assert set(built.passages["B"]) - {moved} <= members(project, parts[0])
        assert [d.action for d in project.decisions()] == ["rename", "accept", "move", "split", "merge"]
        assert {d.reviewer for d in project.decisions()} == {"alice"}
    # … and `synth log` prints them.
    log = synth.ok("log", built.path)
    for action in ("rename", "accept", "move", "split", "merge"):
        assert re.search(rf"alice\s+{action}", log), action


def test_two_browser_sessions_cannot_overwrite_each_other(browser, built: Built, serve) -> None:
    a = built.themes["A"]
    alice_url, bob_url = serve(built.path, "alice"), serve(built.path, "bob")
    alice, bob = browser.new_context().new_page(), browser.new_context().new_page()
    alice.goto(f"{alice_url}/themes/{a}")
    bob.goto(f"{bob_url}/themes/{a}")
    alice.fill("#label-input", "Alice's label")
    alice.click("#rename-button")
    bob.fill("#label-input", "Bob's label")
    bob.click("#rename-button")
    assert "This theme was changed by someone else; reload the page" in bob.locator(".message").inner_text()
    bob.click("text=Back and reload the page")
    assert bob.locator("#theme-label").inner_text().startswith("Alice's label")
    with Project.open(built.path, create=False) as project:
        assert project.theme(a).label == "Alice's label"
        assert [(d.reviewer, d.action) for d in project.decisions()] == [("alice", "rename")]


def test_hostile_source_text_is_shown_as_text(browser, built: Built, serve) -> None:
    url = serve(built.path, "alice")
    page = browser.new_context().new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}/sources/{built.sources['hostile-notes']}")
    text = page.locator("article.source-text").inner_text()
    assert '<script>alert("pwned")</script>' in text and "<img src=x onerror=alert(1)>" in text
    assert page.locator("article.source-text script, article.source-text img, article.source-text b").count() == 0
    page.goto(f"{url}/themes/{built.themes['B']}")
    assert "<script>" in page.locator("section.members").inner_text()
    assert dialogs == []
