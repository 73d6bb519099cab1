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

Over 450 lines because the steps above share private array helpers (centroids,
blocked products, alignment); the shaping steps that need none of them live in `synth/refine.py`.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import fastcluster
import numpy as np
from scipy.cluster.hierarchy import fcluster
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import squareform
from threadpoolctl import threadpool_limits

from . import assign as assignment
from .assign import FitModel, assign_votes, majority
from .block_maps import SAME_SOURCE_PENALTY, BlockMap, Blocks, map_in_threads, row_blocks, smooth, spherical_kmeans
from .errors import SynthError
from .fit_sample import content_keys, corpus_shares, fit_set, resample_subsets
from .graph_partition import _CONSENSUS_RUNS, as_graph, consensus, graph_edges, leiden, propagate, resolution_for
from .refine import place_near, split_loose, undo_weak_splits
from .refine import unit as _unit_rows
from .small_themes import centroids_of as _centroids_of
from .small_themes import dissolve_small, recurring_floor, typical_cohesion, viable
from .vectors import UnitRows

ProgressCallback = Callable[[int, int], None]
"""Called as progress(done, total) over the steps of one run: neighbour blocks, fit, resamples, assign."""

_BLOCK = 2048  # rows per block in every passage-by-fit-set product: bounds memory at 100k passages
_SAME_SOURCE_PENALTY = SAME_SOURCE_PENALTY  # larger than any cosine range: other sources always rank first


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

    steps = _Steps(progress, -(-n // _BLOCK) + 1 + params.n_resamples + 1)
    use_groups = groups if params.cross_source else None
    if params.partition == "leiden":
        smoothed, ref_labels, votes, graph = _leiden_votes(X, fit, use_groups, k, m, params, rng, steps, workers,
                                                           seconds)
    else:
        graph = None
        smoothed, ref_labels, votes = _ward_votes(X, fit, use_groups, k, n_neighbors, params, steps, workers, seconds,
                                                  blocks)
    k = votes.shape[1]
    rows = np.arange(n)

    tick = time.perf_counter()
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
    nearest, labels, centroids = _renumber(X, nearest, placed)
    steps.step()
    seconds["assign"] = time.perf_counter() - tick
    seconds["total"] = time.perf_counter() - started

    members = np.bincount(labels[labels >= 0], minlength=len(centroids))
    stats = {
        "n_passages": n,
        "n_fit": len(fit),
        "n_themes": len(centroids),
        "coverage": float(placed.mean()),
        "unplaced": int((~placed).sum()),
        "min_theme_size": int(m),
        "n_themes_requested": int(k),
        "dissolved_themes": int(dissolved),
        "split_themes": int(splits),
        "n_neighbors": int(n_neighbors),
        "cross_source": bool(use_groups is not None),
        "theme_sizes": [int(s) for s in members],  # placed passages per theme
        "seconds": seconds,
    }
    if groups is not None:
        stats["sources_per_theme"] = [
            len(np.unique(groups[labels == j])) for j in range(len(centroids))
        ]
    return Clustering(labels, nearest, probability.astype(np.float64), centroids, stats)


def _ward_votes(X, fit, use_groups, k, n_neighbors, params, steps, workers, seconds, blocks: Blocks):
    """Consensus Ward (the method before the graph): smoothed vectors, the reference partition's labels
    and each passage's votes per reference theme from the resampled refits. The refits and their
    alignment to the reference are learned on the fit set; the smoothing, the corpus-wide k-means
    and the assignment of every passage are maps over blocks (`synth.block_maps`, `synth.assign`;
    votes kept compact: `assign.Votes`)."""
    tick = time.perf_counter()
    smoothed = smooth(blocks, X, fit, n_neighbors, use_groups, steps.step)
    # The smoothed blocks that the k-means passes and the assignment read, put once where the
    # block map's workers keep them (in this process: the rows themselves).
    placed = blocks.place(row_blocks(smoothed, assignment.ASSIGN_ROWS))
    seconds["neighbours"] = time.perf_counter() - tick

    tick = time.perf_counter()
    fit_distances = _unit_distances(smoothed[fit], workers)
    reference = _fit_centroids(smoothed[fit], fit_distances, k, params.max_iter)
    if len(fit) < len(X):  # let the whole corpus, not just the sample, settle the centroids
        reference = spherical_kmeans(blocks, placed, len(X), reference, params.max_iter)
    k = len(reference)
    fit_smoothed = smoothed[fit]
    fit_reference = _nearest_centroid(fit_smoothed, reference)
    steps.step()
    seconds["partition"] = time.perf_counter() - tick

    tick = time.perf_counter()
    size = max(1, math.ceil(params.resample_fraction * len(fit)))
    # Subsets are drawn up front, in order, so the data alone decides them whatever the thread count.
    subsets = resample_subsets(content_keys(X[fit]), params.n_resamples, size)

    # With settle_steps, above max_fit each refit then settles on its resample's share of the whole
    # corpus, as the reference settles on all of it. On the fit set alone a theme has max_fit / k
    # passages (56 at 10,000 passages, 18 at 100,000, where k is 224), and refits that thin disagree
    # where the corpus does not. At or below max_fit the fit set is the corpus and nothing changes.
    shares = corpus_shares(X, params.n_resamples, params.resample_fraction) \
        if len(fit) < len(X) and params.settle_steps else [None] * len(subsets)

    def refit(job: tuple[np.ndarray, np.ndarray | None]) -> np.ndarray:
        subset, share = job
        rows_of_subset = fit[subset]
        centroids = _fit_centroids(
            smoothed[rows_of_subset], fit_distances[np.ix_(subset, subset)], k, params.max_iter
        )
        return centroids if share is None else _settle(smoothed, share, centroids, params.settle_steps)

    refits, to_reference = [], []
    for refit_centroids in _in_threads(refit, list(zip(subsets, shares)), workers):
        refits.append(refit_centroids)
        to_reference.append(_align(_nearest_centroid(fit_smoothed, refit_centroids), fit_reference,
                                   len(refit_centroids), k))
        steps.step()
    del fit_distances, fit_smoothed
    seconds["resample"] = time.perf_counter() - tick

    tick = time.perf_counter()
    votes = assign_votes(smoothed, FitModel.of(reference, refits, to_reference), blocks.map, placed=placed)
    blocks.release(placed)
    seconds["assign_votes"] = time.perf_counter() - tick
    return smoothed, votes.ref, votes


def _leiden_votes(X, fit, use_groups, k, m, params, rng, steps, workers, seconds):
    """Consensus Leiden (the default, `synth.graph_partition`): the k-NN graph of the fit set, the
    resolution that gives k themes of at least m passages, `n_resamples` seeded runs, their consensus
    as the reference, and each passage's votes per reference theme from the runs. The partition is
    judged on the raw vectors: the graph already pools each passage with its neighbours."""
    n = len(X)
    tick = time.perf_counter()
    # As in smoothing, never more neighbours than a minimum-size theme has other members: a small
    # corpus's small ideas must be able to form dense communities of their own.
    degree = max(1, min(params.graph_neighbors, m - 1, len(fit) - 1))
    near, sims = _neighbours(X, fit, degree, use_groups, steps, workers)
    fit_position = np.arange(len(fit))
    pairs, weights = graph_edges(near[fit], sims[fit], fit_position)
    seconds["neighbours"] = time.perf_counter() - tick

    tick = time.perf_counter()
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, params.n_resamples + 1 + _CONSENSUS_RUNS)]
    # Themes are counted in the fit set, where a theme of m passages has m * len(fit) / n of them.
    graph = as_graph(len(fit), pairs, weights)
    resolution = resolution_for(len(fit), pairs, weights, k, max(2, round(m * len(fit) / n)), seeds[0], graph)
    steps.step()
    seconds["partition"] = time.perf_counter() - tick

    tick = time.perf_counter()
    runs = []
    for s in seeds[1:params.n_resamples + 1]:
        runs.append(leiden(len(fit), pairs, weights, resolution, s, graph=graph))
        steps.step()
    reference_fit = consensus(len(fit), pairs, weights, runs, resolution, seeds[params.n_resamples + 1:])
    k = int(reference_fit.max()) + 1
    ref_labels = propagate(reference_fit, near, sims, fit, k)
    votes = np.zeros((n, k), np.uint16)
    rows = np.arange(n)
    for labels_fit in runs:
        to_reference = _align(labels_fit, reference_fit, int(labels_fit.max()) + 1, k)
        mapped = to_reference[propagate(labels_fit, near, sims, fit, int(labels_fit.max()) + 1)]
        ok = mapped >= 0
        votes[rows[ok], mapped[ok]] += 1
    seconds["resample"] = time.perf_counter() - tick
    return X, ref_labels, votes, (fit[near], sims)


