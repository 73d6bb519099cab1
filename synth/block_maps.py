"""Consensus Ward's corpus-wide passes as maps over blocks of rows: the cross-source smoothing and
the spherical k-means passes that let the whole corpus settle the reference centroids (the third,
the assignment of every passage after the fit, is `synth.assign`).

Each block's result is a pure function of the block's rows and of a small shared value (the fit
set's rows; the centroids), so the blocks can run anywhere: in this process (on threads, the
default) or on a Ray cluster's workers (`ray_engine.RayBlocks`, `synth discover --engine ray`).
Both run the same functions on the same blocks, and every sum over the corpus (a k-means pass's
centroid sums) is reduced here, in the driver, in the blocks' order; so both give the same numbers,
bit for bit.

A block map may also say where the corpus-sized matrices live (`matrix`: the Ray engine's are
memory-mapped files beside the project, so the driver never holds a copy of the vectors in its own
heap) and put blocks that several maps read where its workers keep them (`place`: the Ray engine
puts the smoothed blocks into its object store once, instead of sending them again for every
k-means pass). A plain callable `block_map(fn, shared, blocks)` is a block map too: its matrices
are ordinary arrays and its blocks are the rows themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .small_themes import centroids_of
from .vectors import unit

SAME_SOURCE_PENALTY = 4.0  # larger than any cosine range, so other sources always rank first
SMOOTH_ROWS = 2048         # rows per smoothing block (block x fit-set products: bounded memory)

BlockMap = Callable[[Callable, object, Iterable], Iterable]
"""block_map(fn, shared, blocks) -> fn(block, shared) for each block, in the blocks' order."""


def map_in_threads(workers: int) -> BlockMap:
    """The default block map: the blocks on up to `workers` threads of this process, results in
    the blocks' order (the products release the GIL; one BLAS thread each, so a block's numbers do
    not depend on the thread count)."""
    def block_map(fn: Callable, shared: object, blocks: Iterable) -> Iterator:
        if workers <= 1:
            for block in blocks:
                yield fn(block, shared)
            return
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            yield from pool.map(lambda block: fn(block, shared), blocks)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C, only running blocks are waited for
    return block_map


class Blocks:
    """A block map with its optional `matrix` and `place` (see the module's docstring)."""

    def __init__(self, block_map: BlockMap) -> None:
        self.block_map = block_map

    def map(self, fn: Callable, shared: object, blocks: Iterable) -> Iterable:
        return self.block_map(fn, shared, blocks)

    def matrix(self, shape: tuple[int, int], dtype) -> np.ndarray:
        make = getattr(self.block_map, "matrix", None)
        return make(shape, dtype) if make else np.empty(shape, dtype)

    def place(self, blocks: Iterable) -> list:
        put = getattr(self.block_map, "place", None)
        return put(blocks) if put else list(blocks)

    def release(self, placed: list) -> None:
        drop = getattr(self.block_map, "release", None)
        if drop:
            drop(placed)


def row_blocks(X: np.ndarray, rows: int) -> Iterator[np.ndarray]:
    return (X[start:start + rows] for start in range(0, len(X), rows))


@dataclass(frozen=True)
class SmoothShared:
    pool: np.ndarray               # the fit set's unit rows (float32)
    pool_groups: np.ndarray | None  # their source codes, or None: no cross-source preference
    n_neighbors: int


def smooth_block(block: tuple[np.ndarray, np.ndarray | None, np.ndarray], shared: SmoothShared) -> np.ndarray:
    """Each row plus its `n_neighbors` most similar fit-set rows, other sources first (a passage is
    never its own neighbour: `own` is its position in the fit set, -1 outside it); unit length."""
    rows, groups, own = block
    rows = np.asarray(rows, dtype=np.float32)
    S = rows @ shared.pool.T
    if shared.pool_groups is not None:
        S -= SAME_SOURCE_PENALTY * (groups[:, None] == shared.pool_groups[None, :])
    inside = np.nonzero(own >= 0)[0]
    S[inside, own[inside]] = -np.inf
    found = np.argpartition(-S, shared.n_neighbors - 1, axis=1)[:, :shared.n_neighbors]
    return unit(rows + shared.pool[found].sum(axis=1))


def smooth(blocks: Blocks, X: np.ndarray, fit: np.ndarray, n_neighbors: int,
           groups: np.ndarray | None, on_block: Callable[[], None]) -> np.ndarray:
    """The smoothed matrix (`smooth_block` over blocks of `SMOOTH_ROWS` rows), in `blocks.matrix`."""
    n = len(X)
    out = blocks.matrix(X.shape, np.float32)
    if n_neighbors == 0:
        for start in range(0, n, SMOOTH_ROWS):
            out[start:start + SMOOTH_ROWS] = X[start:start + SMOOTH_ROWS]
            on_block()
        return out
    position = np.full(n, -1)
    position[fit] = np.arange(len(fit))
    shared = SmoothShared(np.ascontiguousarray(X[fit], dtype=np.float32),
                          groups[fit] if groups is not None else None, n_neighbors)
    parts = ((X[start:start + SMOOTH_ROWS], groups[start:start + SMOOTH_ROWS] if groups is not None else None,
              position[start:start + SMOOTH_ROWS]) for start in range(0, n, SMOOTH_ROWS))
    start = 0
    for result in blocks.map(smooth_block, shared, parts):
        out[start:start + len(result)] = result
        start += len(result)
        on_block()
    if start != n:
        raise RuntimeError(f"block map returned {start} rows for {n} passages")  # a defect, never the input's
    return out


def kmeans_block(block: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest centroid, and the block's float64 sum of rows per centroid."""
    Y = np.asarray(block, dtype=np.float32)
    labels = np.argmax(Y @ centroids.T, axis=1)
    return labels, centroids_of(Y, labels, len(centroids))


def spherical_kmeans(blocks: Blocks, placed: list, n: int, C: np.ndarray, max_iter: int) -> np.ndarray:
    """Spherical k-means over the whole corpus from centroids C, as `consensus_votes._spherical_kmeans`
    does it, each pass one map over the placed blocks (`kmeans_block`); the centroid sums are
    reduced in the blocks' order, so the result does not depend on where the blocks ran."""
    def one_pass(C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        labels = np.empty(n, np.int64)
        sums = np.zeros(C.shape, np.float64)
        start = 0
        for part_labels, part_sums in blocks.map(kmeans_block, C.astype(np.float32), placed):
            labels[start:start + len(part_labels)] = part_labels
            sums += part_sums
            start += len(part_labels)
        if start != n:
            raise RuntimeError(f"block map returned {start} rows for {n} passages")  # a defect
        return labels, sums

    labels, sums = one_pass(C)
    for _ in range(max_iter):
        empty = ~sums.any(axis=1)
        sums[empty] = C[empty]  # an emptied theme keeps its place; dissolution handles it later
        C = unit(sums)
        new, sums = one_pass(C)
        if np.array_equal(new, labels):
            break
        labels = new
    return C
