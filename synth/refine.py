"""Shaping a partition after the consensus fit: loose themes split, near outliers placed.

Steps that let the data, not a size rule, decide the final themes (issue 13, item 2 and 3):

- `split_loose`: a theme whose two halves are as far apart as a typical theme is from its closest
  other theme holds two ideas. It is bisected (Ward, then spherical 2-means) when both halves
  would stand as themes on their own (`viable`). Repeated a few rounds, so a catch-all theme can
  become several; the number of themes then follows the corpus, with sqrt(n/2) only the start.
- `place_near`: a passage the resampled refits disagreed on is placed in its nearest theme when it
  is at least as similar to that theme's centre as the theme's own placed members typically are
  (its 10th percentile); what is far from every theme stays unplaced and visible.
- `cut_big_themes`: the rounds in which big themes are cut in two, shared by the catch-all split
  (`synth.recurring`) and the section split (`synth.section_split`), which say where to cut.

Pure functions over unit-row arrays; deterministic (no random state).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import fastcluster
import numpy as np
from scipy.cluster.hierarchy import fcluster

from .vectors import unit  # noqa: F401  (cluster, label, stance and small_themes take it from here)

if TYPE_CHECKING:  # refine is imported while synth.cluster loads
    from .cluster import Clustering

_MAX_BISECT = 2000  # members bisected exactly; the rest follow the nearer half (bounds O(s^2) memory)
_NEAR_QUANTILE = 0.10


def cohesion(X: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, float]:
    """A theme's unit centre and its members' mean cosine to it."""
    centre = unit(X[members].astype(np.float64).sum(axis=0))
    return centre, float((X[members] @ centre.astype(np.float32)).mean())


def bisect(Y: np.ndarray, members: np.ndarray, max_iter: int = 20) -> np.ndarray:
    """Split members in two (bool mask of the second half): Ward on at most _MAX_BISECT evenly spaced
    members, refined by spherical 2-means over all of them."""
    sample = members if len(members) <= _MAX_BISECT else members[np.linspace(0, len(members) - 1, _MAX_BISECT).astype(int)]
    tree = fastcluster.linkage(Y[sample].astype(np.float64), method="ward")
    halves = fcluster(tree, 2, criterion="maxclust") - 1
    if halves.max() < 1:
        return np.zeros(len(members), bool)
    C = unit(np.stack([Y[sample][halves == h].astype(np.float64).sum(axis=0) for h in (0, 1)]))
    side = np.argmax(Y[members] @ C.T.astype(np.float32), axis=1)
    for _ in range(max_iter):
        if side.min() == side.max():
            break
        C = unit(np.stack([Y[members][side == h].astype(np.float64).sum(axis=0) for h in (0, 1)]))
        new = np.argmax(Y[members] @ C.T.astype(np.float32), axis=1)
        if np.array_equal(new, side):
            break
        side = new
    return side == 1


def split_loose(
    X: np.ndarray, Y: np.ndarray, nearest: np.ndarray, viable: Callable[[np.ndarray], bool], rounds: int = 3
) -> tuple[np.ndarray, np.ndarray, int]:
    """Bisect themes whose halves are as distinct as neighbouring themes are (see the module docstring).

    X: unit passage vectors (judging similarity), Y: the vectors the partition was fitted on (bisecting).
    Returns the new nearest-theme per passage, the theme each new theme came from (parent index per
    theme, itself for old themes) and how many splits were made.
    """
    nearest = nearest.copy()
    parent = list(range(int(nearest.max()) + 1))
    splits = 0
    for _ in range(rounds):
        themes = np.unique(nearest)
        if len(themes) < 2:
            break
        shapes = [cohesion(X, np.flatnonzero(nearest == j)) for j in themes]
        centres = np.stack([c for c, _ in shapes])
        loose = float(np.median([t for _, t in shapes]))
        between = centres @ centres.T
        np.fill_diagonal(between, -np.inf)
        # Two halves are two ideas when they are as far apart as a typical theme is from its closest other theme.
        typical = float(np.median(between.max(axis=1)))
        made = 0
        for j, (_, tightness) in zip(themes, shapes):
            members = np.flatnonzero(nearest == j)
            if tightness >= loose or len(members) < 6 or not viable(members[: len(members) // 2]):
                continue  # only the looser half of the themes are candidates: catch-alls, not fragments
            second = bisect(Y, members)
            a, b = members[~second], members[second]
            if not (len(a) and len(b) and viable(a) and viable(b)):
                continue
            (ca, _), (cb, _) = cohesion(X, a), cohesion(X, b)
            if float(ca @ cb) >= typical:
                continue
            nearest[b] = len(parent)
            parent.append(parent[int(j)])
            made += 1
        splits += made
        if not made:
            break
    return nearest, np.asarray(parent), splits


def place_near(X: np.ndarray, nearest: np.ndarray, placed: np.ndarray) -> np.ndarray:
    """Placed mask after placing unplaced passages that sit as close to their nearest theme's centre as
    the theme's own members typically do (its placed members' 10th percentile of similarity; all its
    members' when fewer than three are placed)."""
    placed = placed.copy()
    for j in np.unique(nearest[~placed]):
        inside = np.flatnonzero((nearest == j) & placed)
        outside = np.flatnonzero((nearest == j) & ~placed)
        if len(inside) < 3:  # a theme the refits never agreed on (a split half): judged by all its members
            inside = np.flatnonzero(nearest == j)
        centre = unit(X[inside].astype(np.float64).sum(axis=0)).astype(np.float32)
        floor = float(np.quantile(X[inside] @ centre, _NEAR_QUANTILE))
        placed[outside[X[outside] @ centre >= floor]] = True
    return placed


