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

Over 450 lines because it holds one function per review action, each with its own validation;
the decision-log machinery (snapshots, undo, describe) is to move to its own module (issue 12).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ConflictError, NotFoundError, SynthError
from ..records import CATEGORIES
from ..statuses import LIVE, REVIEWABLE, TRANSITIONS, Transition
from ..store import Decision, Membership, Project, ThemeRow, now_iso
from .split_parts import MIN_PART, describe_parts, fold_small_groups

MAX_LABEL = 200
MAX_TEXT = 10_000
QUOTES_PER_THEME = 5
STALE = "This theme was changed by someone else; reload the page"

# The theme fields a decision snapshots (revision is never restored: it only moves forward).
THEME_FIELDS = ("label", "definition", "top_terms", "category", "category_confidence", "category_mix",
                "category_reasons", "status", "label_by_human", "definition_by_human", "category_by_human",
                "merged_into", "parent_id")


@dataclass(frozen=True)
class Outcome:
    """What an action did: the decision it logged, a one-line message, and the themes it made."""

    decision_id: int
    message: str
    created: tuple[int, ...] = ()


# --- snapshots -----------------------------------------------------------------------------------

def _theme_state(theme: ThemeRow, fields: Iterable[str]) -> dict:
    out = {}
    for f in fields:
        value = getattr(theme, f)
        out[f] = list(value) if isinstance(value, tuple) else value
    return out


def _membership_state(m: Membership | None) -> dict | None:
    if m is None:
        return None
    return {"theme_id": m.theme_id, "probability": m.probability, "placed": m.placed, "by_human": m.by_human}


def coding_key(passage_id: int, theme_id: int) -> str:
    """How a decision's snapshot names a further coding: "passage:theme"."""
    return f"{int(passage_id)}:{int(theme_id)}"


def _coding_state(c) -> dict | None:
    return None if c is None else {"reviewer": c.reviewer, "at": c.at}
def _code_state(code: Mapping | None) -> dict | None:
    return None if code is None else {"theme_id": code["theme_id"], "category": code["category"], "at": code["at"]}


class _Change:
    """Applies edits and records the before/after of every theme field and membership touched."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.before: dict[str, dict] = {"themes": {}, "memberships": {}, "passages": {}, "codings": {},
                                        "passage_reviews": {}, "validation_codes": {}}
        self.after: dict[str, dict] = {"themes": {}, "memberships": {}, "passages": {}, "codings": {},
                                       "passage_reviews": {}, "validation_codes": {}}
        self.bump: set[int] = set()

    def passage_codable(self, passage_id: int, codable: bool) -> None:
        """Include a structure passage as content (or take it out again, on undo)."""
        key = str(passage_id)
        self.before["passages"].setdefault(key, {"codable": self.project.passage(passage_id).codable})
        self.project.set_passage_codable(passage_id, codable)
        self.after["passages"][key] = {"codable": bool(codable)}

    def theme(self, theme_id: int, **fields: object) -> None:
        key = str(theme_id)
        current = self.project.theme(theme_id)
        before = self.before["themes"].setdefault(key, {})
        if before is not None:
            for f in fields:
                before.setdefault(f, _theme_state(current, [f])[f])
        self.project.update_theme(theme_id, **fields)
        self.after["themes"][key] = {**(self.after["themes"].get(key) or {}),
                                     **_theme_state(self.project.theme(theme_id), fields)}

    def created_theme(self, theme_id: int) -> None:
        self.before["themes"][str(theme_id)] = None
        self.after["themes"][str(theme_id)] = _theme_state(self.project.theme(theme_id), THEME_FIELDS)

    def membership(self, passage_id: int, state: dict | None) -> None:
        key = str(passage_id)
        old = self.project.membership(passage_id)
        if key not in self.before["memberships"]:
            self.before["memberships"][key] = _membership_state(old)
        if old is not None:
            self.bump.add(old.theme_id)
        if state is None:
            self.project.clear_membership(passage_id)
        else:
            self.project.set_membership(passage_id, state["theme_id"], probability=state["probability"],
                                        placed=state["placed"], by_human=state["by_human"])
            self.bump.add(state["theme_id"])
        self.after["memberships"][key] = _membership_state(self.project.membership(passage_id))

    def coding(self, passage_id: int, theme_id: int, reviewer: str | None) -> None:
        """Code the passage to the theme as a further coding (`reviewer` given), or take that coding away."""
        key = coding_key(passage_id, theme_id)
        if key not in self.before["codings"]:
            self.before["codings"][key] = _coding_state(self.project.coding(passage_id, theme_id))
        if reviewer is None:
            self.project.clear_coding(passage_id, theme_id)
        else:
            self.project.set_coding(passage_id, theme_id, reviewer=reviewer)
        self.bump.add(theme_id)
        self.after["codings"][key] = _coding_state(self.project.coding(passage_id, theme_id))

    def restore_coding(self, key: str, state: dict | None) -> None:
        passage_id, theme_id = (int(x) for x in key.split(":"))
        if key not in self.before["codings"]:
            self.before["codings"][key] = _coding_state(self.project.coding(passage_id, theme_id))
        if state is None:
            self.project.clear_coding(passage_id, theme_id)
        else:
            self.project.set_coding(passage_id, theme_id, reviewer=state["reviewer"], at=state["at"])
        self.bump.add(theme_id)
        self.after["codings"][key] = _coding_state(self.project.coding(passage_id, theme_id))
    def reviewed_category(self, passage_id: int, state: Mapping | None) -> None:
        """A reviewer's category for a passage (None: none set), recorded like a membership."""
        key = str(passage_id)
        if key not in self.before["passage_reviews"]:
            self.before["passage_reviews"][key] = self.project.reviewed_categories([passage_id]).get(passage_id)
        self.project.set_reviewed_category(passage_id, state)
        self.after["passage_reviews"][key] = self.project.reviewed_categories([passage_id]).get(passage_id)

    def validation_code(self, item_id: int, coder: str, state: Mapping | None) -> None:
        """One reviewer's code of a validation item (keyed "item|reviewer")."""
        key = f"{item_id}|{coder}"
        if key not in self.before["validation_codes"]:
            self.before["validation_codes"][key] = _code_state(self.project.validation_code(item_id, coder))
        self.project.set_validation_code(item_id, coder, state)
        self.after["validation_codes"][key] = _code_state(self.project.validation_code(item_id, coder))

    def log(self, *, reviewer: str, action: str, theme_id: int | None = None, passage_id: int | None = None,
            extra: Mapping | None = None, undoes: int | None = None) -> int:
        # Themes whose members changed get a new revision too: a page showing them is now stale.
        for tid in sorted(self.bump - {int(k) for k in self.after["themes"]}):
            self.project.update_theme(tid)
        before = {k: v for k, v in self.before.items() if v}
        after = {k: v for k, v in self.after.items() if v}
        if extra:
            after.update(extra)
        return self.project.log_decision(reviewer=reviewer, action=action, theme_id=theme_id, passage_id=passage_id,
                                         before=before, after=after, undoes=undoes)


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
        change = _Change(project)
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
        change = _Change(project)
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
        change = _Change(project)
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
        change = _Change(project)
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
        change = _Change(project)
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
        change = _Change(project)
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


