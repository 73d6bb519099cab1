"""`synth codebook import`."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from ..codebook_import import import_codebook
from . import cli, open_project, project_argument, reports_errors
from .display import shown


def _default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "reviewer"


@cli.group("codebook", epilog="""\b
Examples:
  synth codebook import review.synth framework.qdc
  synth discover review.synth --codebook
""")
def codebook_group() -> None:
    """Bring an existing codebook into a project (export one with `synth export PROJECT codebook`)."""


@codebook_group.command("import", epilog="""\b
Examples:
  synth codebook import review.synth framework.qdc
  synth codebook import review.synth codes.csv --reviewer ana
\b
A .csv needs a column naming the codes (name, code, label, theme or tag); definition (or
description) and category (or parent: barrier, enabler, practice, context) are used when present.
""")
@project_argument
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reviewer", default=_default_reviewer, show_default="your user name",
              help="Who is importing (recorded in the decision log).")
@reports_errors
def codebook_import_command(project: Path, file: Path, reviewer: str) -> None:
    """Load the codes of FILE (.qdc REFI-QDA codebook or .csv) into PROJECT as accepted themes.

    Codes keep their names, definitions, categories and GUIDs and count as the reviewer's own, so
    discover never renames them. Importing the same codebook again changes nothing. Codes a draft
    codebook marks as suggested (`export … --include-suggested`) come in as suggested themes; a code
    whose GUID is a theme a reviewer rejected or merged is skipped, and the output says why.
    """
    with open_project(project, create=False) as proj:
        report = import_codebook(proj, file, reviewer=reviewer)
    click.echo(f"imported {shown(file)}: {len(report.created)} new themes, {len(report.updated)} updated, "
               f"{len(report.unchanged)} unchanged")
    for line in report.skipped:
        click.echo(f"  skipped {shown(line)}")
