"""Theme discovery: passages (as embeddings) -> candidate themes, as pure functions over arrays.

The method, and why (measured in docs/benchmarks.md, "Theme discovery"):

1. A partition with a consensus. By default (`partition="ward"`, `synth discover --clusterer
   consensus-ward`): cross-source neighbourhood smoothing (each passage replaced by the normalised sum
   of itself and its `n_neighbors` most similar passages from other sources, so a theme has to be an
   idea that recurs across sources: one document's vocabulary cannot pull its own passages together),
   Ward's clustering cut at k themes and refined by spherical k-means as the deterministic reference,
   and refits on `n_resamples` random subsets as the votes. The subsets, like the fit sample, are
   drawn from a hash of each passage's vector, not from the seed: consensus Ward's themes are a
   function of the passages alone (the seed drives only the Leiden runs below).
2. The graph partition (`partition="leiden"`, `synth discover --clusterer consensus-leiden`,
   `synth.graph_partition`): every passage is linked to its `graph_neighbors` nearest passages, other
   sources' first, and the graph is cut into communities by Leiden at the resolution that gives k
   themes of the minimum size; `n_resamples` seeded runs vote and their consensus is the reference.
   Better on two dev sets, worse on the NHS comments, and the demo's small fieldwork findings end up
   inside broader themes with it, so it is an option, not the default (docs/benchmarks.md, "Theme
   discovery on the dev sets").
3. Each refit or run is aligned to the reference (Hungarian matching), and each passage's
   `probability` is the share that put it in its theme. A passage is placed when that is at least
   `place_threshold` and stays visible as unplaced otherwise; `nearest` is the majority theme for
   everyone.
4. Themes smaller than the minimum theme size are dissolved into their members' next-best themes,
   unless they recur: at least `min_sources` sources carry them and they are as tight as a typical
   theme (`synth.small_themes`; with the graph partition it must also hold most of its members'
   neighbours), so an idea three interviews raise survives beside a long literature set whose
   volume sets the minimum size.
5. With the adaptive number of themes, loose catch-all themes are split (`synth.refine.split_loose`),
   and passages the refits disagreed on are placed when they sit as close to their theme as its own
   members typically do (`synth.refine.place_near`).

6. Optionally (`ClusterParams.merge`, discover's partition for short-answer corpora): consensus Ward
   fitted finer, its near-duplicate themes merged, and the recurring ideas of the finer partition kept
   (`synth.merge_near`): three partitions shaped from the same votes by steps 3 to 5.

This module is the entry (`cluster_passages`, `ClusterParams`, the `Clustering` record) and checks
the input; each step has its own module: which passages the fit set and each resample hold
(`synth.fit_sample`), the reference partition and the votes on it, steps 1 to 3
(`synth.consensus_votes`), the votes shaped into themes, steps 3 to 5 (`synth.consensus_themes`),
and the merge, step 6 (`synth.merge_near`).

Scale: work is bounded by a fit set of at most `max_fit` passages (a content-hashed sample above that):
neighbours are exact but computed in blocks against the fit set, so memory is O(n * dim + block *
max_fit) and time is linear in n; no n x n matrix is ever built. 100,000 passages take seconds to
a few minutes on two cores. The fit set's distance matrix is computed once (max_fit^2 floats) and
every resample reads its rows from it; the resamples run on up to `workers` threads, because
fastcluster's Ward linkage releases the GIL, and their result does not depend on the thread count.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from .block_maps import BlockMap, Blocks, map_in_threads
from .consensus_themes import themes_from_votes
from .consensus_votes import BLOCK, leiden_votes, ward_votes
from .errors import SynthError
from .fit_sample import fit_set
from .merge_near import NearMerge, fine_theme_count, merged_partition
from .vectors import UnitRows

ProgressCallback = Callable[[int, int], None]
"""Called as progress(done, total) over the steps of one run: neighbour blocks, fit, resamples, assign."""


class ClusteringError(SynthError):
    """Embeddings or parameters that theme discovery cannot work with."""


@dataclass(frozen=True)
class ClusterParams:
    seed: int = 42  # drives the Leiden runs; consensus Ward draws from the passages' content instead
    min_theme_size: int | None = None  # None: max(3, round(sqrt(n) / 2))
    n_themes: int | None = None  # None: round(n / (2 * sqrt(2) * min_theme_size)), see default_n_themes
    n_neighbors: int = 15  # upper bound; never more than min_theme_size - 1
    cross_source: bool = True  # smooth with other sources' passages when group_ids are given
    n_resamples: int = 20
    resample_fraction: float = 0.8
    place_threshold: float = 0.5  # a passage is placed when this share of refits agree
    max_fit: int = 4000  # above this, fit on a content-hashed sample and assign the rest
    max_iter: int = 30  # spherical k-means refinement steps
    # Above max_fit: k-means steps each refit takes on its share of the corpus, so that the refits' votes
    # are not noisier than the corpus (0: off). 3 lifts coverage at 100k from 0.949 to 0.963 for +15 %
    # of the clustering's time (docs/benchmarks.md, "Coverage at 100k passages").
    settle_steps: int = 3
    workers: int | None = None  # threads for neighbour blocks and resamples; None: the cores, at most 4
    min_sources: int = 3  # a theme under min_theme_size stands when this many sources carry it (0: off)
    split_loose: bool = True  # bisect themes whose halves are further apart than members from their centre
    place_near: bool = True  # place refit-unstable passages that sit as close as a theme's own members
    partition: str = "ward"  # "ward": consensus Ward (the default); "leiden": consensus Leiden on the k-NN graph
    graph_neighbors: int = 15  # neighbours per passage in the Leiden graph; never more than min_theme_size - 1
    # Ward only: fit finer, then merge near-duplicate themes (synth.merge_near; discover's partition for
    # short-answer corpora). None: the partition as fitted.
    merge: NearMerge | None = None


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray  # int per passage: theme index 0..k-1, or -1 when unplaced
    nearest: np.ndarray  # int per passage: nearest theme index (for everyone, placed or not)
    probability: np.ndarray  # float per passage in [0, 1]: share of refits that agree with `nearest`
    centroids: np.ndarray  # (k, dim), L2-normalised mean of the placed members' embeddings
    stats: dict = field(default_factory=dict)  # "seconds" varies run to run: keep it out of exports

    @property
    def n_themes(self) -> int:
        return int(self.centroids.shape[0])


def default_min_theme_size(n_passages: int) -> int:
    """Half the square root of the corpus size, at least 3: 3 at 30 passages, 16 at 1,000, 158 at 100,000."""
    return max(3, round(math.sqrt(n_passages) / 2))


def default_n_themes(n_passages: int, min_theme_size: int) -> int:
    """Themes whose typical size is about 2.8 times the minimum (sqrt(n/2) with the default minimum).

    sqrt(n/2) is the classical rule of thumb for the number of clusters (Mardia, Kent & Bibby, 1979);
    it is not fitted to any benchmark.
    """
    if n_passages == 0:
        return 0
    by_size = round(n_passages / (2 * math.sqrt(2) * min_theme_size))
    return max(1, min(n_passages // max(min_theme_size, 1), by_size))


def cluster_passages(
    embeddings: np.ndarray | UnitRows,
    *,
    group_ids: np.ndarray | None = None,
    params: ClusterParams = ClusterParams(),
    progress: ProgressCallback | None = None,
    block_map: BlockMap | None = None,
) -> Clustering:
    """Group passages into themes; every passage gets a nearest theme and a confidence in it.

    `block_map` runs consensus Ward's corpus-wide passes over blocks of rows (the smoothing and the
    k-means passes, `synth.block_maps`; the assignment after the fit, `synth.assign`): on threads of
    this process by default, on a Ray cluster's workers with `RayEngine.blocks`; the same results
    either way. A block map with `matrix` also decides where the corpus-sized matrices live.
    `embeddings` may be the rows already at unit length (`vectors.UnitRows`: discover makes them
    once, for clustering and the steps after it); they are then read, not copied.

    BLAS runs single-threaded: the products here are small or blocked, and a multithreaded BLAS
    that shares two cores with the embedding model spins instead of computing (ten times slower).
    The cores are used by threads over independent pieces instead (blocks, resamples).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _cluster(embeddings, group_ids, params, progress, block_map)


