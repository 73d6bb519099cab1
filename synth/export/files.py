"""Writing output files so that a failure never leaves a half-written file in place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ..errors import SynthError


def writer_for(out: Path, writers: Mapping[str, Callable], what: str) -> Callable:
    """The writer for `out`'s extension, or an error that names the extensions there are."""
    writer = writers.get(Path(out).suffix.lower())
    if writer is None:
        raise SynthError(f"{out}: cannot tell the {what} format from the extension {Path(out).suffix or '(none)'!r}; "
                         f"name a file ending in one of: {', '.join(writers)}")
    return writer


PROJECT_COMPANIONS = ("", "-wal", "-shm", "-journal")  # SQLite keeps a project's pages in these too


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # also a hard link or a second name for the same file
    except OSError:  # one of them does not exist: compare where they would be
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_project_paths(out: Path, project_path: Path) -> None:
    """No export may write over the project it reads, nor over SQLite's -wal/-shm files beside it:
    replacing them would lose the project (its decision log included) with no way back."""
    out, project_path = Path(out), Path(project_path)
    for suffix in PROJECT_COMPANIONS:
        companion = project_path.with_name(project_path.name + suffix)
        if _same_file(out, companion):
            what = "the project file" if not suffix else f"the project's {suffix} file"
            raise SynthError(f"{out}: is {what} ({project_path}); writing there would destroy the project. "
                             "Name another output file")


@contextmanager
def atomic_write(path: Path, mode: str = "w", **open_kwargs) -> Iterator:
    """Yield a file in the target's folder; it replaces `path` only when the block succeeds."""
    path = Path(path)
    if not path.parent.exists():
        raise SynthError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise SynthError(f"{path}: is a folder; name a file to write")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise SynthError(f"{path}: cannot write there ({exc.strerror})") from exc
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
        # mkstemp makes the file private (0600); an export should get the user's usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:  # a full disk or a file-size limit: say so, and leave no partial file
        Path(tmp).unlink(missing_ok=True)
        raise SynthError(f"{path}: cannot write it ({exc.strerror or exc}); nothing was written") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
