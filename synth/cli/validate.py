"""`synth validate`: a blind, stratified sample coded by reviewers, and synth's agreement with them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import SynthError
from ..review import actions
from . import cli, open_project, project_argument, reports_errors
from .theme import reviewer_option


def _say(outcome: actions.Outcome) -> None:
    click.echo(f"{outcome.message}  [decision {outcome.decision_id}]")


def _theme_value(value: str | None) -> int | None:
    if value is None or value.strip().lower() == "none":
        return None
    if not value.strip().isdigit():
        raise SynthError(f"--theme {value!r}: give a theme id (a whole number) or 'none'")
    return int(value)


@cli.command("validate", epilog="""\b
Examples:
  synth validate review.synth --sample 100 --seed 1        # draw a blind stratified sample
  synth validate review.synth --next --reviewer alice      # the next item alice has not coded (text only)
  synth validate review.synth --code 17 --theme 4 --category barrier --reviewer alice
  synth validate review.synth --code 18 --theme none --category context --reviewer alice
  synth validate review.synth --report
  synth validate review.synth --report --json > agreement.json
""")
@project_argument
@click.option("--sample", "sample_size", type=int, help="Draw a new sample of N codable passages, stratified by theme "
              "(unplaced passages are a stratum too).")
@click.option("--seed", default=0, show_default=True, help="Random seed of the sample.")
@click.option("--next", "show_next", is_flag=True, help="Show the next item REVIEWER has not coded: the passage "
              "only, never synth's suggestion.")
@click.option("--code", "item_id", type=int, help="Record REVIEWER's code of validation item ITEM (with --theme and "
              "--category).")
@click.option("--theme", "theme", help="With --code: the theme id the passage belongs to, or 'none'.")
@click.option("--category", help="With --code: barrier, enabler, practice or context.")
@click.option("--report", "show_report", is_flag=True, help="Precision and recall per theme and overall (95% Wilson "
              "intervals), Cohen's kappa and Krippendorff's alpha: synth against each reviewer, and reviewers "
              "against each other.")
@click.option("--json", "as_json", is_flag=True, help="With --report: everything as JSON.")
@reviewer_option
@reports_errors
def validate_command(project: Path, sample_size: int | None, seed: int, show_next: bool, item_id: int | None,
                     theme: str | None, category: str | None, show_report: bool, as_json: bool, reviewer: str) -> None:
    """Measure how far synth's themes and categories agree with a reviewer's, on a blind sample.

    Three steps: draw a sample (--sample N), code each item without seeing synth's suggestion (in
    `synth review`, page "Validate", or here with --next and --code), then --report. Codes are
    recorded in the decision log and can be undone with `synth theme undo`. A second reviewer
    coding the same sample adds reviewer-against-reviewer agreement.
    """
    from .. import validate

    chosen = [bool(sample_size is not None), show_next, item_id is not None, show_report]
    if sum(chosen) != 1:
        raise click.UsageError("give exactly one of --sample N, --next, --code ITEM or --report")
    if item_id is None and (theme is not None or category is not None):
        raise click.UsageError("--theme and --category go with --code ITEM")
    # --next and --report only read: they work while another command writes, and on a read-only file.
    with open_project(project, create=False, write=not (show_next or show_report)) as proj:
        if sample_size is not None:
            sample_id, counts = validate.draw_sample(proj, sample_size, seed=seed, reviewer=reviewer)
            click.echo(f"drew validation sample {sample_id}: {sample_size} passages from {len(counts)} strata "
                       f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
            click.echo(f"code them in `synth review {project}` (Validate), or with `synth validate {project} --next`")
        elif show_next:
            item, done, total = validate.next_item(proj, reviewer)
            if item is None:
                click.echo(f"{reviewer} has coded all {total} items; see `synth validate {project} --report`")
                return
            passage = proj.passage(item["passage_id"])
            click.echo(f"item {item['id']} ({done + 1} of {total}), {proj.source(passage.source_id).name} "
                       f"[{passage.start_char}–{passage.end_char}]:")
            click.echo(passage.text)
            click.echo("themes: " + "; ".join(f"{t.id} {t.label}" for t in proj.themes()))
            click.echo(f"code it: synth validate {project} --code {item['id']} --theme ID|none --category C "
                       f"--reviewer {reviewer}")
        elif item_id is not None:
            if category is None or theme is None:
                raise click.UsageError("--code needs --theme ID|none and --category C")
            _say(actions.code_validation_item(proj, item_id, _theme_value(theme), category, reviewer=reviewer))
        else:
            report = validate.agreement(proj)
            if as_json:
                click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, sort_keys=True))
            else:
                for line in report.lines():
                    click.echo(line)
    sys.stdout.flush()
