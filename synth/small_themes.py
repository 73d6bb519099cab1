"""Which small themes stand: the floor under the minimum theme size (issue 13, item 2).

A theme smaller than the corpus-wide minimum size is dissolved into its members' next-best themes,
unless it is a recurring idea: enough passages from enough sources, as tight as a typical full-size
theme, and (with the graph partition) holding most of its members' neighbour weight. So an idea
three interviews raise stands beside a long literature set whose volume sets the minimum size.
Pure functions over unit-row arrays, used by `synth.consensus_themes` after the consensus partition.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.sparse import csr_matrix

from .refine import unit


_SUM_ROWS = 16384  # above this many rows, sum block by block: no float64 copy of a corpus-sized matrix


def centroids_of(Y: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """The float64 sum of the rows of each label (k x dim).

    A large matrix is summed block by block (each block's sums added in the blocks' order), holding
    one block's float64 copy instead of the whole matrix's (30 GB at 10^7 passages); the order is
    fixed, so the sums do not depend on where the matrix lives (the driver's heap or a mapped file)."""
    if len(Y) <= _SUM_ROWS:
        return _block_sums(Y, labels, k)
    sums = np.zeros((k, Y.shape[1]), np.float64)
    for start in range(0, len(Y), _SUM_ROWS):
        sums += _block_sums(Y[start:start + _SUM_ROWS], labels[start:start + _SUM_ROWS], k)
    return sums


def _block_sums(Y: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    onehot = csr_matrix((np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(Y)))
    return np.asarray(onehot @ np.asarray(Y, dtype=np.float64))


def viable(X: np.ndarray, m: int, recurring: tuple[int, int, np.ndarray | None],
            tight: float, graph: tuple[np.ndarray, np.ndarray] | None = None) -> Callable[[np.ndarray], bool]:
    """Whether a set of passages (indices) may stand as a theme: m of them, or at least the recurring
    floor from enough sources *and* as tight as a typical full-size theme (so that on noise, three
    passages from three sources do not make a theme). With the graph partition, the small set must
    also hold most of its members' neighbour weight: a few tight passages cut out of a larger idea
    have most of their neighbours outside, a separate small idea has them inside."""
    floor, min_sources, groups = recurring

    def closed(members: np.ndarray) -> bool:
        if graph is None:
            return True
        near, sims = graph
        w = np.maximum(sims[members], 0).astype(np.float64)
        return float((w * np.isin(near[members], members)).sum()) >= 0.5 * float(w.sum())

    def viable(members: np.ndarray) -> bool:
        if len(members) >= m:
            return True
        return (groups is not None and len(members) >= floor and len(np.unique(groups[members])) >= min_sources
                and held_out_cohesion(X, members) >= tight and closed(members))

    return viable


def held_out_cohesion(X: np.ndarray, members: np.ndarray) -> float:
    """Mean cosine of each member to the centre of the *other* members. With the member itself in the
    centre, a handful of passages always looks tighter than a full theme (by about 1/size), and a
    graph partition's small fragments of one idea would pass for recurring ideas of their own."""
    if len(members) < 2:
        return 0.0
    return float(held_out_similarities(X, members).mean())


def held_out_similarities(X: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Each member's cosine to the centre of the other members (float64; empty under two members)."""
    if len(members) < 2:
        return np.zeros(0)
    rows = X[members].astype(np.float64)
    others = rows.sum(axis=0) - rows
    norms = np.linalg.norm(others, axis=1)
    return (rows * others).sum(axis=1) / np.where(norms == 0, 1, norms)


def typical_cohesion(X: np.ndarray, nearest: np.ndarray, m: int) -> float:
    """Median held-out cohesion of the themes with at least m members."""
    values = [held_out_cohesion(X, np.flatnonzero(nearest == j))
              for j, size in enumerate(np.bincount(nearest)) if size >= m]
    return float(np.median(values)) if values else 1.0


def recurring_floor(m: int, min_sources: int, groups: np.ndarray | None) -> tuple[int, int, np.ndarray | None]:
    """(passages, sources, groups): a theme under the minimum size still stands when at least this many
    passages from at least this many sources carry it. An idea three interviews raise is a theme even
    when a long literature set makes the corpus-wide minimum size large."""
    if groups is None or min_sources <= 0:
        return (m, 0, None)
    return (max(3, min_sources, math.ceil(m / 3)), min_sources, groups)


def dissolve_small(
    Y: np.ndarray, nearest: np.ndarray, votes: np.ndarray, k: int, m: int,
    viable: Callable[[np.ndarray], bool] | None = None,
) -> tuple[np.ndarray, int]:
    """Dissolve themes under m members (unless they recur across enough sources, see
    `recurring_floor`), smallest first; members go to their next-best theme."""
    alive = np.ones(k, bool)
    nearest = nearest.copy()
    dissolved = 0
    sums = None  # each theme's sum, summed over all rows once; then only the themes that change
    while alive.sum() > 1:
        sizes = np.bincount(nearest, minlength=k)
        small = alive & (sizes < m)
        if viable is not None:
            for j in np.flatnonzero(small & (sizes > 0)):
                if viable(np.flatnonzero(nearest == j)):
                    small[j] = False
        if not small.any():
            break
        j = int(np.argmin(np.where(small, sizes, np.iinfo(np.int64).max)))
        alive[j] = False
        dissolved += 1
        moving = np.nonzero(nearest == j)[0]
        if len(moving) == 0:
            continue
        sums = centroids_of(Y, nearest, k) if sums is None else sums
        centroids = unit(sums)
        # Refit votes decide; similarity (< 1 vote) breaks ties and places passages no refit put anywhere.
        score = votes[moving].astype(np.float64) + 0.5 * (Y[moving] @ centroids.T.astype(np.float32))
        score[:, ~alive] = -np.inf
        nearest[moving] = np.argmax(score, axis=1)
        _resum(sums, Y, nearest, k, np.union1d([j], nearest[moving]))
    return nearest, dissolved


def _resum(sums: np.ndarray, Y: np.ndarray, labels: np.ndarray, k: int, changed: np.ndarray) -> None:
    """`sums[changed]` made again, in place, as `centroids_of(Y, labels, k)` would make them, bit
    for bit, from the rows of those labels only (a dissolved theme's members move to a few themes:
    re-summing every row for each dissolved theme cost n x dim each time, hours at 10^7).

    Bit for bit: a label's sum in `centroids_of` adds its rows one by one in row order within each
    block (a sparse one-hot product), then the blocks' sums in order; the same product over just the
    label's rows of each block adds the same rows in the same order. Other labels' sums are untouched
    because their rows are."""
    rows = np.flatnonzero(np.isin(labels, changed))
    if len(Y) <= _SUM_ROWS:
        fresh = _block_sums(Y[rows], labels[rows], k)
    else:
        fresh = np.zeros_like(sums)
        for start in range(0, len(Y), _SUM_ROWS):
            inside = rows[(rows >= start) & (rows < start + _SUM_ROWS)]
            fresh += _block_sums(Y[inside], labels[inside], k)
    sums[changed] = fresh[changed]
