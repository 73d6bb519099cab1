"""`synth saturation`: would more sources have found new themes? (Guest, Namey & Chen 2020)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..saturation import BASE, RUN, RUNS, THRESHOLD, saturation
from . import cli, open_project, project_argument, reports_errors
from .display import shown, shown_json

SHOWN = 15  # sources and steps listed per curve in the text output (a survey may have hundreds)


@cli.command("saturation", epilog="""\b
Examples:
  synth saturation review.synth
  synth saturation review.synth --by role --runs 500 --seed 1
  synth saturation review.synth --json > saturation.json
""")
@project_argument
@click.option("--by", default="kind", show_default=True,
              help="Separate curves per source kind, per value of a metadata field (role, area…), or 'all'.")
@click.option("--json", "as_json", is_flag=True, help="Every curve with its steps, as JSON.")
@click.option("--runs", default=RUNS, show_default=True, type=click.IntRange(0, 100_000), help="Random orders to average over.")
@click.option("--seed", default=0, show_default=True, help="Seed of the random orders.")
@click.option("--base", default=BASE, show_default=True, type=click.IntRange(1, None), help="Base size (Guest et al. 2020).")
@click.option("--run-length", default=RUN, show_default=True, type=click.IntRange(1, None), help="Run length.")
@click.option("--threshold", default=THRESHOLD, show_default=True, type=float,
              help="New-information threshold: new themes in a run as a share of those found before it.")
@reports_errors
def saturation_command(project: Path, by: str, as_json: bool, runs: int, seed: int, base: int, run_length: int,
                       threshold: float) -> None:
    """New themes per added source, and whether saturation was reached (Guest, Namey & Chen 2020).

    A theme counts as found when the first source holding one of its passages is added; sources are
    added in ingest order, and in random orders (averaged).
    """
    with open_project(project, write=False) as proj:
        result = saturation(proj, by=by, base=base, run=run_length, threshold=threshold, runs=runs, seed=seed)
    if as_json:
        click.echo(shown_json(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, sort_keys=True)))
        return
    click.echo(f"saturation by {result.by}: base size {result.base}, run length {result.run}, "
               f"new-information threshold ≤{result.threshold:.0%}; {result.runs} random orders (seed {result.seed})")
    for c in result.curves:
        click.echo(f"\n{shown(c.group)}: {len(c.sources)} sources, {c.themes} themes — saturation {c.verdict}")
        if result.runs:
            median = f", median {c.random_median_reached_at:g} sources" if c.random_median_reached_at else ""
            click.echo(f"  random orders: reached in {c.random_reached_share:.0%}{median}")
        click.echo("  #  new  found  mean new (random)  source")
        for i, name in enumerate(c.sources[:SHOWN]):
            click.echo(f"  {i + 1:>2} {c.new_per_source[i]:>4} {c.cumulative[i]:>6} {c.mean_new_per_source[i]:>18.2f}  {shown(name)}")
        if len(c.sources) > SHOWN:
            click.echo(f"  … {len(c.sources) - SHOWN} more sources ({sum(c.new_per_source[SHOWN:])} new themes among them; "
                       "--json lists every one)")
        last = c.reached_at if c.reached_at is not None else len(c.sources)
        for s in [s for s in c.steps if s.base <= last][:SHOWN]:
            ratio = "–" if s.ratio is None else f"{s.ratio:.0%}"
            mark = "  ← saturation" if c.reached_at == s.base else ""
            click.echo(f"  base {s.base} ({s.base_themes} themes), run {s.base + 1}–{s.base + result.run}: "
                       f"{s.new_in_run} new ({ratio}){mark}")
