"""Recurring ideas inside a larger theme (issue 13, item 2): an idea that a few sources raise in a
few passages ("flexible appointment times" in three interviews) can be pulled into a broader theme
("caring responsibilities") by the clustering, which sees corpus-wide structure and smooths each
passage with its neighbours. After clustering, each theme is bisected once on the passages' own
vectors; its smaller half becomes a theme of its own when it is a recurring idea in its own right:

- at least `min_passages` passages from at least `min_sources` sources (the recurring floor of
  `synth.cluster`, so the same rule decides whether a small theme stands),
- as tight as a typical theme: each of its passages as close to the centre of the *others* as a
  typical theme's passages are (held-out cohesion, `synth.small_themes.held_out_cohesion`; with the
  passage itself in the centre, four unrelated survey answers look as tight as a theme of forty), and
- as far from the rest of its theme as a typical theme is from its closest other theme.

Unplaced passages of the theme follow the closer half.

`gather_unplaced` does the same for passages the clustering left unplaced (its refits disagreed on
them): unplaced passages that group tightly (average linkage, cut at the themes' typical similarity)
become a theme when they meet the same floor, so an idea three interviews raise in one passage each
is not left on the unplaced page. A group whose centre sits inside its nearest theme (as close to
that theme's centre as the theme's own members are: `INSIDE_QUANTILE`) is a piece of that theme's
idea the refits were unsure of, not a new idea: it is not made a theme, and its passages stay
unplaced. At 100k passages, where each row is its own source and so any three close rows recur, most
groups were such pieces (docs/benchmarks.md, "Coverage at 100k passages"). Pure functions over
arrays; deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from .cluster import Clustering

# Average linkage holds a distance matrix over the unplaced passages (n^2 / 2 floats): above this many
# unplaced passages gathering is skipped (at 4,000: 64 MB), and the stats say so.
MAX_UNPLACED = 4000
# A gathered group is inside its nearest theme when its centre is as close to that theme's centre as
# the theme's lower quintile of members (each held out of the centre). Near placement judges a single
# passage by the 10th percentile; a group's centre averages its passages' noise away and so sits
# closer to every theme than its passages do, hence a stricter floor. 0.2, not 0.1, on the reading at
# 100k (docs/benchmarks.md, "Coverage at 100k passages"): of 35 groups read, 0.2 keeps 17 of 21 new
# ideas and 3 of 14 duplicates, 0.1 keeps 11 and 1, and 0.1 also drops the demo's community-language
# advisers (whose nearest theme, data by ethnicity, is loose).
INSIDE_QUANTILE = 0.2
# How many distinct fragments under the minimum size a catch-all split may set aside before it gives up.
_FRAGMENT_DEPTH = 3
from .refine import Cut, _cut_off, bisect, cohesion, cut_big_themes, distinct_parts
from .section_split import Sections, split_by_sections
from .small_themes import held_out_cohesion, held_out_similarities
from .stance import _held_together
from .vectors import UnitRows, unit_rows


def split_catch_alls(clustering: Clustering, vectors: np.ndarray | UnitRows, *, min_size: int | None = None,
                     held: np.ndarray | None = None, rounds: int = 3,
                     fragment_depth: int = _FRAGMENT_DEPTH) -> tuple[Clustering, int]:
    """The clustering with its catch-all themes split, and how many splits were made.

    A catch-all is a theme at least twice the median theme's size (and twice the minimum theme size)
    whose two halves (bisected on the passages' own vectors) are further apart than the theme is from
    its closest other theme: in its own neighbourhood, the halves are as distinct as two themes are.
    A long literature set makes its themes resemble each other, so the corpus-wide yardstick of
    `synth.refine.split_loose` (the median closest-theme similarity) keeps a 55-passage theme of a
    programme's delivery, schools support and in-work support whole; the local one does not. Both
    halves must hold `min_size` passages (the clustering's minimum theme size). Repeated for a few
    rounds, so a catch-all can become several themes. Unplaced passages of the theme follow the
    closer half; a theme a reviewer's decisions hold together (`held`) is not cut. A distinct part
    under the minimum size is set aside and the rest bisected again, up to `fragment_depth` levels
    (1: the first bisection only, as before; see `_distinct_parts`)."""
    m = int(min_size if min_size is not None else clustering.stats.get("min_theme_size", 3))
    if clustering.n_themes < 2:
        return clustering, 0
    X = unit_rows(vectors)

    def cuts(members: list[np.ndarray], sizes: np.ndarray, big: float) -> Iterator[Cut]:
        centres = np.stack([cohesion(X, x)[0] if len(x) else np.zeros(X.shape[1]) for x in members]).astype(np.float32)
        between = centres @ centres.T
        np.fill_diagonal(between, -np.inf)
        between[:, sizes == 0] = -np.inf
        for j in np.flatnonzero(sizes >= big).tolist():
            placed = members[j]
            if held is not None and _held_together(held[placed]):
                continue
            cut = _distinct_parts(X, placed, m, float(between[j].max()), fragment_depth)
            if cut is not None:
                # Fragments set aside on the way stay in the theme (their centre is the larger part's):
                # a small recurring idea among them is still there for `carve_recurring` to find whole.
                yield (j, *cut)

    return cut_big_themes(clustering, X, m, rounds, "catch_alls_split", cuts)


def _distinct_parts(X: np.ndarray, placed: np.ndarray, m: int, neighbour: float,
                    depth: int = _FRAGMENT_DEPTH) -> tuple[np.ndarray, np.ndarray] | None:
    """(larger part, smaller part) of a theme's passages whose two parts are
    further apart than the theme is from its closest other theme (`neighbour`) and hold at least m
    passages each; None when there are none.

    The first bisection of a broad literature theme often cuts off a fragment: a few list items or
    one report's design paragraphs, distinct but too small to stand. Stopping there kept the demo's
    40-passage evaluation-methods theme whole although its remaining 34 passages hold two ideas (the
    Support for Schools findings and the evaluations' design). So a distinct fragment under m is set
    aside and the rest is bisected again, a few levels deep; the fragments stay in the theme."""
    return distinct_parts(X, placed, m, depth,
                          lambda a, b: float(cohesion(X, a)[0] @ cohesion(X, b)[0]) < neighbour)


def carve_recurring(clustering: Clustering, vectors: np.ndarray | UnitRows, groups: np.ndarray | None, *,
                    min_sources: int = 3, min_passages: int = 3,
                    held: np.ndarray | None = None) -> tuple[Clustering, int]:
    """The clustering with recurring ideas carved out of their themes, and how many were carved.
    held[i] >= 0: a reviewer's decisions hold passage i in a theme; a theme they hold is not cut."""
    if groups is None or min_sources <= 0 or clustering.n_themes < 2:
        return clustering, 0
    groups = np.asarray(groups)
    X = unit_rows(vectors)
    labels, nearest = clustering.labels.copy(), clustering.nearest.copy()
    k = clustering.n_themes
    members = [np.flatnonzero(labels == j) for j in range(k)]
    shapes = [cohesion(X, m) if len(m) else (np.zeros(X.shape[1], np.float32), 0.0) for m in members]
    tight = float(np.median([held_out_cohesion(X, m) for m in members if len(m)]))
    centres = np.stack([c for c, _ in shapes]).astype(np.float32)
    between = centres @ centres.T
    np.fill_diagonal(between, -np.inf)
    apart = float(np.median(between.max(axis=1)))
    centroids = list(clustering.centroids)
    carved = 0
    for j in range(k):
        placed = members[j]
        if len(placed) < 2 * min_passages or (held is not None and _held_together(held[placed])):
            continue
        side = bisect(X, placed)
        small, large = (placed[side], placed[~side]) if side.sum() <= (~side).sum() else (placed[~side], placed[side])
        if len(small) < min_passages or len(np.unique(groups[small])) < min_sources:
            continue
        (c_small, _), (c_large, _) = cohesion(X, small), cohesion(X, large)
        if held_out_cohesion(X, small) < tight or float(c_small @ c_large) >= apart:
            continue
        _cut_off(X, labels, nearest, centroids, j, placed, small, c_large, c_small)
        carved += 1
    if not carved:
        return clustering, 0
    stats = {**clustering.stats, "recurring_carved": carved, "n_themes": len(centroids)}
    return replace(clustering, labels=labels, nearest=nearest,
                   centroids=np.stack(centroids).astype(clustering.centroids.dtype), stats=stats), carved


@dataclass(frozen=True)
class Candidate:
    """A tight group of unplaced passages from enough sources, and the theme its centre is nearest."""
    passages: np.ndarray  # indices
    centre: np.ndarray  # unit
    theme: int  # the nearest theme with at least two members (-1: none)
    similarity: float  # the centre's cosine to that theme's centre
    floor: float  # that theme's INSIDE_QUANTILE of held-out member similarity

    @property
    def inside(self) -> bool:
        """A piece of its nearest theme's idea, not a new one."""
        return self.theme >= 0 and self.similarity >= self.floor


def candidate_groups(clustering: Clustering, vectors: np.ndarray | UnitRows, groups: np.ndarray, *,
                     min_sources: int = 3, min_passages: int = 3) -> list[Candidate]:
    """Groups of unplaced passages (average linkage, cut at the themes' typical similarity) with
    `min_passages` passages from `min_sources` sources, as tight as a typical theme. Builds the
    linkage over every unplaced passage: callers bound their number (`MAX_UNPLACED`)."""
    unplaced = np.flatnonzero(clustering.labels < 0)
    if len(unplaced) < max(min_passages, 2) or clustering.n_themes < 1:
        return []
    groups = np.asarray(groups)
    X = unit_rows(vectors)
    members = [np.flatnonzero(clustering.labels == j) for j in range(clustering.n_themes)]
    tight = float(np.median([held_out_cohesion(X, m) for m in members if len(m)]))
    # Mean pairwise cosine of a theme's members, typically: the linkage cut.
    pair = float(np.median([(len(m) ** 2 * cohesion(X, m)[1] ** 2 - len(m)) / max(len(m) * (len(m) - 1), 1)
                            for m in members if len(m) >= 2]))
    themes, centres, floors = _theme_floors(X, members)
    tree = linkage(X[unplaced].astype(np.float64), method="average", metric="cosine")
    found = fcluster(tree, t=1.0 - pair, criterion="distance")
    out = []
    for g in np.unique(found):
        group = unplaced[found == g]
        if len(group) < min_passages or len(np.unique(groups[group])) < min_sources:
            continue
        centre, _ = cohesion(X, group)
        if held_out_cohesion(X, group) < tight:
            continue
        near = centres @ centre.astype(np.float32)
        j = int(np.argmax(near)) if len(near) else -1
        out.append(Candidate(group, centre.astype(np.float32), int(themes[j]) if j >= 0 else -1,
                             float(near[j]) if j >= 0 else -1.0, float(floors[j]) if j >= 0 else 1.0))
    return out


def gather_unplaced(clustering: Clustering, vectors: np.ndarray | UnitRows, groups: np.ndarray | None, *,
                    min_sources: int = 3, min_passages: int = 3) -> tuple[Clustering, int]:
    """The clustering with tight groups of unplaced passages from enough sources made themes, unless
    a group sits inside its nearest theme (then its passages stay unplaced)."""
    unplaced = np.flatnonzero(clustering.labels < 0)
    if groups is None or min_sources <= 0 or len(unplaced) < min_passages or clustering.n_themes < 1:
        return clustering, 0
    if len(unplaced) > MAX_UNPLACED:
        return replace(clustering, stats={**clustering.stats, "recurring_gathered": "skipped: too many unplaced"}), 0
    candidates = candidate_groups(clustering, vectors, groups, min_sources=min_sources, min_passages=min_passages)
    labels, nearest = clustering.labels.copy(), clustering.nearest.copy()
    centroids = list(clustering.centroids)
    probability = clustering.probability.copy()
    made = inside = 0
    for candidate in candidates:
        if candidate.inside:
            inside += 1
            continue
        group = candidate.passages
        labels[group] = nearest[group] = len(centroids)
        probability[group] = np.maximum(probability[group], 0.5)
        centroids.append(candidate.centre)
        made += 1
    if not made:
        return (replace(clustering, stats={**clustering.stats, "recurring_inside_themes": inside})
                if inside else clustering), 0
    stats = {**clustering.stats, "recurring_gathered": made, "recurring_inside_themes": inside,
             "n_themes": len(centroids)}
    return replace(clustering, labels=labels, nearest=nearest, probability=probability,
                   centroids=np.stack(centroids).astype(clustering.centroids.dtype), stats=stats), made


def _theme_floors(X: np.ndarray, members: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The themes of at least two members, their centres and their floors: the INSIDE_QUANTILE of
    their members' held-out similarity (each member to the centre of the others, so that a theme of
    four is not judged by members that sit in their own centre)."""
    themes = np.array([j for j, m in enumerate(members) if len(m) >= 2], dtype=np.int64)
    if not len(themes):
        return themes, np.zeros((0, X.shape[1]), np.float32), np.zeros(0)
    centres = np.stack([cohesion(X, members[j])[0] for j in themes]).astype(np.float32)
    floors = np.array([np.quantile(held_out_similarities(X, members[j]), INSIDE_QUANTILE) for j in themes])
    return themes, centres, floors


@dataclass(frozen=True)
class Shaping:
    """How many themes each of discover's steps after the clusterer made."""
    carved: int
    gathered: int
    split: int
    by_sections: int = 0


def shape_themes(clustering: Clustering, vectors: np.ndarray | UnitRows, groups: np.ndarray | None, *,
                 held: np.ndarray | None = None, sections: Sections | None = None,
                 texts: Sequence[str] | None = None,
                 encode: Callable[[list[str]], np.ndarray] | None = None) -> tuple[Clustering, Shaping]:
    """discover's steps after a Ward-family clusterer, in its order: recurring ideas carved out of
    broader themes and gathered from the unplaced, then catch-all themes split, on the vectors and
    then, for literature catch-alls, along their documents' sections (`synth.section_split`; needs
    `sections` and `texts`, and `encode` for the headings' embeddings). Carving and gathering come first: their
    yardstick is the clusterer's typical theme, and the parts of a split long document are tighter
    than that (they raised it, and three interviews' idea was left unplaced)."""
    clustering, carved = carve_recurring(clustering, vectors, groups, held=held)
    clustering, gathered = gather_unplaced(clustering, vectors, groups)
    clustering, split = split_catch_alls(clustering, vectors, held=held)
    clustering, by_sections = split_by_sections(clustering, vectors, groups, sections, texts, encode=encode,
                                                 held=held)
    return clustering, Shaping(carved=carved, gathered=gathered, split=split, by_sections=by_sections)