def undo_weak_splits(nearest: np.ndarray, parent: np.ndarray, placed: np.ndarray,
                     viable: Callable[[np.ndarray], bool]) -> tuple[np.ndarray, int]:
    """Fold split halves whose *placed* members cannot stand as a theme back into their parent."""
    nearest = nearest.copy()
    undone = 0
    for j in range(len(parent) - 1, -1, -1):  # youngest first: a half of a half folds before its parent
        if parent[j] == j:
            continue
        members = np.flatnonzero((nearest == j) & placed)
        if not viable(members):
            nearest[nearest == j] = parent[j]
            undone += 1
    return nearest, undone


def distinct_parts(Y: np.ndarray, rest: np.ndarray, m: int, depth: int,
                   distinct: Callable[[np.ndarray, np.ndarray], bool]) -> tuple[np.ndarray, np.ndarray] | None:
    """(larger part, smaller part) of the rows `rest` of Y, bisected, that `distinct(a, b)` tells
    apart and that hold at least m rows each; None when there are none. A distinct part under m is
    set aside (it stays with the larger part, outside both parts returned) and the rest bisected
    again, up to `depth` levels: the first bisection of a broad theme often cuts off a fragment (a
    few list items), and stopping there would keep two ideas behind it together. Shared by the
    catch-all split (`synth.recurring`: parts further apart than the nearest theme) and the section
    split (`synth.section_split`: parts that differ in words)."""
    for _ in range(depth):
        if len(rest) < 2 * m:
            return None
        side = bisect(Y, rest)
        a, b = rest[~side], rest[side]
        if len(b) > len(a):  # the larger part keeps the theme's index (and so, its identity)
            a, b = b, a
        if not len(b) or not distinct(a, b):
            return None
        if len(b) >= m:
            return a, b
        rest = a
    return None


# A cut of theme j: (j, the part whose centre theme j keeps, the part that becomes a new theme). The
# first part may leave out fragments set aside on the way: they stay in theme j all the same.
Cut = tuple[int, np.ndarray, np.ndarray]


def cut_big_themes(clustering: Clustering, X: np.ndarray, m: int, rounds: int, stat: str,
                   cuts: Callable[[list[np.ndarray], np.ndarray, float], Iterator[Cut]]) -> tuple[Clustering, int]:
    """The clustering with big themes cut in two over a few rounds, and how many cuts were made: the
    rounds shared by `recurring.split_catch_alls` (cuts on the vectors) and
    `section_split.split_by_sections` (cuts along the documents' sections). Each round,
    `cuts(members, sizes, big)` yields the cuts to make, from the themes' members at the round's
    start (it is consumed lazily, each cut made before the next is asked for); `big` is the catch-all
    size: twice the median theme and twice the minimum theme size m. A round without a cut ends
    the rounds. The count goes into the stats under `stat`."""
    labels, nearest = clustering.labels.copy(), clustering.nearest.copy()
    centroids = list(clustering.centroids)
    made = 0
    for _ in range(rounds):
        members = [np.flatnonzero(labels == j) for j in range(len(centroids))]
        sizes = np.array([len(x) for x in members])
        if (sizes > 0).sum() < 2:
            break
        big = max(2 * float(np.median(sizes[sizes > 0])), 2 * m)
        this_round = 0
        for j, kept, part in cuts(members, sizes, big):
            (c_rest, _), (c_part, _) = cohesion(X, kept), cohesion(X, part)
            _cut_off(X, labels, nearest, centroids, j, members[j], part, c_rest, c_part)
            this_round += 1
        made += this_round
        if not this_round:
            break
    if not made:
        return clustering, 0
    stats = {**clustering.stats, stat: made, "n_themes": len(centroids)}
    return replace(clustering, labels=labels, nearest=nearest,
                   centroids=np.stack(centroids).astype(clustering.centroids.dtype), stats=stats), made


def _cut_off(X: np.ndarray, labels: np.ndarray, nearest: np.ndarray, centroids: list, j: int,
             placed: np.ndarray, part: np.ndarray, c_rest: np.ndarray, c_part: np.ndarray) -> None:
    """Makes `part` of theme j's placed passages a new theme (in place): theme j keeps the rest and its
    identity; its unplaced passages follow the closer of the two centres."""
    new = len(centroids)
    around = np.flatnonzero(nearest == j)
    to_part = np.isin(around, part) | (~np.isin(around, placed) & (X[around] @ c_part > X[around] @ c_rest))
    nearest[around[to_part]] = new
    labels[part] = new
    centroids[j] = c_rest.astype(np.float32)
    centroids.append(c_part.astype(np.float32))
