"""`synth export`."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SynthError
from ..export import EXPORTS
from . import cli, open_project, project_argument, reports_errors
from .display import shown


@cli.command("export", epilog="""\b
Examples:
  synth export review.synth assignments -o assignments.csv
  synth export review.synth matrix --by area -o matrix.xlsx
  synth export review.synth codebook -o codebook.qdc
  synth export review.synth project -o review.qdpx
""")
@project_argument
@click.argument("what", metavar="WHAT")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write (format from its extension where several exist).")
@click.option("--by", default="source", show_default=True, help="matrix: columns by source or by a metadata field (programme, area, role…).")
@click.option("--include-suggested", is_flag=True,
              help="codebook, matrix, project: also export themes not yet accepted (marked as suggested: in the "
                   "codebook by name and status, in the matrix by its status column). assignments always list "
                   "suggested and accepted themes.")
@reports_errors
def export_command(project: Path, what: str, out: Path, by: str, include_suggested: bool) -> None:
    """Write WHAT from PROJECT to a file. WHAT is one of: assignments, matrix, codebook, project."""
    if what not in EXPORTS:
        raise SynthError(f"{what!r} is not an export; choose one of: {', '.join(sorted(EXPORTS))}")
    with open_project(project, write=False) as proj:
        message = EXPORTS[what](proj, out, {"by": by, "include_suggested": include_suggested})
    click.echo(shown(message))
