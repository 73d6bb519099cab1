"""Exports: each kind of export is one module with one function `(project, out_path, options) -> str`.

`EXPORTS` maps the name a user types (`synth export PROJECT NAME -o FILE`) to that function; the
returned string is a one-line description of what was written.
"""

from __future__ import annotations

from .assignments import export_assignments
from .codebook_formats import export_codebook
import functools
from collections.abc import Callable
from pathlib import Path

from ..store import Project
from .files import atomic_write, refuse_project_paths
from .matrix import export_matrix
from .qdpx import export_project


def _guarded(export: Callable[[Project, Path, dict], str]) -> Callable[[Project, Path, dict], str]:
    """Every export refuses to write over the project it reads (or its -wal/-shm), before any work."""

    @functools.wraps(export)
    def run(project: Project, out: Path, options: dict) -> str:
        refuse_project_paths(out, project.path)
        return export(project, out, options)

    return run


EXPORTS = {
    "assignments": _guarded(export_assignments),
    "matrix": _guarded(export_matrix),
    "codebook": _guarded(export_codebook),
    "project": _guarded(export_project),
}

__all__ = ["EXPORTS", "atomic_write", "refuse_project_paths"]
