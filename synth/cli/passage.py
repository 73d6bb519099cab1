"""`synth passage categorise`: a reviewer sets passages' categories (and synth learns from them)."""

from __future__ import annotations

from pathlib import Path

import click

from ..review import actions
from . import cli, open_project, project_argument, reports_errors
from .theme import reviewer_option


def _say(outcome: actions.Outcome) -> None:
    click.echo(f"{outcome.message}  [decision {outcome.decision_id}]")


@cli.group("passage", epilog="""\b
Example:
  synth passage categorise review.synth 1042 1043 --as barrier --reviewer alice
""")
def passage_group() -> None:
    """Review actions on single passages."""


@passage_group.command("categorise", epilog="""\b
Examples:
  synth passage categorise review.synth 1042 --as barrier
  synth passage categorise review.synth 1042 1043 1050 --as enabler --reviewer alice
  synth theme undo review.synth --reviewer alice      # takes it back
""")
@project_argument
@click.argument("passage_ids", nargs=-1, required=True, type=int)
@click.option("--as", "category", required=True, metavar="barrier|enabler|practice|context",
              help="The category the passages have.")
@reviewer_option
@reports_errors
def categorise_command(project: Path, passage_ids: tuple[int, ...], category: str, reviewer: str) -> None:
    """Set the category of passages PASSAGE_IDS by hand.

    The reviewer's category is the passage's category from then on (exports, the themes' vote);
    discover never changes it, and learns from it: the next `synth discover` (and the review app
    at once) suggests the same category for passages like these. Recorded in the decision log,
    undoable with `synth theme undo`.
    """
    from ..relearn import refresh_learned_categories

    with open_project(project) as proj:
        _say(actions.categorise(proj, passage_ids, category, reviewer=reviewer))
        with proj.transaction():
            changed = refresh_learned_categories(proj)
    if changed:
        click.echo(f"learned suggestions updated: {changed} passage(s) now suggested differently")
