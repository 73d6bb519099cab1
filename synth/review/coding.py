"""Building themes from passages: a reviewer codes passages to a new theme or to an existing one.

Multi-coding: each passage keeps ONE primary theme (`memberships`: discover's suggestion, or where a
reviewer placed it) and may carry any number of further codings (`codings`), as QDA packages allow.
Coding a passage that is in no live theme makes the new theme its primary one (so the assignments
export, one row per passage, shows it); coding a passage that already has a live primary theme
adds a further coding and leaves the primary where it is (moving is `actions.move`).

Both actions are audited and undoable like every other (see `actions`): the decision's before and
after hold the theme, the memberships and the codings they touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import NotFoundError, SynthError
from ..records import CATEGORIES
from ..store import Project
from .actions import (LIVE, MAX_LABEL, MAX_TEXT, QUOTES_PER_THEME, Outcome, _Change, _category_fields, _clean, _name,
                      _require_live, _theme, _vectors, check_revisions)

MAX_PASSAGES = 5000


def _passage_ids(project: Project, passage_ids: Sequence[int | str]) -> list[int]:
    """The passages named, checked: each exists, belongs to a current source and is codable."""
    ids: list[int] = []
    for raw in passage_ids:
        text = str(raw).strip()
        if not text.isdigit():
            raise SynthError(f"passage id {text!r} is not a whole number; give ids like 12,15,40")
        ids.append(int(text))
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise SynthError("choose at least one passage (e.g. --passages 12,15)")
    if len(ids) > MAX_PASSAGES:
        raise SynthError(f"{len(ids)} passages at once; code at most {MAX_PASSAGES} in one step")
    current = {s.id for s in project.sources()}
    for pid in ids:
        try:
            p = project.passage(pid)
        except NotFoundError:
            raise NotFoundError(f"passage {pid} is not in {project.path}; find passage ids with "
                                f"`synth search {project.path} WORDS`") from None
        if p.source_id not in current:
            raise SynthError(f"passage {pid} belongs to an older version of its source; code the current version")
        if not p.codable:
            raise SynthError(f"passage {pid} is not codable (an interviewer's turn, too short, or structure such as "
                             f"a heading; `synth passage include {project.path} {pid}` makes structure content)")
    return ids


def _code(project: Project, change: _Change, theme_id: int, pid: int, reviewer: str, *, strict: bool) -> bool:
    """Code passage `pid` to the theme; False if it already was (an error when `strict`)."""
    primary = project.membership(pid)
    live_primary = primary is not None and primary.placed and project.theme(primary.theme_id).status in LIVE
    if (live_primary and primary.theme_id == theme_id) or project.coding(pid, theme_id) is not None:
        if strict:
            raise SynthError(f"passage {pid} is already coded to theme {theme_id}")
        return False
    if live_primary:
        change.coding(pid, theme_id, reviewer)
    else:
        change.membership(pid, {"theme_id": theme_id, "probability": primary.probability if primary else 1.0,
                                "placed": True, "by_human": True})
    return True


def create_theme(project: Project, label: str, passage_ids: Sequence[int | str], *, reviewer: str,
                 category: str | None = None, definition: str = "") -> Outcome:
    """A new (accepted) theme made by a reviewer from example passages; discover keeps it and its codings."""
    label = " ".join(_clean(label, "label", MAX_LABEL).split())
    definition = _clean(definition, "definition", MAX_TEXT, allow_empty=True)
    if category is not None and category not in CATEGORIES:
        raise SynthError(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    with project.transaction():
        ids = _passage_ids(project, passage_ids)
        passages = [project.passage(pid) for pid in ids]
        vectors = _vectors(project, passages)
        vecs = [vectors[p.text_sha256] for p in passages if p.text_sha256 in vectors]
        # The mean of the examples' vectors: the unplaced page's "nearest themes" and a later
        # discover's matching see the new theme where its examples are.
        centroid = np.mean(vecs, axis=0) if vecs and len({v.shape for v in vecs}) == 1 else None
        theme_id = project.create_theme(label=label, definition=definition, status="accepted", centroid=centroid,
                                        label_by_human=True, definition_by_human=bool(definition), origin="reviewer")
        change = _Change(project)
        for pid in ids:
            _code(project, change, theme_id, pid, reviewer, strict=True)
        project.set_quotes(theme_id, ids[:QUOTES_PER_THEME])
        categories = project.passage_categories(ids)
        fields = _category_fields([_Member(pid) for pid in ids], categories, project.theme(theme_id), category)
        project.update_theme(theme_id, bump_revision=False, **fields)
        change.created_theme(theme_id)
        decision = change.log(reviewer=reviewer, action="create", theme_id=theme_id,
                              extra={"examples": ids})
    return Outcome(decision, f"created theme {theme_id} ({label}) from {len(ids)} passage"
                             f"{'' if len(ids) == 1 else 's'}", (theme_id,))


class _Member:
    """What `_category_fields` reads of a member: its passage, and a weight (reviewer examples weigh the same)."""

    def __init__(self, passage_id: int) -> None:
        self.passage_id = passage_id
        self.probability = 1.0


def add_to_theme(project: Project, theme_id: int, passage_ids: Sequence[int | str], *, reviewer: str,
                 expected: Mapping[int, int] | None = None) -> Outcome:
    """Code passages to an existing live theme as well (their primary theme, where they have none)."""
    with project.transaction():
        check_revisions(project, expected)
        theme = _theme(project, theme_id)
        _require_live(theme, "code passages to")
        ids = _passage_ids(project, passage_ids)
        change = _Change(project)
        for pid in ids:
            _code(project, change, theme.id, pid, reviewer, strict=True)
        decision = change.log(reviewer=reviewer, action="code", theme_id=theme.id,
                              passage_id=ids[0] if len(ids) == 1 else None)
    what = f"passage {ids[0]}" if len(ids) == 1 else f"{len(ids)} passages"
    return Outcome(decision, f"coded {what} to {_name(theme)}")
