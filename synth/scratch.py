"""A run's scratch files beside the project, and removing those a killed run left.

The Ray engine keeps corpus-sized matrices in files beside the project while a discover runs (the
run's vectors, `.run-*` in `PROJECT.vectors/<model>/`; the unit and smoothed rows, `.cluster-*` in
`PROJECT.vectors/`; 15 GB each at 10^7 passages) and removes them when the run ends, Ctrl-C
included. Each vector shard (`ray_shards.write_shard`, by a Ray worker or by the driver) is written
as a scratch file too (`.part-*.tmp` in `PROJECT.vectors/<model>/`) and renamed to its shard's name
once whole (`ScratchFile.keep_as`), so readers, who look only for shard names, never see a partial
one. A process killed outright (SIGKILL, the out-of-memory killer, a power cut, a lost Ray worker)
cannot remove its files, so the next command that opens the project to write removes them
(`remove_stale`).

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

# Where the scratch files of a project's runs are, under `PROJECT.vectors/`: a run's matrices, the
# driver's marker (`ray_engine`), and shards being written (`ray_shards.write_shard`).
PATTERNS = (".cluster-*", "*/.run-*", "*/.driver-*", "*/.part-*.tmp")


class ScratchFile:
    """A new file in `folder`, locked by this process until `close` (which removes it)."""

    def __init__(self, folder: Path, prefix: str, suffix: str = "") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._fd, self.path = _made_and_locked(folder, prefix, suffix)

    def keep_as(self, target: Path) -> None:
        """Renames the file to `target` and lets it go: no longer scratch, `close` leaves it. The lock
        is held until the rename is done, so a remover never takes a file still being written."""
        if self._fd is None:
            raise ValueError(f"{self.path}: already closed or kept")  # a defect in the caller
        if hasattr(os, "fchmod"):
            os.fchmod(self._fd, 0o666 & ~_umask())  # an ordinary file's mode, not mkstemp's private one
        if fcntl is None:  # Windows: nothing is locked there, and an open file cannot be renamed
            os.close(self._fd)
            self._fd = None
        os.replace(self.path, target)  # on failure the file stays scratch: the caller's close removes it
        self.path = target
        if self._fd is not None:
            os.close(self._fd)  # the lock goes with the descriptor
            self._fd = None

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # a mapping still open keeps reading it until it goes
        finally:
            os.close(self._fd)  # the lock goes with the descriptor
            self._fd = None


def _umask() -> int:
    """This process's umask, read without setting it (os.umask can only be read by changing it,
    which other threads making files at that instant would see)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


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
