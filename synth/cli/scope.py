"""`synth scope`: the review's scope (which groups and source kinds the review question is about),
against which each theme's relevance is judged (synth.evidence)."""

from __future__ import annotations

from pathlib import Path

import click

from ..review import appraisal
from . import cli, open_project, project_argument, reports_errors
from .display import shown
from .theme import _say, reviewer_option


@cli.command("scope", epilog="""\b
Examples:
  synth scope review.synth --set role=work_coach,jobcentre_manager --kind interview --kind survey
  synth scope review.synth --set area=Northbridge
  synth scope review.synth --show
  synth scope review.synth --clear
""")
@project_argument
@click.option("--set", "assignments", multiple=True, metavar="FIELD=VALUE[,VALUE]",
              help="The groups of a metadata field the review question is about; replaces that field's values. Repeatable.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["literature", "interview", "survey"]),
              help="Source kinds the review question is about. Repeatable.")
@click.option("--show", is_flag=True, help="Print the scope (the default when nothing else is given).")
@click.option("--clear", is_flag=True, help="Remove the scope (with --set/--kind: start from an empty scope).")
@reviewer_option
@reports_errors
def scope_command(project: Path, assignments: tuple[str, ...], kinds: tuple[str, ...], show: bool, clear: bool,
                  reviewer: str) -> None:
    """State the review's scope: which groups and kinds of source the review question is about.

    The relevance of each theme's evidence (synth themes, the report) is the share of its passages
    from sources inside the scope. Every change is recorded in the decision log.
    """
    changes: dict[str, tuple[str, ...]] = {}
    for item in assignments:
        name, values = appraisal.parse_assignment(item)
        changes[name] = tuple(dict.fromkeys((*changes.get(name, ()), *values)))
    if kinds:
        changes["kind"] = tuple(dict.fromkeys(kinds))
    with open_project(project, create=False, write=bool(changes or clear)) as proj:  # showing only reads
        if changes or clear:
            if clear and not changes and not proj.review_scope():
                click.echo("no review scope to clear")
                return
            _say(appraisal.set_scope(proj, changes, reviewer=reviewer, clear=clear))
        else:
            click.echo(shown("review scope: " + appraisal.scope_text(proj.review_scope())))
