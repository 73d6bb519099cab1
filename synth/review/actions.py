"""Review actions: what a reviewer can do to the themes that discover suggested.

One function per action. Each validates its input, applies the change in one transaction, and
appends one decision to the project's log with the reviewer, the action, and the `before` and
`after` state of everything it touched. The CLI and the web app call these and nothing else.

Every `before`/`after` is a snapshot of the same shape, so any decision can be undone the same way:
``{"themes": {"12": {"status": "suggested"}}, "memberships": {"45": {"theme_id": 12, ...}}}``;
a theme that did not exist before (a split's new sub-themes) is ``null`` in `before`, and a
passage with no membership row is ``null``.

Concurrency: web edits pass `expected`, the revision of each theme as the reviewer's page showed
it. If another reviewer changed that theme since, the edit is refused with `ConflictError` instead
of silently overwriting. Every human edit bumps the revision of each theme it touches (moving a
passage bumps both the theme it left and the one it joined).

Semantics chosen here:

- Split: the theme's placed passages go to new sub-themes (`parent_id` = the split theme) as
  human placements; the split theme becomes 'retired' (its page lists the sub-themes). The
  sub-themes' labels count as human-given, so a later discover keeps them (and their names)
  even when the clustering no longer finds them.
- Undo: undoes the reviewer's OWN latest decision that is not undone yet, by appending an 'undo'
  decision (`undoes` = its id) that restores its `before`. Repeated undo walks further back. Undo
  is refused when anything that decision set has been changed since by a person (e.g. another
  reviewer renamed the theme), so it never silently overwrites a later edit; what discover keeps
  up to date (terms, category mix, machine-suggested links) does not block it. Sub-themes created
  by an undone split are retired, not deleted; nothing is ever deleted.
- Remove: the passage stays linked to the theme but unplaced, by a human, so discover leaves it out.

The decision-log machinery (snapshots, undo, describe) is in `decisionlog`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..errors import ConflictError, SynthError
from ..records import CATEGORIES
from ..statuses import LIVE, TRANSITIONS, Transition
from ..store import Decision, Project, ThemeRow, now_iso
from .decisionlog import (THEME_FIELDS, Change, Outcome, _code_state, _coding_state,  # noqa: F401 (re-exported)
                          _membership_state, _theme_state, coding_key, describe, undo, undoable)

from .restructure import _category_fields, _theme_category, _vectors, merge, split  # noqa: F401 (re-exported)
from .rules import (MAX_LABEL, MAX_TEXT, QUOTES_PER_THEME, STALE, _clean, _name, _passage,  # noqa: F401 (re-exported)
                    _require_live, _theme, check_revisions, or_list)

_Change = Change  # the name coding.py uses

# --- status ----------------------------------------------------------------------------------------

def _set_status(project: Project, theme_id: int, move: Transition, *, reviewer: str,
                expected: Mapping[int, int] | None) -> Outcome:
    with project.transaction():
        check_revisions(project, expected, reviewer)
        theme = _theme(project, theme_id)
        if theme.status == move.to:
            raise SynthError(f"{_name(theme)} is already {move.to}")
        if theme.status not in move.from_statuses:
            raise SynthError(f"cannot {move.action} {_name(theme)}: it is {theme.status}; only a theme that is "
                             f"{or_list(move.from_statuses)} can be {move.done}")
        change = Change(project)
        fields: dict[str, object] = {"status": move.to}
        if theme.merged_into is not None and move.to == "suggested":
            fields["merged_into"] = None
        change.theme(theme.id, **fields)
        decision = change.log(reviewer=reviewer, action=move.action, theme_id=theme.id)
    return Outcome(decision, f"{move.done} {_name(theme)}")


def set_status(project: Project, theme_id: int, action: str, *, reviewer: str,
               expected: Mapping[int, int] | None = None) -> Outcome:
    """Make one of the status moves of `synth.statuses.TRANSITIONS` (accept, reject, restore)."""
    return _set_status(project, theme_id, TRANSITIONS[action], reviewer=reviewer, expected=expected)


def accept(project: Project, theme_id: int, *, reviewer: str, expected: Mapping[int, int] | None = None) -> Outcome:
    """Mark a suggested (or rejected) theme as accepted: discover then keeps its members."""
    return _set_status(project, theme_id, TRANSITIONS["accept"], reviewer=reviewer, expected=expected)


def reject(project: Project, theme_id: int, *, reviewer: str, expected: Mapping[int, int] | None = None) -> Outcome:
    """Mark a theme as rejected. It stays in the project and can be restored."""
    return _set_status(project, theme_id, TRANSITIONS["reject"], reviewer=reviewer, expected=expected)


def restore(project: Project, theme_id: int, *, reviewer: str, expected: Mapping[int, int] | None = None) -> Outcome:
    """Bring a rejected, merged or retired theme back as a suggestion."""
    return _set_status(project, theme_id, TRANSITIONS["restore"], reviewer=reviewer, expected=expected)


# --- wording and category ----------------------------------------------------------------------

def _set_by_reviewer(project: Project, theme_id: int, field: str, value: str, *, action: str, already: str,
                     reviewer: str, expected: Mapping[int, int] | None,
                     more: Callable[[ThemeRow], dict] | None = None) -> tuple[ThemeRow, int]:
    """Set a theme's label, definition or category as a person's (discover keeps it from then on);
    the theme as it was, and the decision logged."""
    with project.transaction():
        check_revisions(project, expected, reviewer)
        theme = _theme(project, theme_id)
        if getattr(theme, field) == value and getattr(theme, f"{field}_by_human"):
            raise SynthError(f"{_name(theme)} {already}")
        change = Change(project)
        change.theme(theme.id, **{field: value, f"{field}_by_human": True}, **(more(theme) if more else {}))
        return theme, change.log(reviewer=reviewer, action=action, theme_id=theme.id)


def rename(project: Project, theme_id: int, label: str, *, reviewer: str,
           expected: Mapping[int, int] | None = None) -> Outcome:
    """Give a theme a reviewer's label; discover keeps it from then on."""
    label = " ".join(_clean(label, "label", MAX_LABEL).split())
    theme, decision = _set_by_reviewer(project, theme_id, "label", label, action="rename",
                                       already="already has that label", reviewer=reviewer, expected=expected)
    return Outcome(decision, f"renamed theme {theme.id}: {theme.label!r} → {label!r}")


