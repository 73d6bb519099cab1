"""Exports: each kind of export is one module with one function `(project, out_path, options) -> str`.

`EXPORTS` maps the name a user types (`synth export PROJECT NAME -o FILE`) to that function; the
returned string is a one-line description of what was written.
"""

from __future__ import annotations

from .assignments import export_assignments
from .codebook_formats import export_codebook
from .files import atomic_write
from .matrix import export_matrix
from .qdpx import export_project

EXPORTS = {
    "assignments": export_assignments,
    "matrix": export_matrix,
    "codebook": export_codebook,
    "project": export_project,
}

__all__ = ["EXPORTS", "atomic_write"]