def _carry_codings_to_parts(project: Project, change: _Change, parent_id: int, parts: Sequence[int],
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
        change = _Change(project)
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
        change = _Change(project)
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
        change = _Change(project)
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
        change = _Change(project)
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
        change = _Change(project)
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


# --- undo ----------------------------------------------------------------------------------------

def undoable(project: Project, reviewer: str) -> Decision | None:
    """The reviewer's latest decision that is not an undo and has not been undone."""
    return project.latest_undoable(reviewer)


def undo(project: Project, *, reviewer: str) -> Outcome:
    """Undo this reviewer's latest decision not yet undone, by logging one that restores its `before`."""
    with project.transaction():
        target = undoable(project, reviewer)
        if target is None:
            raise SynthError(f"reviewer {reviewer!r} has nothing left to undo")
        _check_unchanged_since(project, target)
        change = _Change(project)
        for key, state in target.before.get("themes", {}).items():
            if state is None:  # made by this decision: retire it (nothing is ever deleted)
                change.theme(int(key), status="retired")
            else:
                change.theme(int(key), **state)
        for key, state in target.before.get("memberships", {}).items():
            if _owned_by_discover(target, key) and not _membership_unchanged(project, target, key):
                continue  # a machine suggestion that a later discover has already replaced: leave it
            change.membership(int(key), state)
        for key, state in target.before.get("passage_reviews", {}).items():
            change.reviewed_category(int(key), state)
        for key, state in target.before.get("validation_codes", {}).items():
            item, coder = key.split("|", 1)
            change.validation_code(int(item), coder, state)
        for key, state in target.before.get("passages", {}).items():
            change.passage_codable(int(key), state["codable"])  # discover drops its placements of it
        for key, state in target.before.get("codings", {}).items():
            change.restore_coding(key, state)
        from . import appraisal  # appraisals, scope and confidence keep their own snapshots

        restored = appraisal.restore(project, target)
        decision = change.log(reviewer=reviewer, action="undo", theme_id=target.theme_id,
                              passage_id=target.passage_id, undoes=target.id,
                              extra={"undid": target.action, **restored})
    return Outcome(decision, f"undid decision {target.id} ({target.action}, {target.at})")


def _owned_by_discover(decision: Decision, key: str) -> bool:
    state = decision.after.get("memberships", {}).get(key)
    return state is not None and not state["by_human"]


def _membership_unchanged(project: Project, decision: Decision, key: str) -> bool:
    return _membership_state(project.membership(int(key))) == decision.after["memberships"][key]


def _check_unchanged_since(project: Project, decision: Decision) -> None:
    """Refuse to undo over a later human edit. Fields discover keeps up to date (a new sub-theme's
    terms and category mix, machine memberships) are not a reviewer's edit and do not block."""
    from . import appraisal

    appraisal.check_unchanged(project, decision)
    created = {k for k, v in decision.before.get("themes", {}).items() if v is None}
    for key, state in decision.after.get("themes", {}).items():
        if key in created:
            state = {f: state[f] for f in ("status", "label", "parent_id", "merged_into")}
        if _theme_state(project.theme(int(key)), state) != state:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): theme {key} has changed "
                                "since; undo the later change first, or edit the theme directly")
    for key in decision.after.get("memberships", {}):
        if not _owned_by_discover(decision, key) and not _membership_unchanged(project, decision, key):
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): passage {key} has moved "
                                "since; undo the later change first, or move it directly")
    for key, state in decision.after.get("passage_reviews", {}).items():
        if project.reviewed_categories([int(key)]).get(int(key)) != state:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): the category of passage {key} "
                                "has been set again since; undo that first, or set it directly")
    for key, state in decision.after.get("validation_codes", {}).items():
        item, coder = key.split("|", 1)
        if _code_state(project.validation_code(int(item), coder)) != state:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): validation item {item} "
                                "has been coded again since; undo that first")
    for key, state in decision.after.get("passages", {}).items():
        if project.passage(int(key)).codable != state["codable"]:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): passage {key} has been "
                                "included or excluded since; undo the later change first")
    for key, state in decision.after.get("codings", {}).items():
        passage_id, theme_id = (int(x) for x in key.split(":"))
        if _coding_state(project.coding(passage_id, theme_id)) != state:
            raise ConflictError(f"cannot undo decision {decision.id} ({decision.action}): the coding of passage "
                                f"{passage_id} to theme {theme_id} has changed since; undo the later change first")