def define(project: Project, theme_id: int, definition: str, *, reviewer: str,
           expected: Mapping[int, int] | None = None) -> Outcome:
    """Set a theme's definition; discover keeps it from then on."""
    definition = _clean(definition, "definition", MAX_TEXT, allow_empty=True)
    theme, decision = _set_by_reviewer(project, theme_id, "definition", definition, action="define",
                                       already="already has that definition", reviewer=reviewer, expected=expected)
    return Outcome(decision, f"changed the definition of {_name(theme)}")


def recategorise(project: Project, theme_id: int, category: str, *, reviewer: str,
                 expected: Mapping[int, int] | None = None) -> Outcome:
    """Set a theme's category (barrier, enabler, practice or context); discover keeps it."""
    if category not in CATEGORIES:
        raise SynthError(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    theme, decision = _set_by_reviewer(
        project, theme_id, "category", category, action="recategorise", already=f"is already {category}",
        reviewer=reviewer, expected=expected,
        # confidence and reasons for the category the person chose, not the one synth had voted for
        more=lambda t: reviewer_category_fields(project, t.id, category, f"reviewer {reviewer}"))
    return Outcome(decision, f"recategorised {_name(theme)}: {theme.category or 'none'} → {category}")


def reviewer_category_fields(project: Project, theme_id: int, category: str, who: str) -> dict:
    """Confidence and reasons for a category a person set: the evidence its passages give for THAT
    category (not for the one synth had voted for), under a first reason saying who set it."""
    members = project.memberships(theme_id=theme_id, placed=True)
    categories = project.passage_categories([m.passage_id for m in members])
    known = [m for m in members if m.passage_id in categories]
    first = f"category set by {who}"
    if not known:
        return {"category_confidence": None, "category_reasons": [f"{first}; no passage has a category yet to weigh it"]}
    tc = _theme_category(known, categories, category=category)
    return {"category_confidence": round(float(tc.confidence), 4), "category_mix": dict(tc.mix),
            "category_reasons": [first, *tc.reasons]}


# --- passages --------------------------------------------------------------------------------------

def move(project: Project, passage_ids: Sequence[int], theme_id: int, *, reviewer: str,
         expected: Mapping[int, int] | None = None, only_unplaced: bool = False) -> Outcome:
    """Place passages in a theme by hand; discover never moves them again.

    `only_unplaced` (the unplaced page) refuses passages someone else has placed meanwhile.
    """
    ids = list(dict.fromkeys(int(p) for p in passage_ids))
    if not ids:
        raise SynthError("choose at least one passage to move")
    with project.transaction():
        check_revisions(project, expected, reviewer)
        target = _theme(project, theme_id)
        _require_live(target, "move passages into")
        change = Change(project)
        for pid in ids:
            _passage(project, pid)
            old = project.membership(pid)
            if old and old.placed and old.theme_id == target.id:
                raise SynthError(f"passage {pid} is already in {_name(target)}")
            if only_unplaced and old and old.placed and project.theme(old.theme_id).status in LIVE:
                raise ConflictError(f"Passage {pid} was placed in theme {old.theme_id} since this page was loaded "
                                    "(in another tab or window, or by another reviewer); reload the page.")
            change.membership(pid, {"theme_id": target.id, "probability": old.probability if old else 1.0,
                                    "placed": True, "by_human": True})
            if project.coding(pid, target.id) is not None:  # now its primary theme: no second coding
                change.coding(pid, target.id, None)
        decision = change.log(reviewer=reviewer, action="move", theme_id=target.id,
                              passage_id=ids[0] if len(ids) == 1 else None)
    what = f"passage {ids[0]}" if len(ids) == 1 else f"{len(ids)} passages"
    return Outcome(decision, f"moved {what} to {_name(target)}")


def remove(project: Project, passage_ids: Sequence[int], *, reviewer: str,
           expected: Mapping[int, int] | None = None, theme_id: int | None = None) -> Outcome:
    """Take passages out of their theme; they stay unplaced (by a human), so discover won't put them back.

    With `theme_id`, a passage coded to that theme beyond its primary one loses that coding only.
    """
    ids = list(dict.fromkeys(int(p) for p in passage_ids))
    if not ids:
        raise SynthError("choose at least one passage to remove")
    with project.transaction():
        check_revisions(project, expected, reviewer)
        change = Change(project)
        themes = set()
        for pid in ids:
            _passage(project, pid)
            if theme_id is not None and project.coding(pid, int(theme_id)) is not None:
                change.coding(pid, int(theme_id), None)
                themes.add(int(theme_id))
                continue
            old = project.membership(pid)
            if theme_id is not None and old is not None and old.placed and old.theme_id != int(theme_id):
                raise SynthError(f"passage {pid} is not in theme {theme_id}; nothing to remove")
            if old is None or not old.placed:
                raise SynthError(f"passage {pid} is not in any theme; nothing to remove")
            themes.add(old.theme_id)
            change.membership(pid, {"theme_id": old.theme_id, "probability": old.probability, "placed": False,
                                    "by_human": True})
        decision = change.log(reviewer=reviewer, action="remove", theme_id=themes.pop() if len(themes) == 1 else None,
                              passage_id=ids[0] if len(ids) == 1 else None)
    what = f"passage {ids[0]}" if len(ids) == 1 else f"{len(ids)} passages"
    return Outcome(decision, f"removed {what} from its theme")


def categorise(project: Project, passage_ids: Sequence[int], category: str, *, reviewer: str) -> Outcome:
    """Set the category of passages by hand (barrier, enabler, practice or context).

    A reviewer's category is the passage's category from then on (exports, themes' votes), discover
    never changes it, and the next discover learns from it (synth/learn.py).
    """
    if category not in CATEGORIES:
        raise SynthError(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    ids = list(dict.fromkeys(int(p) for p in passage_ids))
    if not ids:
        raise SynthError("choose at least one passage to categorise")
    with project.transaction():
        for pid in ids:
            _passage(project, pid)  # every id must exist before anything is written
        current = project.reviewed_categories(ids)
        todo = [pid for pid in ids if current.get(pid, {}).get("category") != category]
        if not todo:
            what = f"passage {ids[0]} is" if len(ids) == 1 else "those passages are"
            raise SynthError(f"{what} already {category} (set by a reviewer)")
        change = Change(project)
        at = now_iso()
        for pid in todo:
            change.reviewed_category(pid, {"category": category, "reviewer": reviewer, "at": at})
        decision = change.log(reviewer=reviewer, action="categorise", passage_id=todo[0] if len(todo) == 1 else None,
                              extra={"category": category})
    what = f"passage {todo[0]}" if len(todo) == 1 else f"{len(todo)} passages"
    return Outcome(decision, f"set {what} to {category}")


def code_validation_item(project: Project, item_id: int, theme_id: int | None, category: str, *,
                         reviewer: str) -> Outcome:
    """Record a reviewer's blind code of a validation item: a theme (or none) and a category."""
    from ..validate import check_code  # imported here: the statistics load only for validation

    with project.transaction():
        item = check_code(project, item_id, theme_id, category)
        change = Change(project)
        change.validation_code(item["id"], reviewer, {"theme_id": theme_id, "category": category, "at": now_iso()})
        decision = change.log(reviewer=reviewer, action="validate", passage_id=item["passage_id"])
    where = "no theme" if theme_id is None else f"theme {theme_id}"
    return Outcome(decision, f"coded validation item {item['id']} (passage {item['passage_id']}): {where}, {category}")
def include(project: Project, passage_ids: Sequence[int], *, reviewer: str) -> Outcome:
    """Code structure passages (a heading, furniture, a reference, a caption) as content after all.

    Ingest keeps such passages out of the themes (synth.structure says why); a reviewer who judges
    one to be a substantive statement includes it, and the next discover clusters it with the rest.
    Undo takes it out again."""
    ids = list(dict.fromkeys(int(p) for p in passage_ids))
    if not ids:
        raise SynthError("choose at least one passage to include")
    with project.transaction():
        change = Change(project)
        for pid in ids:
            passage = _passage(project, pid)
            if passage.structure_kind is None:
                raise SynthError(f"passage {pid} is not structure (it is {'content' if passage.codable else 'not coded: too short or an interviewer turn'}); "
                                 "only headings, furniture, references and captions can be included")
            if passage.codable:
                raise SynthError(f"passage {pid} ({passage.structure_kind}) is already included as content")
            change.passage_codable(pid, True)
        decision = change.log(reviewer=reviewer, action="include", passage_id=ids[0] if len(ids) == 1 else None,
                              extra={"included": ids})
    what = f"passage {ids[0]}" if len(ids) == 1 else f"{len(ids)} passages"
    return Outcome(decision, f"included {what} as content; the next discover places it in a theme")


# --- memos ---------------------------------------------------------------------------------------

def memo(project: Project, text: str, *, reviewer: str, theme_id: int | None = None,
         passage_id: int | None = None) -> Outcome:
    """Attach a reviewer's note to a theme or a passage (kept in the decision log)."""
    if (theme_id is None) == (passage_id is None):
        raise SynthError("a memo is about one theme or one passage; give exactly one of them")
    text = _clean(text, "memo", MAX_TEXT)
    with project.transaction():
        if theme_id is not None:
            what = _name(_theme(project, theme_id))
        else:
            _passage(project, passage_id)  # type: ignore[arg-type]
            what = f"passage {passage_id}"
        decision = project.log_decision(reviewer=reviewer, action="memo", theme_id=theme_id, passage_id=passage_id,
                                        after={"memo": text})
    return Outcome(decision, f"added a memo to {what}")


def memos(project: Project, *, theme_id: int | None = None) -> list[Decision]:
    """Memos not undone, oldest first; of one theme, or all (for passages, filter by `passage_id`)."""
    return [d for d in project.live_memos() if theme_id is None or d.theme_id == theme_id]


