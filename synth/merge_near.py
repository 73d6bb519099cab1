"""Over-cluster, then merge near-duplicate themes: consensus Ward's partition for short-answer corpora
(issue 13, item 3; `synth discover --partition merged`, chosen by `--partition auto` for short text).

On short feedback (survey comments, table rows, transcript turns) the default partition spreads one
idea over several near-duplicate themes ("staff were lovely" in eight wordings), and merging them
raises harmonic purity; fitted finer first, the same merge also raises NMI. Measured on every dev set
(docs/benchmarks.md, "Near-duplicates merged ..." and "The near-duplicate merge in synth"): ahead
of the default on both scores on all four, coverage 0.97, seed ARI 1.0. On long reports the finer
partition re-creates the catch-alls that `synth.section_split` prevents, and on interview transcripts
it trades NMI for purity, which is why discover's `auto` uses it only for short answers
(`synth.partition_choice`).

The method, in `merged_partition`, from ONE fit of consensus Ward's refits at `NearMerge.factor` times
its usual number of themes (`synth.cluster` fits them; this module only re-reads their votes):

1. the fine reference themes are merged by complete linkage on the cosine distance between their
   centroids (in the smoothed space the partition was made in), closest pair first, while the
   farthest pair of fine centroids across a union stays within `distance`; a union holding more than
   `max_share` of the passages is cut again at its own loosest merges until no part does (praise of
   staff in a hundred wordings is all within the distance of itself on a small survey, and chained
   into one theme holding half the passages it tells an analyst nothing); a merged theme looser
   (cohesion of its passages' own vectors) than the median merged theme is taken apart again: a merge
   should make a theme of one idea, not a catch-all;
2. the refits' votes are pooled over the merged themes (a refit that put a passage in either of two
   merged fine themes votes for the merged one), and `synth.consensus_themes` dissolves, splits and
   places as for the default: the merged partition;
3. with `place_pooled`, the votes pooled without taking loose merges apart give a third partition;
   a passage the merged one leaves unplaced but that one places is given its nearest part, when most
   of that part's members are in the passage's pooled theme (the refits agreed on the merged idea,
   only not on which half of it): without it a finer partition leaves refit disagreement between
   fine themes unplaced (coverage 0.90-0.94 on the dev sets);
4. the recurring ideas are gathered from the unmerged (fine) partition's unplaced passages
   (`synth.recurring.gather_unplaced`, discover's rule), and each one the merge placed inside a theme
   is made a theme of its own (`with_gathered`): pooling places those passages, and the merge would
   otherwise swallow a small idea three sources raise (the demo's community-language advisers).

Three partitions from one set of votes cost two more assignments and one gathering, not a second
fit. Pure functions over arrays; deterministic, and as seed-free as consensus Ward itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .assign import Votes
from .vectors import UnitRows, unit_rows

if TYPE_CHECKING:  # synth.cluster imports this module
    from .cluster import Clustering


@dataclass(frozen=True)
class NearMerge:
    """How the merged partition is made (`ClusterParams.merge`). The defaults are what discover ships:
    the one setting ahead of the default partition on both scores on every dev set (docs/benchmarks.md)."""

    factor: float = 1.6  # consensus Ward fitted at this many times its usual number of themes
    distance: float = 0.4  # merge while the farthest pair of fine centroids across a union is this close (cosine)
    # No union of fine themes above this share of the passages (None: no bound): on a small survey the
    # staff-praise themes chained into one theme holding half of it (NMI -0.037 against the partition as
    # fitted); a quarter binds there and on NaPiRE (NMI +0.018), on no other dev set (docs/benchmarks.md,
    # "A bound on merged themes").
    max_share: float | None = 0.25
    place_pooled: bool = True  # step 3 of the module docstring


def fine_theme_count(k: int, merge: NearMerge) -> int:
    """The number of reference themes consensus Ward is fitted at, for k themes by the usual rule."""
    return int(round(merge.factor * k))


def merged_partition(X: np.ndarray, smoothed: np.ndarray, ref: np.ndarray, votes: Votes, groups: np.ndarray | None,
                     merge: NearMerge, themes: Callable[[np.ndarray, Votes], Clustering]) -> Clustering:
    """The merged partition of the passages (module docstring) from consensus Ward's fine votes: X the
    unit rows, `smoothed` the vectors the partition was made on, `ref` and `votes` the fine reference
    themes and the refits' votes on them, `groups` the passages' source codes (None: one source per
    passage), and `themes(ref, votes)` the votes shaped into a clustering (`synth.cluster`'s usual path)."""
    from .recurring import gather_unplaced  # synth.recurring imports synth.cluster, which imports this

    centroids, sizes, own = fine_themes(X, smoothed, ref, votes.shape[1])
    pooled_group = complete_linkage(centroids, merge.distance)
    cut = 0
    if merge.max_share is not None:
        bounded = complete_linkage(centroids, merge.distance, sizes, merge.max_share * len(X))
        cut = int(bounded.max()) - int(pooled_group.max())  # parts the bound added
        pooled_group = bounded
    group = undo_loose(pooled_group, own, sizes)

    before = themes(ref, votes)
    merged = themes(*pooled(ref, votes, group))
    if merge.place_pooled:
        merged = placed_as_pooled(merged, themes(*pooled(ref, votes, pooled_group)), X)
    units = UnitRows(X)
    gathered, _ = gather_unplaced(before, units, np.arange(len(X)) if groups is None else groups)
    out = with_gathered(merged, gathered, before.n_themes, units)
    return replace(out, stats={**out.stats, "merged_from": before.n_themes, "cut_by_share": cut,
                               "largest_merge": int(np.bincount(pooled_group, weights=sizes).max())})


def fine_themes(X: np.ndarray, smoothed: np.ndarray, ref: np.ndarray, fine: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The `fine` reference themes' unit centroids in the smoothed space (what is merged), their sizes,
    and their sums of the passages' own unit vectors (how tight a union is, as synth.recurring judges)."""
    sums = np.zeros((fine, smoothed.shape[1]))
    np.add.at(sums, ref, smoothed)
    centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    own = np.zeros((fine, X.shape[1]))
    np.add.at(own, ref, X)
    return centroids, np.bincount(ref, minlength=fine), own


def complete_linkage(C: np.ndarray, distance: float, sizes: np.ndarray | None = None,
                     most: float | None = None) -> np.ndarray:
    """Each row of C (unit centroids) mapped to its merged group, numbered from 0 in the order of each
    group's first row: complete linkage on cosine distance (scipy), cut where the farthest pair across
    a union would exceed `distance`. With `most` (and `sizes`, each row's passages), a union holding
    more than `most` passages is cut again at its own top merges, the loosest first, until every part
    holds at most `most` (a single row stays whole). An empty theme's zero centroid is at distance 1
    from every other and so merges with none at the distances used."""
    from scipy.cluster.hierarchy import fcluster, linkage, to_tree
    from scipy.spatial.distance import squareform

    if len(C) < 2:
        return np.zeros(len(C), dtype=int)
    D = np.clip(1.0 - C @ C.T, 0.0, 2.0)
    np.fill_diagonal(D, 0.0)
    Z = linkage(squareform(D, checks=False), method="complete")
    if most is None:
        flat = fcluster(Z, t=distance, criterion="distance")
    else:  # top down: a node is a group when it is within the distance and holds at most `most` passages
        flat, stack = np.zeros(len(C), dtype=int), [to_tree(Z)]
        while stack:
            node = stack.pop()
            rows = node.pre_order()
            if node.is_leaf() or (node.dist <= distance and sizes[rows].sum() <= most):
                flat[rows] = flat.max() + 1
            else:
                stack += [node.get_right(), node.get_left()]
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]


def loose_groups(group: np.ndarray, own: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Which merged groups (of more than one fine theme) are looser than the median group: cohesion of
    their passages' own vectors, `own` being each fine theme's sum of them and `sizes` its passages."""
    n = int(group.max()) + 1
    sums = np.zeros((n, own.shape[1]))
    np.add.at(sums, group, own)
    count = np.bincount(group, weights=sizes, minlength=n)
    cohesion = np.linalg.norm(sums, axis=1) / np.maximum(count, 1)
    return (np.bincount(group, minlength=n) > 1) & (cohesion < np.median(cohesion[count > 0]))


def undo_loose(group: np.ndarray, own: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The merged groups with each loose one (`loose_groups`) taken apart again into its fine themes."""
    n = int(group.max()) + 1
    out = np.where(loose_groups(group, own, sizes)[group], n + np.arange(len(group)), group)
    return np.unique(out, return_inverse=True)[1]


def pooled(ref: np.ndarray, votes: Votes, group: np.ndarray) -> tuple[np.ndarray, Votes]:
    """The reference labels and the refits' votes with each fine theme read as its merged `group`."""
    chosen = np.where(votes.chosen >= 0, group[np.maximum(votes.chosen, 0)], -1)
    return group[ref], Votes(group[ref], chosen, int(group.max()) + 1)


def with_gathered(merged: Clustering, gathered: Clustering, first: int, vectors: np.ndarray | UnitRows) -> Clustering:
    """`merged` with each theme of `gathered` numbered `first` or above (the recurring ideas gathered
    from the unmerged partition's unplaced) that the merge placed in a theme made a theme of its own;
    the themes it takes passages from keep the rest (a group that would empty one is left where the
    merge put it). A group the merge left unplaced is left to discover's own gathering, which runs
    after carving: made a theme here, before carving, it would change carving's yardsticks where the
    merge changed nothing (the bills: 25 themes, NMI -0.009; docs/benchmarks.md, branch dup13)."""
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
             "coverage": float((labels >= 0).mean()), "unplaced": int((labels < 0).sum()),
             "theme_sizes": [int(s) for s in sizes]}
    return replace(merged, labels=labels, nearest=nearest, probability=probability,
                   centroids=np.stack(centroids).astype(merged.centroids.dtype), stats=stats)


def placed_as_pooled(parts: Clustering, pooled_themes: Clustering, vectors: np.ndarray | UnitRows) -> Clustering:
    """`parts` (loose merged themes taken apart) with each passage it leaves unplaced but `pooled_themes`
    (the same votes, nothing taken apart) places given its nearest theme of `parts`, when that theme lies
    inside the passage's pooled theme (most of its members are there)."""
    labels = parts.labels.copy()
    k = parts.n_themes
    home = np.full(k, -2)  # each part's pooled theme: where most of its members are
    for t in range(k):
        there = pooled_themes.labels[parts.labels == t]
        there = there[there >= 0]
        if len(there):
            home[t] = np.bincount(there).argmax()
    fill = (labels < 0) & (pooled_themes.labels >= 0) & (home[parts.nearest] == pooled_themes.labels)
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
