"""`synth themes`."""

from __future__ import annotations

import json
import textwrap
import os
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..records import SOURCE_KINDS
from ..statuses import LIVE, THEME_STATUSES
from ..readmodel import ReadModel
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
@click.option("--status", "statuses", multiple=True, default=LIVE, show_default=True,
              type=click.Choice(THEME_STATUSES), help="Which themes; repeatable.")
@reports_errors
def themes_command(project: Path, as_json: bool, statuses: tuple[str, ...]) -> None:
    """List PROJECT's themes: category, confidence, size, spread, triangulation, quotes."""
    from ..evidence import profiles_for
    with open_project(project, write=False) as proj:
        summaries = ReadModel(proj).summaries(statuses)
        profiles = profiles_for(proj, proj.themes(statuses=statuses))
    if as_json:
        click.echo(shown_json(json.dumps([{**s.to_dict(), "evidence": profiles[s.id].to_dict()} for s in summaries],
                                         indent=2, ensure_ascii=False, sort_keys=True)))
        return
    console = Console()
    if not console.is_terminal:
        # piped to a file: don't squeeze the table into 80 columns, unless COLUMNS says how wide
        columns = os.environ.get("COLUMNS", "")
        console = Console(width=int(columns) if columns.isascii() and columns.isdigit() and int(columns) >= 40 else 180)
    table = _themes_table(summaries, profiles, shown_text(f"Themes in {project}"), narrow=console.width < WIDE)
    console.print(table)
    if summaries:
        click.echo(textwrap.fill("CERQual: confidence in the finding, synth's suggestion or the reviewer's where set; "
                                 "the evidence profile and reasons are in --json (evidence) and the report",
                                 width=console.width))
    if not summaries:
        click.echo("no themes yet: run `synth discover` first")


WIDE = 160  # below this many columns the table folds triangulation, transferability and CERQual under the label


def _confidence(profile) -> str:
    return f"{profile.confidence}{' (reviewer)' if profile.reviewer else ''}"


def _themes_table(summaries, profiles, title: Text, *, narrow: bool) -> Table:
    """Wide: one column per figure. Narrow (an 80-column terminal): the short figures keep their
    full width (status and size must never shrink to "…"); triangulation and transferability move
    to a second line under the label, which wraps. Labels and every other stored string may hold
    escapes or rich markup: shown as text (`shown_text`), never interpreted."""
    if narrow:
        table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
        table.add_column("id", justify="right", no_wrap=True)
        table.add_column("theme", ratio=1, overflow="fold")
        table.add_column("status", no_wrap=True, min_width=9)
        table.add_column("category", no_wrap=True)
        table.add_column("size", justify="right", no_wrap=True)
        table.add_column("src", justify="right", no_wrap=True)
        table.add_column("lit/int/sur", no_wrap=True)  # passages by kind
        for s in summaries:
            kinds, sources = s.spread.kinds, s.spread.sources_by_kind
            extra = [x for x in ("sources lit/int/sur " + "/".join(str(sources.get(k, 0)) for k in SOURCE_KINDS),
                                 f"+{s.spread.structure} structure" if s.spread.structure else "",
                                 s.triangulation.get("label", ""),
                                 f"transferability {s.transferability['score']:.2f}" if s.transferability else "",
                                 f"CERQual {_confidence(profiles[s.id])}") if x]
            table.add_row(str(s.id), shown_text(s.label) + Text("\n") + Text(shown_text(" · ".join(extra)).plain, style="dim"),
                          shown_text(s.status), _category_cell(s, "\n"), str(s.size), str(s.spread.sources),
                          "/".join(str(kinds.get(k, 0)) for k in SOURCE_KINDS))
        return table
    table = Table(title=title)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("label", min_width=28, ratio=3)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("category", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("sources lit/int/sur", no_wrap=True)
    table.add_column("passages lit/int/sur", no_wrap=True)
    table.add_column("triangulation", no_wrap=True)
    table.add_column("transfer", justify="right", no_wrap=True)
    table.add_column("CERQual", min_width=15)
    for s in summaries:
        kinds, sources = s.spread.kinds, s.spread.sources_by_kind
        structure = f" (+{s.spread.structure} structure)" if s.spread.structure else ""
        table.add_row(str(s.id), shown_text(s.label), shown_text(s.status), _category_cell(s, " "), str(s.size),
                      f"{s.spread.sources}: " + " / ".join(str(sources.get(k, 0)) for k in SOURCE_KINDS),
                      " / ".join(str(kinds.get(k, 0)) for k in SOURCE_KINDS) + structure,
                      shown_text(s.triangulation.get("label", "")),
                      f"{s.transferability['score']:.2f}" if s.transferability else "", _confidence(profiles[s.id]))
    return table


def _category_cell(s, sep: str) -> Text:
    category = shown_text(s.category or "")
    return category + Text(f"{sep}{s.confidence:.2f}") if s.category and s.confidence is not None else category