class _Steps:
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
    if params.graph_neighbors < 1:
        raise ClusteringError(f"graph_neighbors={params.graph_neighbors}: must be at least 1")
    if params.max_fit < 2:
        raise ClusteringError(f"max_fit={params.max_fit}: must be at least 2")
    if params.workers is not None and params.workers < 1:
        raise ClusteringError(f"workers={params.workers}: must be at least 1 (or None to use the cores)")


def _in_threads(work: Callable, items, workers: int):
    """work(item) for each item on up to `workers` threads; yields the results in the items' order.

    Worth it because the heavy calls here (BLAS products with one BLAS thread each, fastcluster,
    argpartition) release the GIL.
    """
    if workers == 1:
        yield from map(work, items)
        return
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        yield from pool.map(work, items)
    finally:
        # On Ctrl-C, drop the queued items: only those already running are waited for.
        pool.shutdown(wait=True, cancel_futures=True)


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
    for start in range(0, len(X), _BLOCK * 8):
        part = X[start:start + _BLOCK * 8].astype(np.float32, copy=True)
        if not np.isfinite(part).all():
            raise ClusteringError("embeddings contain NaN or infinite values: re-embed the passages")
        norms = np.linalg.norm(part, axis=1, keepdims=True)
        if (norms == 0).any():
            raise ClusteringError(f"embedding {start + int(np.argmin(norms))} is all zeros: re-embed the passages")
        part /= norms
        out[start:start + _BLOCK * 8] = part
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


