"""Over-cluster, then merge (BERTopic-style topic reduction) under consensus Ward: an experiment.

Issue 13 item 3 (branch short13). Consensus Ward is fitted at `factor` times its usual number of
themes; the fine reference themes are then merged by complete linkage on the cosine distance between
their centroids (in the smoothed space the partition was made in), closest pair first, while the
farthest pair of fine centroids across the two stays within `distance` and, with `cap`, while the
union holds at most `cap` typical themes' worth of passages (n / k). The refits' votes are pooled
over the merged themes (a refit that put a passage in either of two merged fine themes now votes for
the merged one), so `synth.consensus_themes` then dissolves, splits and places exactly as it does for
the default. The number of themes comes from the distances, not from sqrt(n/2). With `tight`, a merge
whose union is looser than that quantile of the fine themes is refused; with `share`, fine themes are
merged by shared nearest neighbours instead of centroid distance (`neighbour_merge`); with `undo_loose`,
merged themes looser than the median one are taken apart again (`_undo_loose`).

Branch dup13 added the merge with recurring ideas gathered from the unmerged partition first and
(`placed`) the passages a loose merged theme taken apart leaves unplaced placed in their nearest part;
branch merge13 moved that method into synth (`synth.merge_near`, `ClusterParams(merge=NearMerge(...))`,
discover's partition for short-answer corpora), and `benchmarks.devsets` now runs its
"... gathered first +rec" methods through synth's code, so the benchmark measures what ships. This
module keeps the variants that were not kept (cap, tightness floor, shared neighbours, loose merges
merged again at half the distance, the merge after the fact); the plain linkage and the undoing of
loose merges are synth's.

Measured in docs/benchmarks.md, "Over-cluster, then merge", its section 4 and "The near-duplicate merge
in synth". `benchmarks.devsets` runs the variants through `merged_fine_themes`, which swaps
`synth.cluster.ward_votes` for the merging one for the length of one call (as `--reuse-umap` swaps
`synth.umap_space.reduce`): acceptable for an experiment, not for the product.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

import synth.cluster as cluster
from synth import merge_near


def complete_linkage(C: np.ndarray, sizes: np.ndarray, distance: float, cap: float | None = None,
                     sums: np.ndarray | None = None, floor: float | None = None) -> np.ndarray:
    """Each row of C (unit centroids) mapped to its merged group, numbered from 0: complete linkage on
    cosine distance, stopped at `distance`; a merge whose union would exceed `cap` passages is skipped,
    and so is one whose union is looser than `floor` (its cohesion |sum of its unit rows| / size, from
    `sums`, each fine theme's sum of its passages' own unit vectors). Without cap and floor: synth's."""
    if cap is None and floor is None:
        return merge_near.complete_linkage(C, distance)
    k = len(C)
    sums = None if sums is None else sums.astype(float).copy()
    D = np.clip(1.0 - C @ C.T, 0.0, 2.0)
    np.fill_diagonal(D, np.inf)
    size = sizes.astype(float).copy()
    alive = np.ones(k, bool)
    group = np.arange(k)
    limit = np.inf if cap is None else cap
    while True:
        allowed = D + np.where(size[:, None] + size[None, :] > limit, np.inf, 0.0)
        allowed[~alive] = np.inf
        allowed[:, ~alive] = np.inf
        a, b = np.unravel_index(np.argmin(allowed), allowed.shape)
        if not allowed[a, b] <= distance:
            break
        a, b = min(a, b), max(a, b)
        if floor is not None and np.linalg.norm(sums[a] + sums[b]) / (size[a] + size[b]) < floor:
            D[a, b] = D[b, a] = np.inf  # a loose union: these two stay apart (others may still join either)
            continue
        if sums is not None:
            sums[a] += sums[b]
        D[a] = D[:, a] = np.maximum(D[a], D[b])  # complete linkage: the farthest pair across the union
        D[a, a] = np.inf
        size[a] += size[b]
        alive[b] = False
        group[group == b] = a
    return np.unique(group, return_inverse=True)[1]


def neighbour_merge(links: np.ndarray, share: float) -> np.ndarray:
    """Each fine theme mapped to its merged group: the pair whose union's neighbour links cross between
    the two most (cross / all the union's internal links; about 0.5 for two halves of one idea that
    interleave, near 0 for two ideas side by side) merged first, while that share is at least `share`.
    `links[a, b]`: how many of theme a's passages' nearest neighbours lie in theme b."""
    L = links.astype(float).copy()
    k = len(L)
    alive = np.ones(k, bool)
    group = np.arange(k)
    while True:
        cross = L + L.T
        inside = np.diag(L)
        ratio = cross / np.maximum(cross + inside[:, None] + inside[None, :], 1e-12)
        np.fill_diagonal(ratio, -1.0)
        ratio[~alive] = -1.0
        ratio[:, ~alive] = -1.0
        a, b = np.unravel_index(np.argmax(ratio), ratio.shape)
        if ratio[a, b] < share:
            break
        a, b = min(a, b), max(a, b)
        L[a] += L[b]
        L[:, a] += L[:, b]
        L[b] = 0.0
        L[:, b] = 0.0
        alive[b] = False
        group[group == b] = a
    return np.unique(group, return_inverse=True)[1]


