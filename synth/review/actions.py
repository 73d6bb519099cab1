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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ConflictError, NotFoundError, SynthError
from ..records import CATEGORIES
from ..statuses import LIVE, REVIEWABLE, TRANSITIONS, Transition
from ..store import Decision, Membership, Project, ThemeRow, now_iso
from .decisionlog import (THEME_FIELDS, Change, Outcome, _code_state, _coding_state,  # noqa: F401 (re-exported)
                          _membership_state, _theme_state, coding_key, describe, undo, undoable)
from .split_parts import MIN_PART, describe_parts, fold_small_groups

_Change = Change  # the name coding.py uses

MAX_LABEL = 200
MAX_TEXT = 10_000
QUOTES_PER_THEME = 5
STALE = "This theme was changed by someone else; reload the page"

# --- checks ----------------------------------------------------------------------------------------

def check_revisions(project: Project, expected: Mapping[int, int] | None, reviewer: str | None = None) -> None:
    """Refuse an edit based on a page that showed an older revision of any theme involved, saying
    who changed it: the same reviewer in another tab or window is not "someone else"."""
    for theme_id, revision in (expected or {}).items():
        current = project.theme(int(theme_id)).revision
        if current != int(revision):
            last = _last_decision_on(project, int(theme_id))
            detail = f"theme {theme_id} is at revision {current}; your page showed {revision}"
            if last is not None and reviewer is not None and last.reviewer == reviewer:
                raise ConflictError(f"You changed this theme in another tab or window since this page was loaded "
                                    f"(your {last.action} at {last.at}); reload the page to see it ({detail}).")
            if last is not None:
                raise ConflictError(f"{STALE} ({last.reviewer}: {last.action} at {last.at}; {detail}).")
            raise ConflictError(f"This theme changed since this page was loaded; reload the page ({detail}).")


def _last_decision_on(project: Project, theme_id: int) -> Decision | None:
    """The latest decision that touched the theme: as its subject, or among the themes or passages it changed."""
    key = str(theme_id)
    for d in reversed(project.decisions()):
        if d.theme_id == theme_id or key in d.after.get("themes", {}) or key in d.before.get("themes", {}):
            return d
        states = [*d.before.get("memberships", {}).values(), *d.after.get("memberships", {}).values()]
        if any(state and state.get("theme_id") == theme_id for state in states):
            return d
    return None


def _theme(project: Project, theme_id: int) -> ThemeRow:
    return project.theme(int(theme_id))  # not found: the store says so, and how to list the themes


def _name(theme: ThemeRow) -> str:
    return f"theme {theme.id} ({theme.label})"


def _require_live(theme: ThemeRow, doing: str) -> None:
    if theme.status not in LIVE:
        raise SynthError(f"cannot {doing} {_name(theme)}: it is {theme.status}; restore it first "
                         f"(`synth theme restore PROJECT {theme.id}`)")


def or_list(words: Sequence[str]) -> str:
    """'suggested or rejected'; 'rejected, merged or retired': a list as a sentence says it."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


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

def _clean(text: str, what: str, limit: int, *, allow_empty: bool = False) -> str:
    text = (text or "").strip()
    if not text and not allow_empty:
        raise SynthError(f"the new {what} is empty; give some text")
    if len(text) > limit:
        raise SynthError(f"the new {what} has {len(text)} characters; keep it under {limit}")
    return text


def rename(project: Project, theme_id: int, label: str, *, reviewer: str,
           expected: Mapping[int, int] | None = None) -> Outcome:
    """Give a theme a reviewer's label; discover keeps it from then on."""
    label = " ".join(_clean(label, "label", MAX_LABEL).split())
    with project.transaction():
        check_revisions(project, expected, reviewer)
        theme = _theme(project, theme_id)
        if theme.label == label and theme.label_by_human:
            raise SynthError(f"{_name(theme)} already has that label")
        change = Change(project)
        change.theme(theme.id, label=label, label_by_human=True)
        decision = change.log(reviewer=reviewer, action="rename", theme_id=theme.id)
    return Outcome(decision, f"renamed theme {theme.id}: {theme.label!r} → {label!r}")


