"""Carry theme ids across discovery runs: match the new themes to the previous run's.

Themes are matched on their members (passage keys, the sha256 of the passage text), compared only
over the passages both runs saw, so adding sources does not by itself make a theme look changed.
The matching is one-to-one (Hungarian) on Jaccard similarity. Themes that share no members (the
passages were re-segmented, or their sources replaced) fall back on centroid cosine similarity.
An old theme that found no partner of its own but whose surviving members mostly went into one
new theme was absorbed by it: that new theme is 'merged'. An old theme with no successor at all
is 'gone'; a new theme with no predecessor is 'new' (with `split_from` when most of its members
came from one old theme that is matched elsewhere).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .vectors import unit

KEPT, CHANGED, NEW, MERGED = "kept", "changed", "new", "merged"


@dataclass(frozen=True)
class PreviousTheme:
    members: frozenset[str]  # passage keys (text sha256) placed in the theme by the previous run
    centroid: np.ndarray  # (dim,), L2-normalised


@dataclass(frozen=True)
class ThemeMatch:
    new_index: int
    old_theme_id: int | None
    status: str  # 'kept' | 'changed' | 'new' | 'merged'
    similarity: float = 0.0  # Jaccard over shared passages, or centroid cosine when basis is 'centroid'
    basis: str = ""  # 'members' | 'centroid' | '' (no predecessor)
    absorbed: tuple[int, ...] = ()  # other old theme ids merged into this one
    split_from: int | None = None  # for a 'new' theme: the old theme most of its members came from


@dataclass(frozen=True)
class MatchReport:
    matches: tuple[ThemeMatch, ...]  # one per new theme, in new-index order
    gone: tuple[int, ...]  # old theme ids with no successor


def match_themes(
    previous: Mapping[int, PreviousTheme],
    new_members: Sequence[set[str]],
    new_centroids: np.ndarray,
    *,
    kept_jaccard: float = 0.8,
    min_jaccard: float = 0.3,
    min_cosine: float = 0.85,
    absorbed_share: float = 0.5,
    present: Collection[str] | None = None,
) -> MatchReport:
    """Match new themes to previous ones; see the module docstring for the rules.

    kept_jaccard: at least this member overlap (over shared passages) keeps a theme as it was.
    min_jaccard: below this, two themes are not the same theme by their members.
    min_cosine: centroid similarity that identifies themes sharing no members.
    absorbed_share: share of an old theme's surviving members that must land in one new theme
    for the old theme to count as merged into it (and, for a new theme, as split from it).
    present: keys of every passage the new run clustered, placed or not. Without it, a passage
    the new run left unplaced is indistinguishable from one whose source was removed.
    """
    old_ids = sorted(previous)
    k_new = len(new_members)
    centroids = np.asarray(new_centroids, dtype=np.float64)
    if centroids.ndim != 2 or len(centroids) != k_new:
        raise ValueError(
            f"match_themes: {k_new} member sets but {len(centroids)} centroids (shape {centroids.shape})"
        )
    seen_before = set().union(*(previous[i].members for i in old_ids)) if old_ids else set()
    seen_now = set().union(*new_members) if k_new else set()
    if present is not None:
        seen_now |= set(present)
    shared = seen_before & seen_now
    old_sets = [previous[i].members & shared for i in old_ids]
    new_sets = [set(m) & shared for m in new_members]
    inter = np.array([[len(a & b) for b in new_sets] for a in old_sets], dtype=np.float64).reshape(
        len(old_ids), k_new
    )
    sizes_old = np.array([len(a) for a in old_sets], dtype=np.float64)
    sizes_new = np.array([len(b) for b in new_sets], dtype=np.float64)
    union = sizes_old[:, None] + sizes_new[None, :] - inter
    jaccard = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)

    old_for_new: dict[int, tuple[int, float, str]] = {}  # new index -> (old row, similarity, basis)
    for r, c in _assign(jaccard, min_jaccard):
        old_for_new[c] = (r, float(jaccard[r, c]), "members")

    # Fall back on centroids for themes whose members the two runs do not share.
    # (Only old themes with a centroid in the new run's vector space can be compared.)
    comparable = {r for r in range(len(old_ids)) if previous[old_ids[r]].centroid is not None
                  and np.shape(previous[old_ids[r]].centroid) == centroids.shape[1:]}
    free_old = [r for r in range(len(old_ids))
                if r not in {v[0] for v in old_for_new.values()} and sizes_old[r] == 0 and r in comparable]
    free_new = [c for c in range(k_new) if c not in old_for_new and sizes_new[c] == 0]
    if free_old and free_new:
        old_c = np.stack([unit(np.ravel(previous[old_ids[r]].centroid), np.float64) for r in free_old])
        cosine = old_c @ np.stack([unit(np.ravel(centroids[c]), np.float64) for c in free_new]).T
        for r, c in _assign(cosine, min_cosine):
            old_for_new[free_new[c]] = (free_old[r], float(cosine[r, c]), "centroid")

    matched_old = {v[0] for v in old_for_new.values()}
    absorbed: dict[int, list[int]] = {}
    gone = []
    for r in range(len(old_ids)):
        if r in matched_old:
            continue
        target = _dominant(inter[r], sizes_old[r], absorbed_share)
        if target is None:
            gone.append(old_ids[r])
        else:
            absorbed.setdefault(target, []).append(old_ids[r])

    matches = []
    for c in range(k_new):
        extra = tuple(sorted(absorbed.get(c, ())))
        if c in old_for_new:
            r, similarity, basis = old_for_new[c]
            if extra:
                status = MERGED
            elif basis == "members" and similarity >= kept_jaccard:
                status = KEPT
            else:
                status = CHANGED
            matches.append(ThemeMatch(c, old_ids[r], status, similarity, basis, extra))
        elif extra:  # absorbed several old themes without matching any one of them
            matches.append(ThemeMatch(c, extra[0], MERGED, 0.0, "members", extra[1:]))
        else:
            source = _dominant(inter[:, c], sizes_new[c], absorbed_share)
            split_from = old_ids[source] if source is not None and source in matched_old else None
            matches.append(ThemeMatch(c, None, NEW, split_from=split_from))
    return MatchReport(matches=tuple(matches), gone=tuple(gone))


def _assign(similarity: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """One-to-one pairs maximising total similarity, keeping only pairs at or above threshold."""
    if similarity.size == 0:
        return []
    rows, cols = linear_sum_assignment(-similarity)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if similarity[r, c] >= threshold]


def _dominant(overlaps: np.ndarray, size: float, share: float) -> int | None:
    """The index holding at least `share` of `size` items, if any (largest, then lowest index)."""
    if size == 0 or overlaps.size == 0:
        return None
    best = int(np.argmax(overlaps))
    return best if overlaps[best] >= share * size else None
