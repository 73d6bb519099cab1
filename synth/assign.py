"""Placing every passage once the clustering is fitted: the per-passage half of consensus clustering.

`synth.cluster` fits on its fit set (at most `max_fit` passages; `synth.consensus_votes`): the
reference centroids and the resampled refits, each refit's themes aligned to the reference's
(Hungarian matching on the fit set).
What that fit then says about one passage — its reference theme, and which reference theme each
refit votes for — depends on that passage's (smoothed) vector alone. So it is a pure function of a
block of rows (`assign_block`), mapped over the corpus block by block: in this process by default,
on a Ray cluster's workers with `synth discover --engine ray` (`RayEngine.map_blocks`). Both run the
same function on the same blocks, so they give the same numbers, bit for bit.

The votes are kept as the theme each refit gave each passage (`Votes`: n x resamples small integers)
rather than as an n x k table of counts: at 10^7 passages and the default k (2,236 themes) the table
and its tally took about 135 GB, the refits' choices take 0.4 GB. The few places that need counts
(the majority, a passage's agreement, the next-best theme of a dissolved theme's members) compute
them block by block, or for the rows they need, with the same integers as the table would hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

ASSIGN_ROWS = 16384  # rows per block: `consensus_votes._nearest_centroid`'s block, so the products are the ones it computes

BlockMap = Callable[[Callable, object, Iterable[np.ndarray]], Iterable]
"""block_map(fn, shared, blocks) -> fn(block, shared) for each block, in the blocks' order."""


def map_in_process(fn: Callable, shared: object, blocks: Iterable[np.ndarray]) -> Iterator:
    """The default block map: one block at a time in this process (memory: one block's products)."""
    for block in blocks:
        yield fn(block, shared)


@dataclass(frozen=True)
class FitModel:
    """What the fit says about any passage: the reference centroids, and each refit's centroids with
    the reference theme each of its themes stands for (-1: matched to none, no vote)."""

    reference: np.ndarray                 # (k, dim) float32, unit rows
    refits: tuple[np.ndarray, ...]        # per resample: (k_r, dim) float32
    to_reference: tuple[np.ndarray, ...]  # per resample: (k_r,) int, refit theme -> reference theme or -1

    @classmethod
    def of(cls, reference: np.ndarray, refits: Iterable[np.ndarray], to_reference: Iterable[np.ndarray]) -> FitModel:
        return cls(reference.astype(np.float32), tuple(c.astype(np.float32) for c in refits),
                   tuple(np.asarray(m, np.int64) for m in to_reference))

    @property
    def k(self) -> int:
        return int(self.reference.shape[0])


@dataclass(frozen=True)
class BlockVotes:
    ref: np.ndarray     # (rows,) int32: the reference theme of each row
    chosen: np.ndarray  # (rows, resamples) int16/int32: the reference theme each refit put the row in, -1 none


def assign_block(block: np.ndarray, model: FitModel) -> BlockVotes:
    """The fit's verdict on a block of smoothed unit rows. Pure: the same block and model give the
    same result in any process (the products are float32 `rows @ centroids.T`, as in-process)."""
    Y = np.asarray(block, dtype=np.float32)
    ref = np.argmax(Y @ model.reference.T, axis=1).astype(np.int32)
    chosen = np.empty((len(Y), len(model.refits)), _label_dtype(model.k))
    for r, (C, to_reference) in enumerate(zip(model.refits, model.to_reference, strict=True)):
        chosen[:, r] = to_reference[np.argmax(Y @ C.T, axis=1)]
    return BlockVotes(ref, chosen)


def assign_votes(smoothed: np.ndarray, model: FitModel, block_map: BlockMap | None = None,
                 rows_per_block: int | None = None, placed: list | None = None) -> Votes:
    """`assign_block` over the corpus in blocks of `rows_per_block` rows (default `ASSIGN_ROWS`; in
    this process unless a block map is given), gathered as `Votes`. `placed`: those blocks as the
    block map already holds them (`block_maps.Blocks.place`), in the rows' order."""
    block_map = block_map or map_in_process
    rows_per_block = rows_per_block or ASSIGN_ROWS
    n = len(smoothed)
    blocks = placed if placed is not None else \
        (smoothed[start:start + rows_per_block] for start in range(0, n, rows_per_block))
    ref = np.empty(n, np.int32)
    chosen = np.empty((n, len(model.refits)), _label_dtype(model.k))
    start = 0
    for result in block_map(assign_block, model, blocks):
        stop = start + len(result.ref)
        ref[start:stop], chosen[start:stop] = result.ref, result.chosen
        start = stop
    if start != n:
        raise RuntimeError(f"block map returned {start} rows for {n} passages")  # a defect, never the input's
    return Votes(ref, chosen, model.k)


class Votes:
    """Each passage's votes per reference theme, as the n x k uint16 table of counts the refits make,
    without holding that table: `votes[rows]` gives those rows' counts, `votes[rows, themes]` one count
    per row, `votes.shape` the table's shape; `majority` the theme with most votes."""

    def __init__(self, ref: np.ndarray, chosen: np.ndarray, k: int) -> None:
        self.ref, self.chosen, self.k = ref, chosen, k

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.ref), self.k)

    def __len__(self) -> int:
        return len(self.ref)

    def __getitem__(self, key):
        if isinstance(key, tuple):
            rows, themes = key
            rows, themes = np.asarray(rows), np.asarray(themes)
            out = np.empty(len(rows), np.uint16)
            for start in range(0, len(rows), ASSIGN_ROWS):
                part = self.chosen[rows[start:start + ASSIGN_ROWS]]
                out[start:start + ASSIGN_ROWS] = (part == themes[start:start + ASSIGN_ROWS, None]).sum(axis=1)
            return out
        return self._counts(np.asarray(key))

    def _counts(self, rows: np.ndarray) -> np.ndarray:
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        chosen = self.chosen[rows]
        counts = np.zeros((len(chosen), self.k), np.uint16)
        at, theme = np.nonzero(chosen >= 0)
        np.add.at(counts, (at, chosen[at, theme]), 1)
        return counts

    def majority(self) -> np.ndarray:
        """The theme most refits chose; the reference breaks ties (half a vote), so the result is
        reproducible; the lowest theme number breaks what is left, as argmax does."""
        nearest = np.empty(len(self.ref), np.int64)
        for start in range(0, len(self.ref), ASSIGN_ROWS):
            stop = min(start + ASSIGN_ROWS, len(self.ref))
            nearest[start:stop] = majority(self._counts(np.arange(start, stop)), self.ref[start:stop])
        return nearest


def majority(votes: np.ndarray | Votes, ref_labels: np.ndarray) -> np.ndarray:
    """Per passage, the theme with most votes, the reference's theme counting half a vote."""
    if isinstance(votes, Votes):
        return votes.majority()
    tally = votes.astype(np.int32) * 2
    tally[np.arange(len(tally)), ref_labels] += 1
    return np.argmax(tally, axis=1)


def _label_dtype(k: int) -> type:
    return np.int16 if k < np.iinfo(np.int16).max else np.int32
