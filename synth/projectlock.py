"""One writer at a time per project, across processes: the lock file beside the project.

Every command that changes a project holds an OS lock on `PROJECT.lock` from opening the project to
closing it, so two commands never compute from the same state and then both write (two first
`discover`s would each create the themes; two `ingest`s of one folder would each store every
source). Readers take no lock: SQLite's WAL lets them read while a writer works.

The lock file also says who holds it (for the "try again" message) and the state of the project
file that synth last verified (`verified`, see `file_state`): an unchanged file need not be
integrity-checked again, which at 100,000 passages takes seconds.

Why not the `filelock` library: it cannot tell a waiting command which process holds the lock, and
the message names it. The lock is `flock` (whole-file, released by the OS when the process dies,
independent of SQLite's own `fcntl` locks on the project file); on Windows, `msvcrt.locking`.
"""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

# Windows locks are mandatory: lock one byte far past the JSON, so others can still read who holds it.
_WINDOWS_LOCK_OFFSET = 1 << 20
_CONTENDED = {errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK}


class LockBusy(Exception):
    """Another process holds the lock; `pid` is who, when it said."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(pid)
        self.pid = pid


def lock_path(project: Path) -> Path:
    return Path(str(project) + ".lock")


def file_state(project: Path) -> list | None:
    """What changes whenever the project's bytes change: identity, size and change time of the file
    and of a non-empty WAL (ctime cannot be set back by a user, unlike mtime). None if unreadable."""
    try:
        st = os.stat(project)
    except OSError:
        return None
    state = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    try:
        wal = os.stat(str(project) + "-wal")
    except OSError:
        return state
    if wal.st_size:
        state += [wal.st_ino, wal.st_size, wal.st_mtime_ns, wal.st_ctime_ns]
    return state


def _read(fd_or_path: int | Path) -> dict:
    try:
        if isinstance(fd_or_path, int):
            os.lseek(fd_or_path, 0, os.SEEK_SET)
            raw = os.read(fd_or_path, 4096)
        else:
            with open(fd_or_path, "rb") as fh:
                raw = fh.read(4096)
        value = json.loads(raw.decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def verified_state(project: Path) -> list | None:
    """The project file state last verified by a synth writer (read without locking)."""
    state = _read(lock_path(project)).get("verified")
    return state if isinstance(state, list) else None


@dataclass
class _Held:
    fd: int
    path: Path
    count: int
    previous: list | None  # the verified state found on taking the lock


# One process may open a project several times (the review app's threads, a test beside the CLI it
# calls in-process); the OS lock is per process, so those share it. SQLite serialises their writes.
_held: dict[str, _Held] = {}
_held_guard = threading.Lock()


class WriterLock:
    """The project's writer lock, held from `acquire` to `release`."""

    def __init__(self, project: Path) -> None:
        self.project = Path(project)
        self.path = lock_path(self.project)
        self._key = os.path.realpath(self.path)
        self._mine = False

    def acquire(self, wait: float) -> None:
        """Take the lock, waiting up to `wait` seconds; LockBusy if another process keeps it.
        OSError if the lock file cannot be made (a read-only folder)."""
        with _held_guard:
            held = _held.get(self._key)
            if held is not None:
                held.count += 1
                self._mine = True
                return
        deadline = time.monotonic() + wait
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                if _try_lock(fd) and self._still_at_path(fd):
                    break
            except BaseException:
                os.close(fd)
                raise
            pid = _read(fd).get("pid")
            os.close(fd)
            if time.monotonic() >= deadline:
                raise LockBusy(pid if isinstance(pid, int) else None)
            time.sleep(0.1)
        previous = _read(fd).get("verified")
        _write(fd, {"pid": os.getpid(), "verified": previous})
        with _held_guard:
            _held[self._key] = _Held(fd, self.path, 1, previous if isinstance(previous, list) else None)
        self._mine = True

    def _still_at_path(self, fd: int) -> bool:
        """A lock taken on a file that `discard` removed meanwhile is worthless: try again."""
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except OSError:
            return False

    def release(self, *, verified: list | None = None, remove: bool = False) -> None:
        """Let go; `verified` records the project's state as checked (else the state found on
        taking the lock stays), `remove` deletes the lock file (only for a project that the failed
        command itself created and removed)."""
        if not self._mine:
            return
        self._mine = False
        with _held_guard:
            held = _held[self._key]
            held.count -= 1
            if held.count > 0:
                return
            del _held[self._key]
        try:
            if remove:
                self.path.unlink(missing_ok=True)  # while locked: a waiter sees the inode change
            else:
                _write(held.fd, {"pid": None, "verified": held.previous if verified is None else verified})
        finally:
            os.close(held.fd)  # closing drops the OS lock


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in _CONTENDED:
            return False
        raise
    return True


def _write(fd: int, value: dict) -> None:
    data = (json.dumps(value) + "\n").encode("utf-8")
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)
    except OSError:
        pass  # who holds the lock is a courtesy for the message; the lock itself is the flock
