"""`synth log`: the decision log."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from ..review import actions
from . import cli, open_project, project_argument, reports_errors
from .display import shown, shown_json


@cli.command("log", epilog="""\b
Examples:
  synth log review.synth
  synth log review.synth --json > decisions.json
""")
@project_argument
@click.option("--json", "as_json", is_flag=True, help="Every decision with its full before and after, as JSON.")
@reports_errors
def log_command(project: Path, as_json: bool) -> None:
    """Print PROJECT's decision log: who did what, when, from what to what (oldest first)."""
    with open_project(project, write=False) as proj:
        decisions = proj.decisions()
    if as_json:
        click.echo(shown_json(json.dumps([asdict(d) for d in decisions], indent=2, ensure_ascii=False,
                                         sort_keys=True)))
        return
    if not decisions:
        click.echo(f"no decisions yet: review the themes with `synth review {shown(project)}`")
        return
    undone = {d.undoes for d in decisions if d.undoes is not None}
    for d in decisions:
        theme = f"theme {d.theme_id}" if d.theme_id is not None else "-"
        mark = " (undone)" if d.id in undone else ""
        click.echo(f"{d.id:>4}  {shown(d.at)}  {shown(d.reviewer):<12} {shown(d.action) + mark:<20} {theme:<10} "
                   f"{shown(actions.describe(d))}")
