"""`synth themes`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..records import SOURCE_KINDS
from ..summary import summarise_all
from . import cli, open_project, project_argument, reports_errors
from .display import shown_json, shown_text


@cli.command("themes", epilog="""\b
Examples:
  synth themes review.synth
  synth themes review.synth --json > themes.json
  synth themes review.synth --status accepted
""")
@project_argument
@click.option("--json", "as_json", is_flag=True, help="Everything about every theme, as JSON.")
@click.option("--status", "statuses", multiple=True, default=("suggested", "accepted"), show_default=True,
              type=click.Choice(["suggested", "accepted", "rejected", "merged", "retired"]), help="Which themes; repeatable.")
@reports_errors
def themes_command(project: Path, as_json: bool, statuses: tuple[str, ...]) -> None:
    """List PROJECT's themes: category, confidence, size, spread, triangulation, quotes."""
    with open_project(project, create=False) as proj:
        summaries = summarise_all(proj, statuses)
    if as_json:
        click.echo(shown_json(json.dumps([s.to_dict() for s in summaries], indent=2, ensure_ascii=False,
                                         sort_keys=True)))
        return
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped to a file: don't squeeze the table into 80 columns
    table = Table(title=shown_text(f"Themes in {project}"))
    table.add_column("id", justify="right")
    table.add_column("label", min_width=28, ratio=3)
    table.add_column("status")
    table.add_column("category", no_wrap=True)
    table.add_column("size", justify="right")
    table.add_column("sources lit/int/sur", no_wrap=True)
    table.add_column("passages lit/int/sur", no_wrap=True)
    table.add_column("triangulation", no_wrap=True)
    table.add_column("transfer", justify="right")
    for s in summaries:
        kinds, sources = s.spread.kinds, s.spread.sources_by_kind
        structure = f" (+{s.spread.structure} structure)" if s.spread.structure else ""
        # Labels and every other stored string may hold escapes or rich markup: shown as text, never interpreted.
        table.add_row(str(s.id), shown_text(s.label), shown_text(s.status),
                      shown_text(f"{s.category} {s.confidence:.2f}" if s.category and s.confidence is not None
                                 else (s.category or "")),
                      str(s.size),
                      f"{s.spread.sources}: " + " / ".join(str(sources.get(k, 0)) for k in SOURCE_KINDS),
                      " / ".join(str(kinds.get(k, 0)) for k in SOURCE_KINDS) + structure,
                      shown_text(s.triangulation.get("label", "")),
                      f"{s.transferability['score']:.2f}" if s.transferability else "")
    console.print(table)
    if not summaries:
        click.echo("no themes yet: run `synth discover` first")