def _cluster(
    embeddings: np.ndarray,
    group_ids: np.ndarray | None,
    params: ClusterParams,
    progress: ProgressCallback | None,
    block_map: BlockMap | None = None,
) -> Clustering:
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    _check_params(params)
    workers = _worker_count(params.workers)
    blocks = Blocks(block_map or map_in_threads(workers))
    X = _normalised(embeddings, blocks.matrix if params.partition == "ward" else None)
    groups = _checked_groups(group_ids, len(X))
    n, dim = X.shape
    m = params.min_theme_size or default_min_theme_size(n)
    k = params.n_themes or default_n_themes(n, m)
    if n == 0:
        return Clustering(
            labels=np.zeros(0, np.int64),
            nearest=np.zeros(0, np.int64),
            probability=np.zeros(0),
            centroids=np.zeros((0, dim), np.float32),
            stats={"n_passages": 0, "n_themes": 0, "coverage": 0.0, "min_theme_size": m},
        )
    k = min(k, n)
    rng = np.random.default_rng(params.seed)
    fit = fit_set(X, params.max_fit)
    n_neighbors = max(0, min(params.n_neighbors, m - 1, len(fit) - 1))

    steps = Steps(progress, -(-n // BLOCK) + 1 + params.n_resamples + 1)
    use_groups = groups if params.cross_source else None
    if params.partition == "leiden":
        smoothed, ref_labels, votes, graph = leiden_votes(X, fit, use_groups, k, m, params, rng, steps, workers,
                                                          seconds)
    else:
        graph = None
        k_fit = k if params.merge is None else min(n, max(1, fine_theme_count(k, params.merge)))
        smoothed, ref_labels, votes = ward_votes(X, fit, use_groups, k_fit, n_neighbors, params, steps, workers,
                                                 seconds, blocks)

    def themes_of(ref: np.ndarray, votes) -> Clustering:
        """The votes shaped into themes (steps 3 to 5 of the module docstring), with the run's stats."""
        tick = time.perf_counter()
        themes = themes_from_votes(X, smoothed, ref, votes, graph, groups, m, params)
        seconds["assign"] = seconds.get("assign", 0.0) + time.perf_counter() - tick
        seconds["total"] = time.perf_counter() - started
        return _clustering(themes, n, len(fit), m, votes.shape[1], n_neighbors, use_groups is not None, groups,
                           seconds)

    if params.merge is None:
        found = themes_of(ref_labels, votes)
    else:  # three partitions from the same votes, the fine one first (synth.merge_near)
        found = merged_partition(X, smoothed, ref_labels, votes, groups, params.merge, themes_of)
        found.stats["seconds"]["total"] = time.perf_counter() - started
    steps.step()
    return found


def _clustering(themes, n: int, n_fit: int, m: int, k: int, n_neighbors: int, cross_source: bool,
                groups: np.ndarray | None, seconds: dict[str, float]) -> Clustering:
    labels, placed, centroids = themes.labels, themes.placed, themes.centroids
    members = np.bincount(labels[labels >= 0], minlength=len(centroids))
    stats = {
        "n_passages": n,
        "n_fit": n_fit,
        "n_themes": len(centroids),
        "coverage": float(placed.mean()),
        "unplaced": int((~placed).sum()),
        "min_theme_size": int(m),
        "n_themes_requested": int(k),
        "dissolved_themes": themes.dissolved,
        "split_themes": themes.splits,
        "n_neighbors": int(n_neighbors),
        "cross_source": bool(cross_source),
        "theme_sizes": [int(s) for s in members],  # placed passages per theme
        "seconds": seconds,
    }
    if groups is not None:
        stats["sources_per_theme"] = [
            len(np.unique(groups[labels == j])) for j in range(len(centroids))
        ]
    return Clustering(labels, themes.nearest, themes.probability, centroids, stats)


class Steps:
    """Counts a run's steps for the progress callback, which sees one done/total pair."""

    def __init__(self, progress: ProgressCallback | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def step(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _check_params(params: ClusterParams) -> None:
    if params.min_theme_size is not None and params.min_theme_size < 1:
        raise ClusteringError(f"min_theme_size={params.min_theme_size}: must be at least 1 (or None to adapt)")
    if params.n_themes is not None and params.n_themes < 1:
        raise ClusteringError(f"n_themes={params.n_themes}: must be at least 1 (or None to adapt)")
    if params.n_resamples < 1 or params.n_resamples > 255:
        raise ClusteringError(f"n_resamples={params.n_resamples}: must be between 1 and 255")
    if not 0 < params.resample_fraction <= 1:
        raise ClusteringError(f"resample_fraction={params.resample_fraction}: must be in (0, 1]")
    if not 0 <= params.place_threshold <= 1:
        raise ClusteringError(f"place_threshold={params.place_threshold}: must be in [0, 1]")
    if params.partition not in ("leiden", "ward"):
        raise ClusteringError(f"partition={params.partition!r}: choose 'leiden' or 'ward'")
    share = None if params.merge is None else params.merge.max_share
    if params.merge is not None and (params.partition != "ward" or params.merge.factor <= 0
                                     or not 0 <= params.merge.distance <= 2 or not (share is None or 0 < share <= 1)):
        raise ClusteringError(f"merge={params.merge!r}: needs partition='ward', a factor above 0, a cosine "
                              f"distance in [0, 2] and a max_share in (0, 1] or None")
    if params.graph_neighbors < 1:
        raise ClusteringError(f"graph_neighbors={params.graph_neighbors}: must be at least 1")
    if params.max_fit < 2:
        raise ClusteringError(f"max_fit={params.max_fit}: must be at least 2")
    if params.workers is not None and params.workers < 1:
        raise ClusteringError(f"workers={params.workers}: must be at least 1 (or None to use the cores)")


def _worker_count(requested: int | None) -> int:
    if requested is not None:
        return requested
    try:
        cores = len(os.sched_getaffinity(0))  # the cores this process may use, not the machine's
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    # Each resample in flight holds two copies of its distances (about 120 MB at max_fit=4000).
    return max(1, min(cores, 4))


def _normalised(embeddings: np.ndarray | UnitRows, matrix: Callable | None = None) -> np.ndarray:
    """Unit float32 rows, in `matrix(shape, dtype)` (a block map's: the Ray engine's is a file mapped
    into memory), written block by block so no other corpus-sized copy is made. Rows already made
    (`UnitRows`, which discover's later steps read too) are checked and taken as they are."""
    if isinstance(embeddings, UnitRows):
        return _checked_unit_rows(embeddings)
    X = np.asarray(embeddings)
    if X.ndim != 2:
        raise ClusteringError(f"embeddings of shape {X.shape}: expected (passages, dimensions)")
    if not np.issubdtype(X.dtype, np.number):
        raise ClusteringError(f"embeddings of dtype {X.dtype}: expected numbers")
    out = matrix(X.shape, np.float32) if matrix else np.empty(X.shape, np.float32)
    for start in range(0, len(X), BLOCK * 8):
        part = X[start:start + BLOCK * 8].astype(np.float32, copy=True)
        if not np.isfinite(part).all():
            raise ClusteringError("embeddings contain NaN or infinite values: re-embed the passages")
        norms = np.linalg.norm(part, axis=1, keepdims=True)
        if (norms == 0).any():
            raise ClusteringError(f"embedding {start + int(np.argmin(norms))} is all zeros: re-embed the passages")
        part /= norms
        out[start:start + BLOCK * 8] = part
    return out


def _checked_unit_rows(units: UnitRows) -> np.ndarray:
    """The rows of `units`, refused for what `_normalised` refuses (found as they were made)."""
    X = units.rows
    if X.ndim != 2:
        raise ClusteringError(f"embeddings of shape {X.shape}: expected (passages, dimensions)")
    if units.problem is not None:
        kind, row = units.problem
        if kind == "not finite":
            raise ClusteringError("embeddings contain NaN or infinite values: re-embed the passages")
        raise ClusteringError(f"embedding {row} is all zeros: re-embed the passages")
    return X


def _checked_groups(group_ids: np.ndarray | None, n: int) -> np.ndarray | None:
    if group_ids is None:
        return None
    groups = np.asarray(group_ids)
    if groups.shape != (n,):
        raise ClusteringError(f"group_ids of shape {groups.shape}: expected one id per passage, ({n},)")
    _, codes = np.unique(groups, return_inverse=True)
    return codes.reshape(n)