def define(project: Project, theme_id: int, definition: str, *, reviewer: str,
           expected: Mapping[int, int] | None = None) -> Outcome:
    """Set a theme's definition; discover keeps it from then on."""
    definition = _clean(definition, "definition", MAX_TEXT, allow_empty=True)
    with project.transaction():
        check_revisions(project, expected, reviewer)
        theme = _theme(project, theme_id)
        if theme.definition == definition and theme.definition_by_human:
            raise SynthError(f"{_name(theme)} already has that definition")
        change = Change(project)
        change.theme(theme.id, definition=definition, definition_by_human=True)
        decision = change.log(reviewer=reviewer, action="define", theme_id=theme.id)
    return Outcome(decision, f"changed the definition of {_name(theme)}")


def recategorise(project: Project, theme_id: int, category: str, *, reviewer: str,
                 expected: Mapping[int, int] | None = None) -> Outcome:
    """Set a theme's category (barrier, enabler, practice or context); discover keeps it."""
    if category not in CATEGORIES:
        raise SynthError(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    with project.transaction():
        check_revisions(project, expected, reviewer)
        theme = _theme(project, theme_id)
        if theme.category == category and theme.category_by_human:
            raise SynthError(f"{_name(theme)} is already {category}")
        change = Change(project)
        change.theme(theme.id, category=category, category_by_human=True,
                     **reviewer_category_fields(project, theme.id, category, f"reviewer {reviewer}"))
        decision = change.log(reviewer=reviewer, action="recategorise", theme_id=theme.id)
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


# --- merge and split -------------------------------------------------------------------------------

def merge(project: Project, target_id: int, other_ids: Sequence[int], *, reviewer: str,
          expected: Mapping[int, int] | None = None) -> Outcome:
    """Fold other themes into the target: their passages become the target's (as human placements)."""
    others = list(dict.fromkeys(int(t) for t in other_ids))
    if not others:
        raise SynthError("merge needs at least one other theme to fold into the target")
    if int(target_id) in others:
        raise SynthError(f"theme {target_id} cannot be merged into itself; name it once, as the target")
    with project.transaction():
        check_revisions(project, expected, reviewer)
        target = _theme(project, target_id)
        _require_live(target, "merge into")
        themes = [_theme(project, t) for t in others]
        for t in themes:
            if t.status not in REVIEWABLE:
                raise SynthError(f"cannot merge {_name(t)}: it is {t.status}; restore it first")
        change = Change(project)
        moved = 0
        for t in themes:
            for m in project.memberships(theme_id=t.id):
                # Placed passages join the target for good; unplaced ones only point at it as their nearest.
                change.membership(m.passage_id, {"theme_id": target.id, "probability": m.probability,
                                                 "placed": m.placed, "by_human": m.by_human or m.placed})
                moved += m.placed
            for c in project.codings(theme_id=t.id):  # a reviewer's further codings follow the theme
                change.coding(c.passage_id, t.id, None)
                primary = project.membership(c.passage_id)
                in_target = primary is not None and primary.placed and primary.theme_id == target.id
                if not in_target and project.coding(c.passage_id, target.id) is None:
                    change.coding(c.passage_id, target.id, c.reviewer)
            change.theme(t.id, status="merged", merged_into=target.id)
        change.theme(target.id)  # new revision, recorded as touched
        decision = change.log(reviewer=reviewer, action="merge", theme_id=target.id,
                              extra={"merged": [t.id for t in themes]})
    names = ", ".join(str(t.id) for t in themes)
    return Outcome(decision, f"merged theme(s) {names} into {_name(target)}: {moved} passages moved")


def split(project: Project, theme_id: int, *, k: int | None = None, by_category: bool = False, reviewer: str,
          expected: Mapping[int, int] | None = None, seed: int = 0) -> Outcome:
    """Split a theme into sub-themes: k clusters of its passages' embeddings, or one per passage category.

    The sub-themes get the passages as human placements; the split theme is retired (undo restores it).
    """
    if by_category == (k is not None):
        raise SynthError("split needs either k (number of sub-themes) or by-category, not both or neither")
    with project.transaction():
        check_revisions(project, expected, reviewer)
        parent = _theme(project, theme_id)
        _require_live(parent, "split")
        members = project.memberships(theme_id=parent.id, placed=True)
        if len(members) < 2:
            raise SynthError(f"{_name(parent)} has {len(members)} passage(s); a split needs at least 2")
        passages = {m.passage_id: project.passage(m.passage_id) for m in members}
        vectors = _vectors(project, [passages[m.passage_id] for m in members])
        if by_category:
            groups = _groups_by_category(project, parent, members, passages, vectors)
        else:
            groups = _groups_by_embedding(project, parent, members, passages, int(k), seed)  # type: ignore[arg-type]
        categories = project.passage_categories([m.passage_id for m in members])
        parts = describe_parts(project, parent, [g for _, g in groups], passages, vectors,
                               [name if by_category else "" for name, _ in groups])
        change = Change(project)
        created = []
        for (name, group), part in zip(groups, parts, strict=True):
            ids = [m.passage_id for m in group]
            vecs = [vectors[passages[p].text_sha256] for p in ids if passages[p].text_sha256 in vectors]
            centroid = np.mean(vecs, axis=0) if vecs else None
            # Named by its own passages (terms, definition, counts), not the parent's: see split_parts.
            child = project.create_theme(label=part.label, definition=part.definition, top_terms=part.top_terms,
                                         status="accepted" if parent.status == "accepted" else "suggested",
                                         parent_id=parent.id, centroid=centroid, label_by_human=True,
                                         origin="split")
            project.update_theme(child, bump_revision=False, **_category_fields(group, categories, parent,
                                                                                 name if by_category else None))
            change.created_theme(child)
            for m in group:
                change.membership(m.passage_id, {"theme_id": child, "probability": m.probability, "placed": True,
                                                 "by_human": True})
            project.set_quotes(child, [*part.quotes, *(p for p in ids if p not in part.quotes)][:QUOTES_PER_THEME])
            change.after["themes"][str(child)] = _theme_state(project.theme(child), THEME_FIELDS)
            created.append(child)
        _carry_codings_to_parts(project, change, parent.id, created, by_category)
        change.theme(parent.id, status="retired")
        decision = change.log(reviewer=reviewer, action="split", theme_id=parent.id,
                              extra={"into": created, "by": "category" if by_category else f"k={k}"})
    return Outcome(decision, f"split {_name(parent)} into themes {', '.join(map(str, created))}", tuple(created))


def _carry_codings_to_parts(project: Project, change: Change, parent_id: int, parts: Sequence[int],
                            by_category: bool) -> None:
    """A reviewer's further codings of a split theme go to the part that fits each passage best: the
    part of its category (split by category), else the part whose centroid is nearest its vector."""
    codings = project.codings(theme_id=parent_id)
    if not codings:
        return
    categories = project.passage_categories([c.passage_id for c in codings])
    passages = {c.passage_id: project.passage(c.passage_id) for c in codings}
    vectors = _vectors(project, list(passages.values()))
    themes = {t: project.theme(t) for t in parts}
    centroids = {t: project.theme_centroid(t) for t in parts}
    for c in codings:
        part = parts[0]
        category = categories.get(c.passage_id, {}).get("category")
        vector = vectors.get(passages[c.passage_id].text_sha256)
        if by_category and any(themes[t].category == category for t in parts):
            part = next(t for t in parts if themes[t].category == category)
        elif vector is not None and all(centroids[t] is not None and centroids[t].shape == vector.shape for t in parts):
            part = max(parts, key=lambda t: float(np.dot(centroids[t], vector) /
                                                 max(np.linalg.norm(centroids[t]) * np.linalg.norm(vector), 1e-12)))
        change.coding(c.passage_id, parent_id, None)
        primary = project.membership(c.passage_id)
        if not (primary and primary.placed and primary.theme_id == part):
            change.coding(c.passage_id, part, c.reviewer)


def _groups_by_category(project: Project, parent: ThemeRow, members: Sequence[Membership], passages: Mapping,
                        vectors: Mapping[str, np.ndarray]) -> list[tuple[str, list[Membership]]]:
    categories = project.passage_categories([m.passage_id for m in members])
    missing = [m.passage_id for m in members if m.passage_id not in categories]
    if missing:
        raise SynthError(f"{_name(parent)}: {len(missing)} passage(s) have no category yet (e.g. passage {missing[0]}); "
                         "run `synth discover` first, or split with --k")
    groups: dict[str, list[Membership]] = {}
    for m in members:
        groups.setdefault(categories[m.passage_id]["category"], []).append(m)
    if len(groups) < 2:
        raise SynthError(f"all passages of {_name(parent)} are {next(iter(groups))}; there is nothing to split by "
                         "category (split with --k instead)")
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), CATEGORIES.index(kv[0]) if kv[0] in CATEGORIES else 99))
    folded = fold_small_groups(ordered, passages, vectors)  # no one-passage themes
    if len(folded) < 2:
        counts = ", ".join(f"{len(g)} {name}" for name, g in ordered)
        raise SynthError(f"{_name(parent)}: its passages are {counts}; only one category has {MIN_PART} or more, "
                         "so a split by category would make one-passage themes (split with --k instead)")
    return folded