def neighbour_links(X: np.ndarray, labels: np.ndarray, k: int, neighbours: int = 15, block: int = 1024) -> np.ndarray:
    """links[a, b]: how many of theme a's passages' `neighbours` nearest passages (cosine, X unit rows) are in b."""
    links = np.zeros((k, k))
    for start in range(0, len(X), block):
        sims = X[start:start + block] @ X.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf
        near = np.argpartition(-sims, neighbours, axis=1)[:, :neighbours]
        np.add.at(links, (np.repeat(labels[start:start + block], neighbours), labels[near].ravel()), 1.0)
    return links


def _undo_loose(group: np.ndarray, own: np.ndarray, sizes: np.ndarray, centroids: np.ndarray | None = None,
                again: float | None = None) -> np.ndarray:
    """Merged groups looser (cohesion of their passages' own vectors) than the median group are taken
    apart again into their fine themes: a merge should make a theme of one idea, not a catch-all.
    With `again`, a loose group's fine themes are merged among themselves once more at that distance;
    without it, synth's `synth.merge_near.undo_loose`."""
    if again is None:
        return merge_near.undo_loose(group, own, sizes)
    n = int(group.max()) + 1
    loose = merge_near.loose_groups(group, own, sizes)
    out = np.where(loose[group], n + np.arange(len(group)), group)
    for g in np.flatnonzero(loose):
        members = np.flatnonzero(group == g)
        sub = complete_linkage(centroids[members], sizes[members], again)
        out[members] = n + len(group) * (g + 1) + sub  # past every id used above
    return np.unique(out, return_inverse=True)[1]


@contextlib.contextmanager
def merged_fine_themes(factor: float = 3.0, distance: float = 0.3, cap: float | None = None,
                       tight: float | None = None, share: float | None = None, undo_loose: bool = False) -> Iterator[None]:
    """Within the block, consensus Ward over-clusters by `factor` and merges (module docstring)."""
    original = cluster.ward_votes

    def ward_votes(X, fit, use_groups, k, n_neighbors, params, steps, workers, seconds, blocks):
        smoothed, ref, votes = original(X, fit, use_groups, int(round(factor * k)), n_neighbors, params, steps,
                                        workers, seconds, blocks)
        fine = votes.shape[1]
        centroids, sizes, own = merge_near.fine_themes(X, smoothed, ref, fine)
        cohesion = np.linalg.norm(own, axis=1)[sizes > 0] / sizes[sizes > 0]
        if share is not None:  # merged by shared neighbours, not by centroid distance
            group = neighbour_merge(neighbour_links(np.asarray(X, np.float32), ref, fine), share)
        else:
            group = complete_linkage(centroids, sizes, distance, None if cap is None else cap * len(X) / k,
                                     own, None if tight is None else float(np.quantile(cohesion, tight)))
        if undo_loose:
            group = _undo_loose(group, own, sizes, centroids, distance / 2 if undo_loose == "halve" else None)
        return (smoothed, *merge_near.pooled(ref, votes, group))

    cluster.ward_votes = ward_votes
    try:
        yield
    finally:
        cluster.ward_votes = original


def merge_near_duplicates(clustering, vectors: np.ndarray, distance: float):
    """The clustering with its near-duplicate themes merged after the fact: complete linkage on the
    themes' centroids (the passages' own vectors) within `distance`, merged themes looser than the median
    merged theme taken apart again. Placement is left as it was (unplaced passages stay unplaced, for the
    recurring-idea steps to gather), unlike `merged_fine_themes`, which pools the votes."""
    from synth.cluster import Clustering

    X = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    k = clustering.n_themes
    nearest = clustering.nearest
    placed = clustering.labels >= 0
    sizes = np.bincount(nearest[placed], minlength=k)
    own = np.zeros((k, X.shape[1]))
    np.add.at(own, nearest[placed], X[placed])
    centroids = own / np.maximum(np.linalg.norm(own, axis=1, keepdims=True), 1e-12)
    group = _undo_loose(complete_linkage(centroids, sizes, distance), own, sizes)
    merged = int(group.max()) + 1
    labels = np.where(placed, group[nearest], -1)
    sums = np.zeros((merged, X.shape[1]))
    np.add.at(sums, group[nearest[placed]], X[placed])
    return Clustering(labels, group[nearest], clustering.probability,
                      (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).astype(np.float32),
                      {**clustering.stats, "min_theme_size": clustering.stats.get("min_theme_size", 3)})
