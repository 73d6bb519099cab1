"""One exception family for everything a user can cause.

Every message names the file or value, the cause, and what to do, so the CLI can print it on one
line and exit non-zero without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class SynthError(Exception):
    """Base of every error synth reports to a user."""


class InputError(SynthError):
    """A source file (or folder) that cannot be ingested."""

    def __init__(self, path: str | Path, cause: str) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class ProjectError(SynthError):
    """A project file that cannot be opened or used as asked."""

    def __init__(self, path: str | Path, cause: str) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class ModelError(SynthError):
    """An embedding model that is missing, corrupt, or fails to load."""


class ConflictError(SynthError):
    """A review edit based on a stale view of the project (another reviewer changed it first)."""


class NotFoundError(SynthError):
    """A theme, passage or source id that the project does not hold."""


class ProjectBusyError(ProjectError):
    """Another synth command is writing the project; this one changed nothing."""

    def __init__(self, path: str | Path, pid: int | None) -> None:
        self.pid = pid
        holder = f" (pid {pid})" if pid else ""
        super().__init__(path, f"another synth command is writing this project{holder}; "
                               "try again when it finishes (nothing was changed)")


class ProjectReadOnlyError(ProjectError):
    """The project (or its folder) cannot be written: read commands still work."""