def _vectors(project: Project, passages: Sequence) -> dict[str, np.ndarray]:
    run = project.latest_run()
    if run is None:
        return {}
    return project.cached_embeddings(run["model_id"], [p.text_sha256 for p in passages])


def _groups_by_embedding(project: Project, parent: ThemeRow, members: Sequence[Membership], passages: Mapping,
                         k: int, seed: int) -> list[tuple[str, list[Membership]]]:
    if not 2 <= k <= len(members):
        raise SynthError(f"k={k}: {_name(parent)} has {len(members)} passages, so k must be between 2 and {len(members)}")
    vectors = _vectors(project, list(passages.values()))
    missing = [m.passage_id for m in members if passages[m.passage_id].text_sha256 not in vectors]
    if missing:
        raise SynthError(f"{_name(parent)}: no stored embedding for {len(missing)} passage(s) (e.g. passage {missing[0]}); "
                         "run `synth discover` first, or split --by-category")
    from sklearn.cluster import KMeans  # imported here: only a split needs it

    x = np.stack([vectors[passages[m.passage_id].text_sha256] for m in members]).astype(np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    if len(np.unique(x.round(6), axis=0)) < k:
        raise SynthError(f"{_name(parent)} has fewer than {k} distinct passages; choose a smaller k")
    labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x).labels_
    groups: dict[int, list[Membership]] = {}
    for m, label in zip(members, labels):
        groups.setdefault(int(label), []).append(m)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0].passage_id))
    return [(str(i), g) for i, g in enumerate(ordered, start=1)]


