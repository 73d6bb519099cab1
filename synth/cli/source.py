"""`synth source appraise`: the reviewer's appraisal of a source's methodological quality."""

from __future__ import annotations

from pathlib import Path

import click

from ..evidence import QUALITIES
from ..review import appraisal
from . import cli, open_project, project_argument, reports_errors
from .theme import _say, reviewer_option


@cli.group("source", epilog="""\b
Examples:
  synth source appraise review.synth 3 --quality high --note "Clear sampling; saturation reported."
  synth source appraise review.synth interviews/riverside-employer.txt --quality low --note "One informant"
""")
def source_group() -> None:
    """The reviewer's judgements about single sources (recorded in the decision log)."""


@source_group.command("appraise", epilog="""\b
Examples:
  synth source appraise review.synth 3 --quality high --note "Clear sampling; saturation reported."
  synth source appraise review.synth riverside-employer.txt --quality low --note "Single informant" --reviewer ana
""")
@project_argument
@click.argument("source")
@click.option("--quality", required=True, type=click.Choice(QUALITIES),
              help="Methodological quality of the source (its design and conduct).")
@click.option("--note", default="", help="Why: what the appraisal found (a checklist item, a flaw).")
@reviewer_option
@reports_errors
def appraise_command(project: Path, source: str, quality: str, note: str, reviewer: str) -> None:
    """Appraise SOURCE (an id or a name) for methodological limitations.

    The share of a theme's passages from low-quality sources lowers the confidence synth suggests.
    A new version of the file keeps the appraisal (it is kept by source name).
    """
    with open_project(project, create=False) as proj:
        _say(appraisal.appraise(proj, source, quality, note, reviewer=reviewer))