def _neighbours(
    X: np.ndarray,
    fit: np.ndarray,
    n_neighbors: int,
    groups: np.ndarray | None,
    steps: _Steps,
    workers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each passage's n_neighbors nearest fit-set passages (positions in fit), other sources first,
    and their cosine similarities; a passage is never its own neighbour."""
    n = len(X)
    pool = X[fit]
    position = np.full(n, -1)
    position[fit] = np.arange(len(fit))
    pool_groups = groups[fit] if groups is not None else None
    near = np.empty((n, n_neighbors), np.int64)
    sims = np.empty((n, n_neighbors), np.float32)

    def block(start: int) -> None:
        stop = min(start + _BLOCK, n)
        S = X[start:stop] @ pool.T
        if pool_groups is not None:
            S -= _SAME_SOURCE_PENALTY * (groups[start:stop, None] == pool_groups[None, :])
        own = position[start:stop]
        inside = np.nonzero(own >= 0)[0]
        S[inside, own[inside]] = -np.inf
        found = np.argpartition(-S, n_neighbors - 1, axis=1)[:, :n_neighbors]
        near[start:stop] = found
        sims[start:stop] = np.einsum("ij,ikj->ik", X[start:stop], pool[found])

    for _ in _in_threads(block, range(0, n, _BLOCK), workers):
        steps.step()
    return near, sims


def _nearest_centroid(Y: np.ndarray, C: np.ndarray) -> np.ndarray:
    C32 = C.astype(np.float32)
    out = np.empty(len(Y), np.int64)
    for start in range(0, len(Y), _BLOCK * 8):
        out[start : start + _BLOCK * 8] = np.argmax(Y[start : start + _BLOCK * 8] @ C32.T, axis=1)
    return out


def _spherical_kmeans(Y: np.ndarray, C: np.ndarray, max_iter: int) -> np.ndarray:
    labels = _nearest_centroid(Y, C)
    for _ in range(max_iter):
        sums = _centroids_of(Y, labels, len(C))
        empty = ~sums.any(axis=1)
        sums[empty] = C[empty]  # an emptied theme keeps its place; dissolution handles it later
        C = _unit_rows(sums)
        new = _nearest_centroid(Y, C)
        if np.array_equal(new, labels):
            break
        labels = new
    return C


def _settle(Y: np.ndarray, rows: np.ndarray, C: np.ndarray, steps: int) -> np.ndarray:
    """`steps` spherical k-means steps from centroids C over Y[rows], a block of rows at a time (the
    rows are never copied whole: at 100,000 passages a copy per refit thread would cost 120 MB)."""
    C = C.astype(np.float64)
    for _ in range(steps):
        C32, sums = C.astype(np.float32), np.zeros_like(C)
        for start in range(0, len(rows), _BLOCK * 8):
            block = Y[rows[start:start + _BLOCK * 8]]
            sums += _centroids_of(block, np.argmax(block @ C32.T, axis=1), len(C))
        empty = ~sums.any(axis=1)
        sums[empty] = C[empty]  # a theme no passage chose keeps its place, as in _spherical_kmeans
        C = _unit_rows(sums)
    return C


def _unit_distances(Y: np.ndarray, workers: int) -> np.ndarray:
    """Euclidean distances between unit rows, as a square float64 matrix: O(len(Y)^2), fit sets only.

    Computed in fixed blocks of rows (on threads), so the bytes do not depend on the thread count.
    """
    Y64 = Y.astype(np.float64)
    dist = np.empty((len(Y), len(Y)))

    def rows(start: int) -> None:
        block = dist[start:start + _BLOCK // 4]
        np.matmul(Y64[start:start + _BLOCK // 4], Y64.T, out=block)  # unit rows: squared distance is 2 - 2 cos
        block *= -2
        block += 2
        np.maximum(block, 0, out=block)
        np.sqrt(block, out=block)

    for _ in _in_threads(rows, range(0, len(Y), _BLOCK // 4), workers):
        pass
    return dist


def _ward_labels(distances: np.ndarray, k: int) -> np.ndarray:
    """Ward's clustering cut at k clusters, from a square distance matrix (squareform reads one triangle)."""
    n = len(distances)
    if k <= 1 or n < 2:
        return np.zeros(n, np.int64)
    condensed = squareform(distances, checks=False)
    # fastcluster gives scipy's tree about twice as fast, and releases the GIL while it works.
    tree = fastcluster.linkage(condensed, method="ward", preserve_input=False)
    return fcluster(tree, k, criterion="maxclust").astype(np.int64) - 1


def _fit_centroids(Y: np.ndarray, distances: np.ndarray, k: int, max_iter: int) -> np.ndarray:
    labels = _ward_labels(distances, k)
    start = _unit_rows(_centroids_of(Y, labels, int(labels.max()) + 1))
    return _spherical_kmeans(Y, start, max_iter)


def _align(labels: np.ndarray, reference: np.ndarray, k_labels: int, k_reference: int) -> np.ndarray:
    """Map each refit theme to the reference theme it shares most passages with (one-to-one)."""
    table = np.zeros((k_labels, k_reference))
    np.add.at(table, (labels, reference), 1)
    rows, cols = linear_sum_assignment(-table)
    mapping = np.full(k_labels, -1)
    mapping[rows] = cols
    return mapping


def _renumber(
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
