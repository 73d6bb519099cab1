"""A run's scratch files beside the project, and removing those a killed run left.

The Ray engine keeps corpus-sized matrices in files beside the project while a discover runs (the
run's vectors, `.run-*` in `PROJECT.vectors/<model>/`; the unit and smoothed rows, `.cluster-*` in
`PROJECT.vectors/`; 15 GB each at 10^7 passages) and removes them when the run ends, Ctrl-C
included. A process killed outright (SIGKILL, the out-of-memory killer, a power cut) cannot, so
the next command that opens the project to write removes them (`remove_stale`).

Which are stale: two commands may run at once (a discover of the project and one of a copy beside
it; a benchmark), so a file is never judged by its age or name alone. Whoever makes a scratch file
holds an OS lock on it (`flock`) for as long as it lives (`ScratchFile`); the OS drops the lock
when the process ends, however it ends. A file whose lock can be taken is held by no live process:
it is removed while locked, so no one can take it meanwhile. A lock taken in the instant between
a maker's creating the file and locking it is caught by the maker (`_made_and_locked`: the name no
longer leads to its file) and it makes another. Where there is no `flock` (Windows) nothing is
locked, and removing a file that a live process has open or mapped fails there: it is left.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

# Where the scratch files of a project's runs are, under `PROJECT.vectors/`.
PATTERNS = (".cluster-*", "*/.run-*", "*/.driver-*")


class ScratchFile:
    """A new file in `folder`, locked by this process until `close` (which removes it)."""

    def __init__(self, folder: Path, prefix: str, suffix: str = "") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._fd, self.path = _made_and_locked(folder, prefix, suffix)

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # a mapping still open keeps reading it until it goes
        finally:
            os.close(self._fd)  # the lock goes with the descriptor
            self._fd = None


def _made_and_locked(folder: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    while True:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
        if fcntl is None:
            return fd, Path(name)
        fcntl.flock(fd, fcntl.LOCK_EX)  # a new file: only a remover can hold it, and only for a moment
        try:
            if os.stat(name).st_ino == os.fstat(fd).st_ino:
                return fd, Path(name)
        except FileNotFoundError:
            pass
        os.close(fd)  # a remover took it in the instant before the lock: make another


def remove_stale(project_path: Path | str) -> list[Path]:
    """Removes the scratch files beside a project that no live process holds; returns them."""
    project_path = Path(project_path)
    root = project_path.parent / (project_path.name + ".vectors")
    if not root.is_dir():
        return []
    removed = []
    try:
        for pattern in PATTERNS:
            for path in sorted(root.glob(pattern)):
                if _remove_if_unheld(path):
                    removed.append(path)
    except OSError:  # an unreadable folder: leave it; opening the project must not fail for this
        pass
    return removed


def _remove_if_unheld(path: Path) -> bool:
    if fcntl is None:
        try:
            path.unlink()  # refused while a live process has it open or mapped
        except OSError:
            return False
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False  # gone meanwhile, or not ours to read
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live process holds it
        try:
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                return False  # removed and made again meanwhile: not the file we locked
            path.unlink()
        except OSError:
            return False
        return True
    finally:
        os.close(fd)
