"""The consensus votes: a reference partition of the passages, and the refits (consensus Ward) or
seeded runs (consensus Leiden) that vote on it, each aligned to the reference by Hungarian matching.

`synth.cluster` calls one of the two (`ward_votes`, `leiden_votes`) and shapes what they return
into themes (`synth.consensus_themes`). Each gives the vectors the themes are judged on, every
passage's reference theme, and its votes per reference theme.

Consensus Ward learns on the fit set (`synth.fit_sample`): Ward's clustering cut at k and refined by
spherical k-means is the reference; each resample refits the same way on its subset of the fit set,
reading its rows of the fit set's distance matrix (computed once, max_fit^2 floats), and above
max_fit settles a few k-means steps on its share of the whole corpus. The refits run on up to
`workers` threads, because fastcluster's Ward linkage releases the GIL, and their result does not
depend on the thread count: the draws are made up front, in order, and every product is computed in
fixed blocks. The passes over the whole corpus (smoothing, the reference's k-means, the assignment
of every passage) are block maps (`synth.block_maps`, `synth.assign`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import fastcluster
import numpy as np
from scipy.cluster.hierarchy import fcluster
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import squareform

from . import assign as assignment
from .assign import FitModel, Votes, assign_votes
from .block_maps import SAME_SOURCE_PENALTY, Blocks, row_blocks, smooth, spherical_kmeans
from .fit_sample import refit_draws
from .graph_partition import _CONSENSUS_RUNS, as_graph, consensus, graph_edges, leiden, propagate, resolution_for
from .refine import unit as _unit_rows
from .small_themes import centroids_of as _centroids_of

if TYPE_CHECKING:  # the parameters and the step counter are synth.cluster's, which imports this module
    from .cluster import ClusterParams, Steps

BLOCK = 2048  # rows per block in every passage-by-fit-set product: bounds memory at 100k passages


def ward_votes(X: np.ndarray, fit: np.ndarray, use_groups: np.ndarray | None, k: int, n_neighbors: int,
               params: ClusterParams, steps: Steps, workers: int, seconds: dict[str, float],
               blocks: Blocks) -> tuple[np.ndarray, np.ndarray, Votes]:
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
    draws = refit_draws(X, fit, params.n_resamples, params.resample_fraction, params.settle_steps)

    def refit(job: tuple[np.ndarray, np.ndarray | None]) -> np.ndarray:
        subset, share = job
        rows_of_subset = fit[subset]
        centroids = _fit_centroids(
            smoothed[rows_of_subset], fit_distances[np.ix_(subset, subset)], k, params.max_iter
        )
        return centroids if share is None else _settle(smoothed, share, centroids, params.settle_steps)

    refits, to_reference = [], []
    for refit_centroids in _in_threads(refit, draws, workers):
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


def leiden_votes(X: np.ndarray, fit: np.ndarray, use_groups: np.ndarray | None, k: int, m: int,
                 params: ClusterParams, rng: np.random.Generator, steps: Steps, workers: int,
                 seconds: dict[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                    tuple[np.ndarray, np.ndarray]]:
    """Consensus Leiden (`--clusterer consensus-leiden`, `synth.graph_partition`): the k-NN graph of the fit set, the
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


def _neighbours(
    X: np.ndarray,
    fit: np.ndarray,
    n_neighbors: int,
    groups: np.ndarray | None,
    steps: Steps,
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
        stop = min(start + BLOCK, n)
        S = X[start:stop] @ pool.T
        if pool_groups is not None:
            S -= SAME_SOURCE_PENALTY * (groups[start:stop, None] == pool_groups[None, :])
        own = position[start:stop]
        inside = np.nonzero(own >= 0)[0]
        S[inside, own[inside]] = -np.inf
        found = np.argpartition(-S, n_neighbors - 1, axis=1)[:, :n_neighbors]
        near[start:stop] = found
        sims[start:stop] = np.einsum("ij,ikj->ik", X[start:stop], pool[found])

    for _ in _in_threads(block, range(0, n, BLOCK), workers):
        steps.step()
    return near, sims


def _nearest_centroid(Y: np.ndarray, C: np.ndarray) -> np.ndarray:
    C32 = C.astype(np.float32)
    out = np.empty(len(Y), np.int64)
    for start in range(0, len(Y), BLOCK * 8):
        out[start : start + BLOCK * 8] = np.argmax(Y[start : start + BLOCK * 8] @ C32.T, axis=1)
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
        for start in range(0, len(rows), BLOCK * 8):
            block = Y[rows[start:start + BLOCK * 8]]
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
        block = dist[start:start + BLOCK // 4]
        np.matmul(Y64[start:start + BLOCK // 4], Y64.T, out=block)  # unit rows: squared distance is 2 - 2 cos
        block *= -2
        block += 2
        np.maximum(block, 0, out=block)
        np.sqrt(block, out=block)

    for _ in _in_threads(rows, range(0, len(Y), BLOCK // 4), workers):
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


