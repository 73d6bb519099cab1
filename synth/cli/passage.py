"""`synth passage …`: what ingest decided about passages, and a reviewer's overrides of it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..review import actions
from . import cli, open_project, project_argument, reports_errors
from .theme import reviewer_option


@cli.group("passage", epilog="""\b
Examples:
  synth passage structure review.synth
  synth passage include review.synth 212 230
""")
def passage_group() -> None:
    """Passages that ingest set aside as structure (headings, publication furniture, references,
    captions), and including one as content after all.
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
    with open_project(project) as proj:
        names = proj.source_names()
        rows = [p for p in proj.passages() if p.structure_kind is not None
                and (source_name is None or names[p.source_id] == source_name)]
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
