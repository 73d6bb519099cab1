"""`synth passage …`: what ingest decided about passages, and a reviewer's overrides of it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..review import actions, appraisal
from . import cli, open_project, project_argument, reports_errors
from .theme import reviewer_option


@cli.group("passage", epilog="""\b
Examples:
  synth passage structure review.synth
  synth passage include review.synth 212 230
  synth passage categorise review.synth 1042 1043 --as barrier --reviewer alice
""")
def passage_group() -> None:
    """Review actions on single passages: those that ingest set aside as structure (headings,
    publication furniture, references, captions) and including one as content after all; a
    passage's category set by hand.
    """


@passage_group.command("structure", epilog="""\b
Examples:
  synth passage structure review.synth
  synth passage structure review.synth --source literature/report.txt --json
""")
@project_argument
@click.option("--source", "source_name", help="Only this source (its name as `synth ingest` printed it).")
@click.option("--json", "as_json", is_flag=True, help="As JSON: id, source, kind, reason, included, text.")
@reports_errors
def structure_command(project: Path, source_name: str | None, as_json: bool) -> None:
    """List the passages that are structure, with the reason, and whether a reviewer included them."""
    with open_project(project, write=False) as proj:
        names = proj.source_names()
        # A source that is not there is a mistake to say, not an empty list (the name may leave out its folder).
        only = appraisal.find_source(proj, source_name).id if source_name is not None else None
        rows = [p for p in proj.passages() if p.structure_kind is not None
                and (only is None or p.source_id == only)]
    if as_json:
        click.echo(json.dumps([{"id": p.id, "source": names[p.source_id], "start_char": p.start_char,
                                "end_char": p.end_char, "kind": p.structure_kind, "reason": p.structure_reason,
                                "included": p.codable, "text": p.text} for p in rows],
                              indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no passage is structure" + (f" in {source_name}" if source_name else ""))
        return
    for p in rows:
        text = " ".join(p.text.split())
        mark = "  (included)" if p.codable else ""
        click.echo(f"{p.id:>6}  {p.structure_kind:<9}  {names[p.source_id]}  {p.structure_reason}{mark}: "
                   f"{text[:80]}{'…' if len(text) > 80 else ''}")


@passage_group.command("include", epilog="\b\nExample:\n  synth passage include review.synth 212 230")
@project_argument
@click.argument("passage_ids", nargs=-1, required=True, type=int)
@reviewer_option
@reports_errors
def include_command(project: Path, passage_ids: tuple[int, ...], reviewer: str) -> None:
    """Code PASSAGE_IDS (structure: a heading, furniture, a reference, a caption) as content after all.

    Recorded in the decision log; `synth theme undo` takes it back. The next discover places them.
    """
    with open_project(project) as proj:
        outcome = actions.include(proj, passage_ids, reviewer=reviewer)
    click.echo(f"{outcome.message}  [decision {outcome.decision_id}]")


def _say(outcome: actions.Outcome) -> None:
    click.echo(f"{outcome.message}  [decision {outcome.decision_id}]")


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


@passage_group.command("next", epilog="""\b
Examples:
  synth passage next review.synth
  synth passage next review.synth --count 20 --json
  synth passage categorise review.synth 1042 --as barrier   # confirm or correct what it shows
""")
@project_argument
@click.option("--count", default=10, show_default=True, type=click.IntRange(min=1),
              help="How many passages to list.")
@click.option("--json", "as_json", is_flag=True,
              help="As JSON: id, source, category, by, uncertainty, scores, reasons, text.")
@reports_errors
def next_command(project: Path, count: int, as_json: bool) -> None:
    """List the passages to check next: those whose category synth is least sure of.

    Confirming or correcting these (`synth passage categorise … --as …`, a confirmation being the
    category synth already shows) teaches the learned model most per decision. Passages a reviewer
    categorised are never listed.
    """
    from ..relearn import check_next

    with open_project(project, write=False) as proj:
        names = proj.source_names()
        queue = check_next(proj, count)
    if as_json:
        click.echo(json.dumps([{"id": q.passage.id, "source": names.get(q.passage.source_id, ""),
                                "category": q.category.category, "by": q.category.by,
                                "uncertainty": round(q.uncertainty, 4),
                                "scores": {c: round(v, 4) for c, v in q.category.scores.items()},
                                "reasons": list(q.category.reasons), "text": q.passage.text} for q in queue],
                              indent=2, ensure_ascii=False))
        return
    if not queue:
        click.echo("nothing to check: no passage has a category that a reviewer has not set (run `synth discover`)")
        return
    for q in queue:
        text = " ".join(q.passage.text.split())
        click.echo(f"{q.passage.id:>6}  {q.category.category:<8} ({q.category.by}, unsure {q.uncertainty:.2f})  "
                   f"{names.get(q.passage.source_id, '')}: {text[:80]}{'…' if len(text) > 80 else ''}")
