"""`synth theme …`: the review actions of the web app, for scripts."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from ..errors import SynthError
from ..evidence import LEVELS
from ..records import CATEGORIES
from ..statuses import TRANSITIONS, Transition
from ..review import actions, appraisal
from . import cli, open_project, project_argument, reports_errors
from .display import shown

reviewer_option = click.option(
    "--reviewer", default=lambda: os.environ.get("USER") or "reviewer", show_default="$USER or 'reviewer'",
    help="Name recorded with each decision in the log.")


@cli.group("theme", epilog="""\b
Examples:
  synth theme accept review.synth 3 7
  synth theme rename review.synth 3 "Staff shortages"
  synth theme merge review.synth 3 8 11
  synth theme undo review.synth
""")
def theme_group() -> None:
    """Review actions on themes and passages, for scripted use (the same as in `synth review`).

    Each is recorded in the decision log with the reviewer, time, and before and after.
    """


def _say(outcome: actions.Outcome) -> None:
    click.echo(f"{shown(outcome.message)}  [decision {outcome.decision_id}]")


def _status_command(move: Transition, summary: str, example: str) -> None:
    @theme_group.command(move.action, help=summary, epilog=f"\b\nExample:\n  {example}")
    @project_argument
    @click.argument("theme_ids", nargs=-1, required=True, type=int)
    @reviewer_option
    @reports_errors
    def command(project: Path, theme_ids: tuple[int, ...], reviewer: str) -> None:
        ids = list(dict.fromkeys(theme_ids))
        with open_project(project, create=False) as proj:
            # All or nothing: one transaction for every id, so `accept P 1 2 99999` changes nothing.
            try:
                with proj.transaction():
                    outcomes = [actions.set_status(proj, theme_id, move.action, reviewer=reviewer)
                                for theme_id in ids]
            except SynthError as exc:
                if len(ids) == 1:
                    raise
                raise SynthError(f"{exc} (nothing was changed: none of themes {', '.join(map(str, ids))} "
                                 f"was {move.done})") from exc
        for outcome in outcomes:
            _say(outcome)


_status_command(TRANSITIONS["accept"], "Accept themes: a later discover keeps their passages.",
                "synth theme accept review.synth 3 7")
_status_command(TRANSITIONS["reject"], "Reject themes (they stay in the project; `restore` brings them back).",
                "synth theme reject review.synth 5")
_status_command(TRANSITIONS["restore"], "Bring rejected, merged or retired themes back as suggestions.",
                "synth theme restore review.synth 5")


def _edit_command(name: str, action: Callable[..., actions.Outcome], value: Callable[[Callable], Callable],
                  summary: str, example: str) -> None:
    """`synth theme NAME PROJECT THEME_ID VALUE`: one reviewer edit of one theme, kept by later discover runs."""
    @theme_group.command(name, help=summary, epilog=f"\b\nExample:\n  {example}")
    @project_argument
    @click.argument("theme_id", type=int)
    @value
    @reviewer_option
    @reports_errors
    def command(project: Path, theme_id: int, reviewer: str, **edit: str) -> None:
        (new_value,) = edit.values()
        with open_project(project) as proj:
            _say(action(proj, theme_id, new_value, reviewer=reviewer))


_edit_command("rename", actions.rename, click.argument("label"),
              "Give theme THEME_ID the label LABEL (kept by later discover runs).",
              'synth theme rename review.synth 3 "Staff shortages"')
_edit_command("define", actions.define, click.argument("text"),
              "Set the definition of theme THEME_ID (kept by later discover runs).",
              'synth theme define review.synth 3 "Not enough staff to deliver the service."')
_edit_command("recategorise", actions.recategorise, click.argument("category", type=click.Choice(CATEGORIES)),
              "Set the category of theme THEME_ID (kept by later discover runs).",
              "synth theme recategorise review.synth 3 barrier")


@theme_group.command("merge", epilog="\b\nExample (fold themes 8 and 11 into 3):\n  synth theme merge review.synth 3 8 11")
@project_argument
@click.argument("target_id", type=int)
@click.argument("other_ids", nargs=-1, required=True, type=int)
@reviewer_option
@reports_errors
def merge_command(project: Path, target_id: int, other_ids: tuple[int, ...], reviewer: str) -> None:
    """Merge themes OTHER_IDS into TARGET_ID: their passages move to it; they are marked merged."""
    with open_project(project) as proj:
        _say(actions.merge(proj, target_id, other_ids, reviewer=reviewer))


@theme_group.command("split", epilog="""\b
Examples:
  synth theme split review.synth 3 -k 2
  synth theme split review.synth 3 --by-category
