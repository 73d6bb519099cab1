"""The review app relearns the category suggestions in the background (synth/review/relearner.py):
a decision answers at once; the suggestions follow, written only for the state they were learned
from; decisions made meanwhile coalesce into one more relearn and are never lost; a failure is
shown; a large project waits for discover; shutdown stops the worker.

On the real demo project (`synth ingest` + `synth discover`, the bundled model) over real HTTP
(httpx against the ASGI app) and real SQLite files. Where a test needs a relearn to be under way
at a known moment, it holds the app's real `prepare` (relearn.prepare_refresh) on an event: the
learning itself is never replaced, except where a failure is the point.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import copy_project
from starlette.testclient import TestClient

from synth import relearn
from synth.review import actions
from synth.review.app import create_app
from synth.store import Project

pytestmark = pytest.mark.slow  # the demo project's discover, and a relearn or two each
BASE = "http://127.0.0.1"
WAIT = 300  # seconds a relearn may take on a busy 2-core machine


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def demo(discovered_demo: Path, tmp_path: Path) -> Path:
    return copy_project(discovered_demo, tmp_path / "demo.synth")


class Held:
    """The relearner's real `prepare`, held on an event before (or after) it computes; `reading`: held
    inside the read transaction it computes in, as a relearn is for seconds on a large project."""

    def __init__(self, relearner, *, after: bool = False, reading: bool = False) -> None:
        self.real, self.after, self.reading = relearner.prepare, after, reading
        self.entered, self.release = threading.Event(), threading.Event()
        self.calls = 0
        relearner.prepare = self

    def __call__(self, project: Project):
        self.calls += 1
        if self.reading:
            with project.snapshot():
                project.latest_run()  # the read transaction has begun: it sees the project as now
                self._hold()
                return self.real(project)
        result = self.real(project) if self.after else None
        self._hold()
        return result if self.after else self.real(project)

    def _hold(self) -> None:
        self.entered.set()
        assert self.release.wait(WAIT), "the test never released the relearn"


def _passages(path: Path, count: int) -> list[tuple[int, int, str]]:
    """(passage id, source id, a category other than its current one) of `count` codable passages."""
    with Project.open(path, create=False, write=False) as p:
        current = relearn.effective_categories(p)
        chosen = [x for x in p.passages(codable_only=True) if x.id in current][:count]
    other = {"barrier": "enabler", "enabler": "barrier", "practice": "barrier", "context": "barrier"}
    return [(x.id, x.source_id, other[current[x.id].category]) for x in chosen]


def _learned(path: Path) -> dict[int, str]:
    with Project.open(path, create=False, write=False) as p:
        return {pid: r["category"] for pid, r in p.learned_categories().items()}


def _synchronous(path: Path, to: Path) -> tuple[dict[int, str], int]:
    """What the synchronous path (`synth passage categorise`) writes, run on a copy of `path` now."""
    copy = copy_project(path, to)
    with Project.open(copy, create=False) as p, p.transaction():
        changed = relearn.refresh_learned_categories(p)
    return _learned(copy), changed


async def _token(client: httpx.AsyncClient, url: str) -> tuple[str, str]:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    return r.text, re.search(r'<meta name="csrf-token" content="([^"]+)">', r.text).group(1)


def _status(text: str) -> str | None:
    m = re.search(r'id="relearn-status"[^>]*>([^<]*)<', text)
    return m.group(1).strip() if m else None


async def _categorise(client: httpx.AsyncClient, pid: int, sid: int, category: str) -> httpx.Response:
    _, token = await _token(client, f"/sources/{sid}")
    r = await client.post(f"/passages/{pid}/categorise",
                          data={"csrf_token": token, "category": category, "back": f"/sources/{sid}"})
    assert r.status_code == 303, r.text
    return r


@pytest.mark.anyio
async def test_a_decision_answers_before_the_relearn_and_the_suggestions_follow(demo: Path, tmp_path: Path) -> None:
    app = create_app(demo, reviewer="alice")
    relearner = app.state.relearner
    held = Held(relearner)
    (pid, sid, category), = _passages(demo, 1)
    before = _learned(demo)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        r = await _categorise(client, pid, sid, category)
        # The answer came while the relearn is held: the click never waits for it.
        assert held.entered.wait(WAIT) and not held.release.is_set()
        text, _ = await _token(client, r.headers["location"])
        # The decision's own message, with no count of suggestions any more (it would have to wait).
        assert re.search(r'<p class="flash"[^>]*>([^<]*)<', text).group(1) == f"set passage {pid} to {category}"
        assert _status(text).startswith("updating suggestions")
        assert _learned(demo) == before  # nothing relearned yet
        expected, changed = _synchronous(demo, tmp_path / "sync.synth")
        held.release.set()
        assert relearner.wait_idle(WAIT)
        text, _ = await _token(client, f"/sources/{sid}")
        assert _status(text) == (f"{changed} suggestion{'' if changed == 1 else 's'} updated" if changed
                                 else "suggestions relearned: none changed")
        text, _ = await _token(client, f"/sources/{sid}")
        assert _status(text) is None  # said once
    after = _learned(demo)
    assert after == expected  # what the synchronous relearn makes, passage for passage
    moved = [q for q in after if q != pid and before.get(q) != after[q]]
    assert changed > 0 and moved  # untouched passages' suggestions changed
    with Project.open(demo, create=False, write=False) as p:
        assert p.reviewed_categories()[pid]["category"] == category
    assert relearner.relearns == 1 and relearner.stop()


@pytest.mark.anyio
async def test_decisions_during_a_relearn_survive_it_and_coalesce_into_one_more(demo: Path, tmp_path: Path) -> None:
    app = create_app(demo, reviewer="alice")
    relearner = app.state.relearner
    held = Held(relearner, after=True)  # the first relearn has computed from the first decision alone
    (p1, s1, c1), (p2, s2, c2), (p3, s3, c3) = _passages(demo, 3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        await _categorise(client, p1, s1, c1)
        assert held.entered.wait(WAIT)
        await _categorise(client, p2, s2, c2)  # both while the first relearn is under way
        await _categorise(client, p3, s3, c3)
        expected, _ = _synchronous(demo, tmp_path / "sync.synth")  # from all three decisions
        held.release.set()
        assert relearner.wait_idle(WAIT)
    assert held.calls == 2  # the stale one, then one more for the two decisions made meanwhile
    assert _learned(demo) == expected
    with Project.open(demo, create=False, write=False) as p:
        reviewed = p.reviewed_categories()
        assert {q: reviewed[q]["category"] for q in (p1, p2, p3)} == {p1: c1, p2: c2, p3: c3}
        assert not {p2, p3} & set(p.learned_categories())  # the stale relearn (which suggested for them) never landed
    assert relearner.stop()


@pytest.mark.anyio
async def test_a_decision_answers_at_once_while_a_relearn_reads(demo: Path, tmp_path: Path) -> None:
    """A relearn reads in one read transaction for seconds; the next decision's save must not wait for
    it (closing the project once waited up to SQLite's 30 s busy timeout for readers to finish)."""
    app = create_app(demo, reviewer="alice")
    relearner = app.state.relearner
    held = Held(relearner, reading=True)
    (p1, s1, c1), (p2, s2, c2) = _passages(demo, 2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        await _categorise(client, p1, s1, c1)
        assert held.entered.wait(WAIT)  # the relearn's read transaction is open
        started = time.perf_counter()
        await _categorise(client, p2, s2, c2)
        assert time.perf_counter() - started < 10  # far below the busy timeout it used to wait for
        expected, _ = _synchronous(demo, tmp_path / "sync.synth")
        held.release.set()
        assert relearner.wait_idle(WAIT)
    assert held.calls == 2 and _learned(demo) == expected
    assert relearner.stop()


def test_a_stale_relearn_is_not_written(demo: Path) -> None:
    (p1, _, c1), (p2, _, c2) = _passages(demo, 2)
    with Project.open(demo, create=False) as p:
        actions.categorise(p, [p1], c1, reviewer="alice")
    with Project.open(demo, create=False, write=False) as p:
        refresh = relearn.prepare_refresh(p)
    assert refresh is not None and p2 in refresh.learned
    with Project.open(demo, create=False) as p:
        actions.categorise(p, [p2], c2, reviewer="bob")  # a newer decision
        before = p.learned_categories()
        with p.transaction():
            assert not relearn.apply_refresh(p, refresh)
        assert p.learned_categories() == before
        assert p.reviewed_categories()[p2]["category"] == c2
        actions.undo(p, reviewer="bob")  # back to the state it was learned from: now it may be written
        with p.transaction():
            assert relearn.apply_refresh(p, refresh)
        assert {q: r["category"] for q, r in p.learned_categories().items()} == {
            q: r.category for q, r in refresh.learned.items()}


@pytest.mark.anyio
async def test_a_failed_relearn_is_shown_and_logged_and_the_decision_kept(demo: Path, caplog) -> None:
    app = create_app(demo, reviewer="alice")
    relearner = app.state.relearner
    real = relearner.prepare

    def broken(project: Project):
        raise RuntimeError("out of memory in the learner")

    relearner.prepare = broken
    (p1, s1, c1), (p2, s2, c2) = _passages(demo, 2)
    before = _learned(demo)
    with caplog.at_level(logging.ERROR, logger="synth.review"):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            await _categorise(client, p1, s1, c1)
            assert relearner.wait_idle(WAIT)
            for _ in range(2):  # shown until a relearn succeeds, not once
                text, _ = await _token(client, "/")
                assert "your decisions are saved, but updating the suggestions failed" in _status(text)
                assert "RuntimeError" in _status(text) and "out of memory" not in text  # details in the log only
            relearner.prepare = real
            await _categorise(client, p2, s2, c2)
            assert relearner.wait_idle(WAIT)
            text, _ = await _token(client, "/")
            assert "updated" in _status(text) or "none changed" in _status(text)
    assert any("relearning the category suggestions" in r.getMessage() and r.exc_info for r in caplog.records)
    assert before == {} and _learned(demo)  # the second relearn wrote
    with Project.open(demo, create=False, write=False) as p:
        assert {q: p.reviewed_categories()[q]["category"] for q in (p1, p2)} == {p1: c1, p2: c2}
    assert relearner.stop()


@pytest.mark.anyio
async def test_a_project_over_the_limit_relearns_at_the_next_discover(demo: Path, monkeypatch) -> None:
    monkeypatch.setattr(relearn, "REFRESH_LIMIT", 10)  # the demo's few hundred passages are "large" here
    app = create_app(demo, reviewer="alice")
    (pid, sid, category), = _passages(demo, 1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        r = await _categorise(client, pid, sid, category)
        text, _ = await _token(client, r.headers["location"])
        assert "at the next `synth discover`" in _status(text) and "up to 10 passages" in _status(text)
    assert app.state.relearner.relearns == 0 and _learned(demo) == {}


def test_shutdown_stops_the_worker_and_nothing_is_written_after(demo: Path) -> None:
    app = create_app(demo, reviewer="alice")
    relearner = app.state.relearner
    held = Held(relearner, after=True)
    (pid, sid, category), = _passages(demo, 1)

    def release_once_stopping() -> None:  # the relearn ends only after shutdown has begun
        while not relearner.stopping:
            time.sleep(0.01)
        held.release.set()

    with TestClient(app, base_url=BASE) as client:  # runs the app's lifespan, as uvicorn does
        token = re.search(r'name="csrf-token" content="([^"]+)"', client.get(f"/sources/{sid}").text).group(1)
        r = client.post(f"/passages/{pid}/categorise", data={"csrf_token": token, "category": category},
                        follow_redirects=False)
        assert r.status_code == 303
        assert held.entered.wait(WAIT)
        worker = relearner._thread  # the worker clears this itself when it ends
        threading.Thread(target=release_once_stopping, daemon=True).start()
    worker.join(WAIT)  # shutdown did not wait for the computation, only for any write
    assert not worker.is_alive()
    assert _learned(demo) == {}  # computed, but not written after the stop
    with Project.open(demo, create=False, write=False) as p:
        assert p.reviewed_categories()[pid]["category"] == category


def test_the_limit_is_exactly_the_codable_passage_count(demo: Path, monkeypatch) -> None:
    """The app asks on every decision whether the project is over the limit; it reads at most the
    limit's worth of rows, and answers as counting every codable passage would."""
    with Project.open(demo, create=False, write=False) as p:
        codable = p.counts()["codable"]
        for limit, over in ((codable - 1, True), (codable, False), (codable + 1, False), (0, True)):
            monkeypatch.setattr(relearn, "REFRESH_LIMIT", limit)
            assert relearn.too_large_to_refresh(p) is over, limit
