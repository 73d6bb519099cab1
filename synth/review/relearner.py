"""The review app relearns in the background: a decision that teaches answers at once, and the
learned category suggestions follow it a few seconds later (`synth.relearn` does the learning).

One `Relearner` per app (made by `create_app`, stopped by its lifespan), with at most one worker
thread: a decision starts it when none runs, and it ends when nothing is left to relearn. Decisions that arrive while a relearn runs coalesce: whatever their
number, one more relearn follows, from the project as it is then. Stopping waits for a write under
way, never for the learning (Ctrl-C is not held up; the result is dropped).

A relearn reads the project through its own read-only connection, inside one read transaction (a
few seconds at 10,000 passages, while the app's requests and a CLI command go on writing), then
writes every suggestion in one short transaction, and only if nothing that teaches changed in the
meantime (`relearn.apply_refresh` compares `relearn.learning_state`): a newer decision, an undo or
a discover makes it start again instead, so stale suggestions never land over newer ones. The
reviewer's decisions are in the project before the worker starts; a failure here is logged and
shown on the pages, and costs only the suggestions' freshness.

Projects over `relearn.REFRESH_LIMIT` codable passages are not relearned here (as before): their
suggestions follow at the next discover, and the pages say so.

Why a thread: the learning is mostly numpy and scikit-learn, which leave the interpreter's lock
while they compute, and a thread shares the loaded libraries and the project's writer lock with the
app. Pages still pay for the lock while a relearn runs (a light page: median 0.13 s against 0.07 s,
p90 0.8 s on a loaded 2-core machine; docs/benchmarks.md, "The app relearns in the background");
computing in a worker process is the measured next step.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import relearn
from ..errors import ProjectBusyError, SynthError
from ..store import Project

log = logging.getLogger("synth.review")

RUNNING = "updating suggestions…"
BUSY_RETRY_SECONDS = 1.0  # between tries to write while another synth command holds the project


@dataclass(frozen=True)
class Status:
    """What the pages say about the suggestions: `kind` is "running", "done", "deferred" or "failed"."""

    kind: str
    message: str


class Relearner:
    """The app's background relearning. `prepare` and `apply` are `relearn.prepare_refresh` and
    `relearn.apply_refresh` (given, as a scikit-learn estimator is given its parts)."""

    def __init__(self, project_path: Path, *,
                 prepare: Callable[[Project], relearn.Refresh | None] = relearn.prepare_refresh,
                 apply: Callable[[Project, relearn.Refresh], bool] = relearn.apply_refresh) -> None:
        self.project_path = Path(project_path)
        self.prepare = prepare
        self.apply = apply
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pending = False    # a decision asked for a relearn that has not started yet
        self._running = False    # a relearn is under way
        self._writing = False    # ... and in its write (one short transaction)
        self._stopping = False
        self._fitted: str | None = None  # learning_state of the suggestions this app last wrote
        self._news: Status | None = None  # the last relearn's outcome, shown on the next page
        self.relearns = 0        # relearns computed (for the tests and the benchmark)

    # -- the requests' side ------------------------------------------------------------------------

    def decision_made(self, project: Project) -> None:
        """A request made a decision that may teach (`project`: still open, after its transaction)."""
        if relearn.too_large_to_refresh(project):
            with self._cond:
                self._news = Status("deferred", f"the suggestions follow this at the next `synth discover`: the app "
                                                f"relearns projects of up to {relearn.REFRESH_LIMIT:,} passages")
            return
        with self._cond:
            if self._stopping:
                return
            self._pending = True
            self._news = None  # an earlier outcome is out of date now
            if self._thread is None:
                # A daemon, so a process that never ran the app's shutdown (a test client) can still
                # exit; `stop` is the clean way, and no write starts after it. The worker ends when it
                # has nothing left to do (a test client's app is never shut down), and the next
                # decision starts another.
                self._thread = threading.Thread(target=self._work, name="synth-relearn", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def status(self) -> Status | None:
        """For a page: "updating…" while a relearn is asked for or running, else the last outcome,
        once (a failure stays until a relearn succeeds)."""
        with self._cond:
            if self._pending or self._running:
                return Status("running", RUNNING)
            news = self._news
            if news is not None and news.kind != "failed":
                self._news = None
            return news

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no relearn is asked for or running; False if `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the worker: nothing is written after this returns. A write under way is waited for
        (one short transaction); a relearn being computed is not (it cannot be cut short: the daemon
        thread drops its result when it ends, or with the process), so Ctrl-C is not held up by
        seconds of learning. False if a write was still unfinished after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._stopping = True
            self._pending = False
            self._cond.notify_all()
            while self._writing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            thread = self._thread
        if thread is not None:
            thread.join(0.2)  # an idle worker ends at once
        return True

    # -- the worker --------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                if self._stopping or not self._pending:
                    self._thread = None  # idle: the next decision starts a new worker (under this lock)
                    return
                self._pending, self._running = False, True
            news: Status | None
            try:
                news = self._relearn_once()
            except Exception as exc:  # never the decision: it was saved before the worker started
                log.exception("relearning the category suggestions of %s failed", self.project_path)
                why = str(exc) if isinstance(exc, SynthError) else f"an internal error ({type(exc).__name__}; " \
                                                                   "the server's log has the details)"
                news = Status("failed", f"your decisions are saved, but updating the suggestions failed: {why}. "
                                        "They are relearned after your next decision, or at the next discover.")
            with self._cond:
                self._running = False
                if news is not None:
                    self._news = news
                self._cond.notify_all()

    def _relearn_once(self) -> Status | None:
        with Project.open(self.project_path, create=False, write=False) as project:
            with project.snapshot():
                if self._fitted is not None and relearn.learning_state(project) == self._fitted:
                    return None  # nothing that teaches changed (a theme accepted without a category)
            refresh = self.prepare(project)
        with self._cond:
            self.relearns += 1
        if refresh is None:
            return None  # nothing to learn from yet (no discover, no vectors)
        with self._cond:
            if self._stopping:
                return None
            self._writing = True
        try:
            project = self._writer()
            if project is None:
                return None  # stopping
            with project, project.transaction():
                written = not self._stopping and self.apply(project, refresh)
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
        if not written:
            with self._cond:
                if not self._stopping:
                    self._pending = True  # something taught meanwhile: learn again from the project as it is
            return None
        self._fitted = refresh.state
        n = refresh.changed
        return Status("done", f"{n} suggestion{'' if n == 1 else 's'} updated" if n else
                              "suggestions relearned: none changed")

    def _writer(self) -> Project | None:
        """The project opened to write; while another synth command (a discover) holds it, try again."""
        while True:
            if self._stopping:
                return None
            try:
                return Project.open(self.project_path, create=False)
            except ProjectBusyError:
                time.sleep(BUSY_RETRY_SECONDS)
