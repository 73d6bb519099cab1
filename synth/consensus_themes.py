"""The consensus votes shaped into themes: each passage's majority theme, small themes dissolved
unless they recur (`synth.small_themes`), loose themes split and weak splits undone, passages the
votes disagree on placed when they sit as close as a theme's own members (`synth.refine`), and the
themes numbered by size with their centroids.

`synth.cluster` calls `themes_from_votes` on what `synth.consensus_votes` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .assign import Votes, majority
from .refine import place_near, split_loose, undo_weak_splits
from .refine import unit as _unit_rows
from .small_themes import centroids_of as _centroids_of
from .small_themes import dissolve_small, recurring_floor, typical_cohesion, viable

if TYPE_CHECKING:  # the parameters are synth.cluster's, which imports this module
    from .cluster import ClusterParams


@dataclass(frozen=True)
class ConsensusThemes:
    nearest: np.ndarray  # int per passage: its theme, numbered by size
    labels: np.ndarray  # nearest where placed, -1 where not
    probability: np.ndarray  # share of the votes for the passage's theme (at least place_threshold if placed near)
    centroids: np.ndarray  # (themes, dim) float32, unit rows: the placed members' mean
    placed: np.ndarray  # bool per passage
    dissolved: int  # small themes dissolved into their members' next-best themes
    splits: int  # loose themes split (and not undone)


def themes_from_votes(X: np.ndarray, smoothed: np.ndarray, ref_labels: np.ndarray, votes: np.ndarray | Votes,
                      graph: tuple[np.ndarray, np.ndarray] | None, groups: np.ndarray | None, m: int,
                      params: ClusterParams) -> ConsensusThemes:
    """Themes from the votes (n x k, per reference theme), the reference's labels breaking ties; X
    the unit rows, `smoothed` the vectors the partition was made on, `graph` the Leiden neighbour
    graph (None with Ward), `groups` the passages' source codes, m the minimum theme size."""
    k = votes.shape[1]
    rows = np.arange(len(X))
    # Majority of the refits; the reference breaks ties (half a vote), so the result is reproducible.
    nearest = majority(votes, ref_labels)
    stands = viable(X, m, recurring_floor(m, params.min_sources, groups), typical_cohesion(X, nearest, m), graph)
    nearest, dissolved = dissolve_small(smoothed, nearest, votes, k, m, stands)
    probability = votes[rows, nearest] / params.n_resamples
    splits = 0
    # A fixed number of themes is the user's choice; the splits only refine the adaptive default.
    # Halves are judged on the smoothed vectors: on raw ones a split could separate sources' styles.
    split = params.split_loose and params.n_themes is None
    if split:
        nearest, parent, splits = split_loose(smoothed, smoothed, nearest, lambda members: len(members) >= m)
        probability = votes[rows, parent[nearest]] / params.n_resamples  # halves inherit the parent's agreement
    placed = probability >= params.place_threshold
    if params.place_near:
        placed = place_near(X, nearest, placed)
    if split:
        nearest, undone = undo_weak_splits(nearest, parent, placed, lambda members: len(members) >= m)
        splits -= undone
    if params.place_near:
        placed = place_near(X, nearest, placed)
        probability = np.where(placed, np.maximum(probability, params.place_threshold), probability)
    nearest, labels, centroids = renumber(X, nearest, placed)
    return ConsensusThemes(nearest, labels, probability.astype(np.float64), centroids, placed, int(dissolved), int(splits))


def renumber(
    X: np.ndarray, nearest: np.ndarray, placed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Number themes by size (largest first, ties by first passage) and compute their centroids."""
    used, first = np.unique(nearest, return_index=True)
    sizes = np.bincount(nearest)[used]
    order = np.lexsort((first, -sizes))
    remap = np.full(int(nearest.max()) + 1, -1)
    remap[used[order]] = np.arange(len(used))
    nearest = remap[nearest]
    labels = np.where(placed, nearest, -1)
    k = len(used)
    sums = _centroids_of(X, nearest, k)
    # The unplaced counted in a spare theme k: the same sums as over X[placed], without copying X.
    placed_sums = _centroids_of(X, np.where(placed, nearest, k), k + 1)[:k]
    has_placed = placed_sums.any(axis=1)
    sums[has_placed] = placed_sums[has_placed]
    return nearest.astype(np.int64), labels.astype(np.int64), _unit_rows(sums).astype(np.float32)