""")
@project_argument
@click.argument("theme_id", type=int)
@click.option("-k", "--k", "k", type=click.IntRange(2, None), help="Number of sub-themes, by re-clustering the passages' embeddings.")
@click.option("--by-category", is_flag=True, help="One sub-theme per passage category (barrier, enabler, …).")
@reviewer_option
@reports_errors
def split_command(project: Path, theme_id: int, k: int | None, by_category: bool, reviewer: str) -> None:
    """Split theme THEME_ID into sub-themes; it is retired (undo brings it back)."""
    if (k is None) == (not by_category):
        raise click.UsageError("give exactly one of -k N (also written --k N) or --by-category")
    with open_project(project) as proj:
        _say(actions.split(proj, theme_id, k=k, by_category=by_category, reviewer=reviewer))


@theme_group.command("move", epilog="\b\nExample:\n  synth theme move review.synth 1042 3")
@project_argument
@click.argument("passage_id", type=int)
@click.argument("theme_id", type=int)
@reviewer_option
@reports_errors
def move_command(project: Path, passage_id: int, theme_id: int, reviewer: str) -> None:
    """Place passage PASSAGE_ID in theme THEME_ID (discover never moves it again)."""
    with open_project(project) as proj:
        _say(actions.move(proj, [passage_id], theme_id, reviewer=reviewer))


@theme_group.command("remove", epilog="\b\nExample:\n  synth theme remove review.synth 1042")
@project_argument
@click.argument("passage_id", type=int)
@click.option("--theme", "theme_id", type=int, help="Take away the passage's coding to this theme (one of several).")
@reviewer_option
@reports_errors
def remove_command(project: Path, passage_id: int, theme_id: int | None, reviewer: str) -> None:
    """Take passage PASSAGE_ID out of its theme (discover won't put it back)."""
    with open_project(project) as proj:
        _say(actions.remove(proj, [passage_id], reviewer=reviewer, theme_id=theme_id))


@theme_group.command("memo", epilog="""\b
Examples:
  synth theme memo review.synth --theme 3 "Check against the 2021 survey."
  synth theme memo review.synth --passage 1042 "Sarcastic; read in context."
""")
@project_argument
@click.argument("text")
@click.option("--theme", "theme_id", type=int, help="The theme the memo is about.")
@click.option("--passage", "passage_id", type=int, help="The passage the memo is about.")
@reviewer_option
@reports_errors
def memo_command(project: Path, text: str, theme_id: int | None, passage_id: int | None, reviewer: str) -> None:
    """Add a memo (a reviewer's note) to a theme or a passage."""
    if (theme_id is None) == (passage_id is None):
        raise click.UsageError("give exactly one of --theme ID or --passage ID")
    with open_project(project) as proj:
        _say(actions.memo(proj, text, theme_id=theme_id, passage_id=passage_id, reviewer=reviewer))


@theme_group.command("undo", epilog="\b\nExample:\n  synth theme undo review.synth --reviewer alice")
@project_argument
@reviewer_option
@reports_errors
def undo_command(project: Path, reviewer: str) -> None:
    """Undo REVIEWER's latest decision not yet undone (repeat to go further back)."""
    with open_project(project) as proj:
        _say(actions.undo(proj, reviewer=reviewer))


# --- building themes from passages (multi-coding; see synth/review/coding.py) -----------------------

def _ids(value: str) -> list[str]:
    return [part for part in value.replace(" ", ",").split(",") if part]


@theme_group.command("create", epilog="""\b
Examples:
  synth theme create review.synth --label "Digital exclusion" --passages 12,40,41
  synth theme create review.synth --label "Childcare costs" --passages 7,9 --category barrier \\
      --definition "Paying for childcare stops people taking work." --reviewer alice
""")
@project_argument
@click.option("--label", required=True, help="The new theme's label.")
@click.option("--passages", "passages", required=True, help="Comma-separated passage ids (see `synth search`).")
@click.option("--category", help=f"One of {', '.join(CATEGORIES)} (default: from the passages' categories).")
@click.option("--definition", default="", help="What the theme means.")
@reviewer_option
@reports_errors
def create_command(project: Path, label: str, passages: str, category: str | None, definition: str,
                   reviewer: str) -> None:
    """Make a new (accepted) theme from example passages; discover keeps it.

    A passage in no theme gets the new theme as its theme; one already in a theme keeps that one
    and is coded to the new theme as well (multi-coding).
    """
    from ..review.coding import create_theme

    with open_project(project) as proj:
        _say(create_theme(proj, label, _ids(passages), category=category, definition=definition, reviewer=reviewer))


@theme_group.command("add", epilog="""\b
Example:
  synth theme add review.synth 7 --passages 12,40
""")
@project_argument
@click.argument("theme_id", type=int)
@click.option("--passages", "passages", required=True, help="Comma-separated passage ids.")
@reviewer_option
@reports_errors
def add_command(project: Path, theme_id: int, passages: str, reviewer: str) -> None:
    """Code passages to theme THEME_ID as well (their theme, where they have none)."""
    from ..review.coding import add_to_theme

    with open_project(project) as proj:
        _say(add_to_theme(proj, theme_id, _ids(passages), reviewer=reviewer))
# --- the reviewer's confidence in a finding (GRADE-CERQual; synth.evidence, synth.review.appraisal) ---

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
