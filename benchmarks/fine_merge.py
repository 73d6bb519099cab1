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

Branch dup13 adds `merged_keeping_gathered`: recurring ideas gathered from the unmerged partition
before the merge and kept as themes (so the demo's community-language finding survives it), the same
refits used for both, and optionally (`placed_as_pooled`) the passages a loose merged theme taken apart
leaves unplaced placed in their nearest part.

Measured in docs/benchmarks.md, "Over-cluster, then merge" and its section 4; not an option of synth:
no setting won on every dev set (short13), and the one that does (x1.6 d0.4, dup13) changes the demo. `benchmarks.devsets` runs it through `merged_fine_themes`, which swaps
`synth.cluster.ward_votes` for the merging one for the length of one call (as `--reuse-umap` swaps
`synth.umap_space.reduce`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

import synth.cluster as cluster
from synth.assign import Votes


def complete_linkage(C: np.ndarray, sizes: np.ndarray, distance: float, cap: float | None = None,
                     sums: np.ndarray | None = None, floor: float | None = None) -> np.ndarray:
    """Each row of C (unit centroids) mapped to its merged group, numbered from 0: complete linkage on
    cosine distance, stopped at `distance`; a merge whose union would exceed `cap` passages is skipped,
    and so is one whose union is looser than `floor` (its cohesion |sum of its unit rows| / size, from
    `sums`, each fine theme's sum of its passages' own unit vectors)."""
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
    With `again`, a loose group's fine themes are merged among themselves once more at that distance."""
    n = int(group.max()) + 1
    sums = np.zeros((n, own.shape[1]))
    np.add.at(sums, group, own)
    count = np.bincount(group, weights=sizes, minlength=n)
    cohesion = np.linalg.norm(sums, axis=1) / np.maximum(count, 1)
    parts = np.bincount(group, minlength=n)
    loose = (parts > 1) & (cohesion < np.median(cohesion[count > 0]))
    out = np.where(loose[group], n + np.arange(len(group)), group)
    if again is not None:
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
        sums = np.zeros((fine, smoothed.shape[1]))
        np.add.at(sums, ref, smoothed)
        centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        sizes = np.bincount(ref, minlength=fine)
        own = np.zeros((fine, X.shape[1]))  # the passages' own unit vectors, as recurring.py judges tightness
        np.add.at(own, ref, X)
        cohesion = np.linalg.norm(own, axis=1)[sizes > 0] / sizes[sizes > 0]
        if share is not None:  # merged by shared neighbours, not by centroid distance
            group = neighbour_merge(neighbour_links(np.asarray(X, np.float32), ref, fine), share)
        else:
            group = complete_linkage(centroids, sizes, distance, None if cap is None else cap * len(X) / k,
                                     own, None if tight is None else float(np.quantile(cohesion, tight)))
        if undo_loose:
            group = _undo_loose(group, own, sizes, centroids, distance / 2 if undo_loose == "halve" else None)
        chosen = np.where(votes.chosen >= 0, group[np.maximum(votes.chosen, 0)], -1)
        return smoothed, group[ref], Votes(group[ref], chosen, int(group.max()) + 1)

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


def merged_keeping_gathered(run, vectors, groups, *, factor: float = 1.0, place_pooled: bool = False, **merge):
    """Gather before merging (branch dup13): the merge with pooled votes places passages that the
    partition before the merge left unplaced, among them small recurring ideas that discover's
    recurring-idea step would have gathered into a theme of their own (the demo's community-language
    advisers, 3 passages from 3 interviews, end up a quarter of a merged "Written agreement" theme).
    So the recurring ideas are gathered from the unmerged partition's unplaced passages first, and
    kept as themes of the merged one. `run()` runs the clusterer (`synth.cluster.cluster_passages`
    with its parameters); consensus Ward's refits are fitted once, at `factor` x its themes, and both
    partitions are made from the same votes, so this costs one more assignment, not a second fit.
    With `place_pooled` (and `undo_loose`), a passage left unplaced because the refits split it between
    fine themes of a loose merged theme (taken apart again) is placed where the merged theme would
    have placed it, in the fine part it is nearest (`placed_as_pooled`)."""
    from synth.recurring import gather_unplaced

    original, fitted = cluster.ward_votes, []

    def fine_votes(X, fit, use_groups, k, *rest):
        if not fitted:
            fitted.append(original(X, fit, use_groups, int(round(factor * k)), *rest))
        return fitted[0]

    cluster.ward_votes = fine_votes
    try:
        before = run()
        with merged_fine_themes(factor=1.0, **merge):  # wraps fine_votes: the same refits, pooled
            merged = run()
        if place_pooled and merge.get("undo_loose"):
            with merged_fine_themes(factor=1.0, **{**merge, "undo_loose": False}):
                merged = placed_as_pooled(merged, run(), vectors)
    finally:
        cluster.ward_votes = original
    groups = np.arange(len(before.labels)) if groups is None else np.asarray(groups)
    gathered, _ = gather_unplaced(before, vectors, groups)
    return with_gathered(merged, gathered, before.n_themes, vectors)


def with_gathered(merged, gathered, first: int, vectors):
    """`merged` with each theme of `gathered` numbered `first` or above (the recurring ideas gathered
    from the unmerged partition's unplaced) that the merge placed in a theme made a theme of its own;
    the themes it takes passages from keep the rest (a group that would empty one is left where the
    merge put it). A group the merge left unplaced is left to discover's own gathering, which runs
    after carving: made a theme here, before carving, it would change carving's yardsticks where the
    merge changed nothing (the bills: 25 themes, NMI -0.009)."""
    from dataclasses import replace

    from synth.vectors import unit_rows

    X = unit_rows(vectors)
    labels, nearest = merged.labels.copy(), merged.nearest.copy()
    probability = merged.probability.copy()
    centroids = [c for c in merged.centroids]
    kept = 0
    for j in range(first, gathered.n_themes):
        group = np.flatnonzero(gathered.labels == j)
        taken = labels[group]
        if (taken < 0).all():
            continue
        left = np.bincount(labels[labels >= 0], minlength=len(centroids)) - np.bincount(taken[taken >= 0],
                                                                                       minlength=len(centroids))
        if (left[np.unique(taken[taken >= 0])] <= 0).any():
            continue
        labels[group] = nearest[group] = len(centroids)
        probability[group] = np.maximum(probability[group], 0.5)
        centroids.append(gathered.centroids[j])
        for t in np.unique(taken[taken >= 0]):  # the themes it left: their centres without it
            total = np.asarray(X[np.flatnonzero(labels == t)], np.float64).sum(axis=0)
            centroids[t] = (total / max(np.linalg.norm(total), 1e-12)).astype(merged.centroids.dtype)
        kept += 1
    if not kept:
        return merged
    sizes = np.bincount(labels[labels >= 0], minlength=len(centroids))
    stats = {**merged.stats, "n_themes": len(centroids), "gathered_before_merge": kept,
             "coverage": float((labels >= 0).mean()), "theme_sizes": [int(s) for s in sizes]}
    return replace(merged, labels=labels, nearest=nearest, probability=probability,
                   centroids=np.stack(centroids).astype(merged.centroids.dtype), stats=stats)


def placed_as_pooled(parts, pooled, vectors):
    """`parts` (loose merged themes taken apart) with each passage it leaves unplaced but `pooled` (the
    same votes, nothing taken apart) places given its nearest theme of `parts`, when that theme lies
    inside the passage's pooled theme (most of its members are there)."""
    from dataclasses import replace

    from synth.vectors import unit_rows

    labels = parts.labels.copy()
    k = parts.n_themes
    home = np.full(k, -2)  # each part's pooled theme: where most of its members are
    for t in range(k):
        there = pooled.labels[parts.labels == t]
        there = there[there >= 0]
        if len(there):
            home[t] = np.bincount(there).argmax()
    fill = (labels < 0) & (pooled.labels >= 0) & (home[parts.nearest] == pooled.labels)
    if not fill.any():
        return parts
    labels[fill] = parts.nearest[fill]
    X = unit_rows(vectors)
    centroids = parts.centroids.copy()
    for t in np.unique(labels[fill]):
        total = np.asarray(X[labels == t], np.float64).sum(axis=0)
        centroids[t] = total / max(np.linalg.norm(total), 1e-12)
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    return replace(parts, labels=labels, centroids=centroids,
                   stats={**parts.stats, "placed_as_pooled": int(fill.sum()), "coverage": float((labels >= 0).mean()),
                          "unplaced": int((labels < 0).sum()), "theme_sizes": [int(s) for s in sizes]})