# --- the log, for people -------------------------------------------------------------------------

def describe(decision: Decision) -> str:
    """One readable line per decision: what changed, from what to what."""
    from . import appraisal

    if (line := appraisal.describe(decision)) is not None:
        return line
    if decision.action == "memo":
        subject = f"theme {decision.theme_id}" if decision.theme_id is not None else f"passage {decision.passage_id}"
        return f"memo on {subject}: {decision.after.get('memo', '')}"
    parts = []
    before_t, after_t = decision.before.get("themes", {}), decision.after.get("themes", {})
    for key, after in after_t.items():
        before = before_t.get(key)
        if before is None:
            parts.append(f"theme {key} created ({after.get('label')!r})")
            continue
        for f, value in after.items():
            if f in ("label_by_human", "definition_by_human", "category_by_human") or before.get(f) == value:
                continue
            parts.append(f"theme {key} {f}: {_short(before.get(f))} → {_short(value)}")
    moved = decision.after.get("memberships", {})
    if moved:
        items = sorted(moved.items(), key=lambda kv: int(kv[0]))[:5]
        parts.append(f"{len(moved)} passage(s): " + ", ".join(
            f"{k} → {'theme ' + str(v['theme_id']) if v and v['placed'] else 'unplaced'}" for k, v in items)
            + (" …" if len(moved) > 5 else ""))
    before_r = decision.before.get("passage_reviews", {})
    for key, after in sorted(decision.after.get("passage_reviews", {}).items(), key=lambda kv: int(kv[0]))[:5]:
        old = (before_r.get(key) or {}).get("category", "none")
        parts.append(f"passage {key} category: {old} → {(after or {}).get('category', 'none')}")
    if len(decision.after.get("passage_reviews", {})) > 5:
        parts.append(f"… {len(decision.after['passage_reviews'])} passages in all")
    for key, after in decision.after.get("validation_codes", {}).items():
        item, coder = key.split("|", 1)
        what = "cleared" if after is None else (f"theme {after['theme_id']}" if after["theme_id"] is not None
                                                else "no theme") + f", {after['category']}"
        parts.append(f"validation item {item} coded by {coder}: {what}")
    for key, after in sorted(decision.after.get("passages", {}).items(), key=lambda kv: int(kv[0]))[:5]:
        parts.append(f"passage {key} {'included as content' if after['codable'] else 'back to structure, not coded'}")
    coded = decision.after.get("codings", {})
    if coded:
        items = sorted(coded.items(), key=lambda kv: tuple(int(x) for x in kv[0].split(":")))[:5]
        parts.append(f"{len(coded)} further coding(s): " + ", ".join(
            f"passage {k.split(':')[0]} {'coded to' if v else 'uncoded from'} theme {k.split(':')[1]}"
            for k, v in items) + (" …" if len(coded) > 5 else ""))
    if decision.undoes is not None:
        parts.insert(0, f"undoes decision {decision.undoes}")
    return "; ".join(parts) or "no change"


def _short(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "…'"
