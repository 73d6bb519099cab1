"""A category click in a real browser (Playwright driving Debian's Chromium, as test_review_browser.py
does) against the review app under uvicorn, on the real demo project: the click answers while the
relearn has not even started, the page says the suggestions are being updated, and once the worker
ends an untouched passage shows the suggestion the synchronous relearn would have made."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import copy_project
from test_review_browser import CHROMIUM, browser, submit  # noqa: F401  (fixtures)
from test_review_relearn import WAIT, Held, _learned, _passages, _synchronous

from synth import relearn
from synth.review.app import create_app
from synth.store import Project

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"),
]


def _serve(app) -> tuple[str, object, threading.Thread]:
    """uvicorn on a free 127.0.0.1 port with the app's lifespan on, as `synth review` runs it."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the review server did not start"
        time.sleep(0.02)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def test_a_category_click_answers_at_once_and_the_suggestions_follow(browser, discovered_demo: Path,  # noqa: F811
                                                                       tmp_path: Path) -> None:
    demo = copy_project(discovered_demo, tmp_path / "demo.synth")
    app = create_app(demo, reviewer="alice")
    relearner = app.state.relearner
    held = Held(relearner)
    (pid, sid, category), = _passages(demo, 1)
    before = _learned(demo)
    with Project.open(demo, create=False, write=False) as p:
        current = {q: c.category for q, c in relearn.effective_categories(p).items()}
    url, server, thread = _serve(app)
    page = browser.new_page()
    page.set_default_timeout(WAIT * 1000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{url}/sources/{sid}?passage={pid}")
        page.select_option("#source-categorise select", category)
        submit(page, f"#categorise-{pid}")
        # Answered, with the relearn held before it started: the click does not wait for it.
        assert held.entered.wait(WAIT) and not held.release.is_set()
        assert page.locator(".flash").inner_text() == f"set passage {pid} to {category}"
        assert page.locator("#relearn-status").inner_text().startswith("updating suggestions")
        expected, changed = _synchronous(demo, tmp_path / "sync.synth")
        held.release.set()
        assert relearner.wait_idle(WAIT)
        page.reload()
        assert page.locator("#relearn-status").inner_text() == f"{changed} suggestion{'' if changed == 1 else 's'} updated"
        # An untouched passage whose category the relearn changed shows the new suggestion, as learned.
        moved = sorted(q for q in expected if q != pid and expected[q] != current.get(q))
        assert moved
        q = moved[0]
        with Project.open(demo, create=False, write=False) as p:
            q_source = p.passage(q).source_id
        page.goto(f"{url}/sources/{q_source}?passage={q}")
        label = page.locator("#source-categorise label").inner_text()
        assert re.search(rf"{expected[q]}\s*\(learned\)", label), label
        assert page.locator("#relearn-status").count() == 0  # the news was said once
        assert errors == []
    finally:
        page.close()
        server.should_exit = True
        thread.join(60)
    assert _learned(demo) == expected and before == {}
    # The app's shutdown stopped the worker; an idle worker has ended already and cleared its thread.
    worker = relearner._thread
    if worker is not None:
        worker.join(WAIT)
    assert relearner.stopping and (worker is None or not worker.is_alive())
