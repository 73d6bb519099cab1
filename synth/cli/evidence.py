"""`synth scope`, `synth source appraise`, `synth theme confidence` and `synth saturation`:
what the reviewer states about the evidence, and whether more sources would have found more."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..evidence import LEVELS, QUALITIES
from ..review import appraisal
from ..saturation import BASE, RUN, RUNS, THRESHOLD, saturation
from . import cli, open_project, project_argument, reports_errors
from .review import _say, reviewer_option, theme_group

SHOWN = 15  # sources and steps listed per curve in the text output (a survey may have hundreds)


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
    with open_project(project, create=False) as proj:
        if changes or clear:
            if clear and not changes and not proj.review_scope():
                click.echo("no review scope to clear")
                return
            _say(appraisal.set_scope(proj, changes, reviewer=reviewer, clear=clear))
        else:
            click.echo("review scope: " + appraisal.scope_text(proj.review_scope()))


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


@theme_group.command("confidence", epilog="""\b
Example:
  synth theme confidence review.synth 3 --set moderate --reason "Two programmes only; coherent accounts."
""")
@project_argument
@click.argument("theme_id", type=int)
@click.option("--set", "level", required=True, type=click.Choice(LEVELS), help="The confidence in this finding.")
@click.option("--reason", required=True, help="Why (shown beside synth's own reasons).")
@reviewer_option
@reports_errors
def confidence_command(project: Path, theme_id: int, level: str, reason: str, reviewer: str) -> None:
    """Set the confidence in theme THEME_ID's finding (GRADE-CERQual: high, moderate, low, very low).

    synth's suggestion stays visible beside it; discover never overwrites the reviewer's level.
    """
    with open_project(project) as proj:
        _say(appraisal.set_confidence(proj, theme_id, level, reason, reviewer=reviewer))


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
    with open_project(project, create=False) as proj:
        result = saturation(proj, by=by, base=base, run=run_length, threshold=threshold, runs=runs, seed=seed)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, sort_keys=True))
        return
    click.echo(f"saturation by {result.by}: base size {result.base}, run length {result.run}, "
               f"new-information threshold ≤{result.threshold:.0%}; {result.runs} random orders (seed {result.seed})")
    for c in result.curves:
        click.echo(f"\n{c.group}: {len(c.sources)} sources, {c.themes} themes — saturation {c.verdict}")
        if result.runs:
            median = f", median {c.random_median_reached_at:g} sources" if c.random_median_reached_at else ""
            click.echo(f"  random orders: reached in {c.random_reached_share:.0%}{median}")
        click.echo("  #  new  found  mean new (random)  source")
        for i, name in enumerate(c.sources[:SHOWN]):
            click.echo(f"  {i + 1:>2} {c.new_per_source[i]:>4} {c.cumulative[i]:>6} {c.mean_new_per_source[i]:>18.2f}  {name}")
        if len(c.sources) > SHOWN:
            click.echo(f"  … {len(c.sources) - SHOWN} more sources ({sum(c.new_per_source[SHOWN:])} new themes among them; "
                       "--json lists every one)")
        last = c.reached_at if c.reached_at is not None else len(c.sources)
        for s in [s for s in c.steps if s.base <= last][:SHOWN]:
            ratio = "–" if s.ratio is None else f"{s.ratio:.0%}"
            mark = "  ← saturation" if c.reached_at == s.base else ""
            click.echo(f"  base {s.base} ({s.base_themes} themes), run {s.base + 1}–{s.base + result.run}: "
                       f"{s.new_in_run} new ({ratio}){mark}")
