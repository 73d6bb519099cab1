"""Merging and splitting themes: the review actions that change which themes there are.

A merge folds themes into a target (their passages join it; they are marked merged); a split
retires a theme and makes sub-themes of its passages, by embedding (k parts) or by category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import SynthError
from ..readmodel import latest_space
from ..records import CATEGORIES
from ..statuses import REVIEWABLE
from ..store import Membership, Project, ThemeRow
from ..vectors import unit
from .decisionlog import THEME_FIELDS, Change, Outcome, _theme_state
from .rules import QUOTES_PER_THEME, _name, _require_live, _theme, check_revisions
from .split_parts import MIN_PART, describe_parts, fold_small_groups


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
            part = max(parts, key=lambda t: float(unit(centroids[t], np.float64) @ unit(vector, np.float64)))
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
    space = latest_space(project)
    return space.vectors(p.text_sha256 for p in passages) if space is not None else {}


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

    x = unit(np.stack([vectors[passages[m.passage_id].text_sha256] for m in members]), np.float64)
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