def _category_fields(group: Sequence[Membership], categories: Mapping[int, dict], parent: ThemeRow,
                     chosen: str | None) -> dict:
    """A sub-theme's category: the one it was split by, else the vote of its passages (as discover does)."""
    known = [m for m in group if m.passage_id in categories]
    if not known:
        return {"category": chosen or parent.category, "category_by_human": chosen is not None}
    tc = _theme_category(known, categories, chosen)
    return {"category": chosen or tc.category, "category_by_human": chosen is not None,
            "category_confidence": round(float(tc.confidence), 4), "category_mix": dict(tc.mix),
            "category_reasons": list(tc.reasons)}


def _theme_category(members: Sequence[Membership], categories: Mapping[int, dict], category: str | None = None):
    """The category vote of `members` (each with a stored passage category), as discover computes it,
    cues included, so the reasons ("barrier cues: …") match what a discover run would say."""
    from ..categorise import CueMatch, PassageCategory, categorise_theme  # imported here: loads spaCy

    return categorise_theme([PassageCategory(scores=categories[m.passage_id]["scores"],
                                             category=categories[m.passage_id]["category"],
                                             cues=tuple(CueMatch.from_dict(c) for c in categories[m.passage_id]["cues"]))
                             for m in members],
                            [max(m.probability, 1e-6) for m in members], category=category)


# --- passages --------------------------------------------------------------------------------------

def _passage(project: Project, passage_id: int):
    try:
        return project.passage(int(passage_id))
    except NotFoundError:
        raise NotFoundError(f"passage {passage_id} is not in {project.path}") from None


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


