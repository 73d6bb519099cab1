"""Consensus Ward's corpus-wide passes as block maps (`synth.block_maps`): the smoothing and the
k-means passes give the same numbers, bit for bit, in this process on one thread or several and in
other processes; a block map may keep the corpus-sized matrices out of the driver's heap."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

import synth.assign as assign
import synth.small_themes as small_themes
from synth.block_maps import Blocks, map_in_threads, row_blocks, smooth, spherical_kmeans
from synth.cluster import ClusterParams, _normalised, cluster_passages
from synth.fit_sample import fit_set


def _corpus(n: int, dim: int = 32, seed: int = 3):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, dim))
    X = (centres[rng.integers(0, 8, n)] + rng.standard_normal((n, dim))).astype(np.float32)
    return _normalised(X), rng.integers(0, 25, n)


@pytest.fixture(scope="module")
def other_processes():
    """A block map over two other processes (one pool for the module: starting one costs seconds)."""
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        yield lambda fn, shared, blocks: pool.starmap(fn, [(b, shared) for b in blocks])


def test_smoothing_is_the_same_in_threads_and_in_other_processes(other_processes):
    X, groups = _corpus(5000)
    fit = fit_set(X, 1200)
    one = smooth(Blocks(map_in_threads(1)), X, fit, 7, groups, lambda: None)
    two = smooth(Blocks(map_in_threads(2)), X, fit, 7, groups, lambda: None)
    far = smooth(Blocks(other_processes), X, fit, 7, groups, lambda: None)
    assert np.array_equal(one, two) and np.array_equal(one, far)
    assert np.allclose(np.linalg.norm(one, axis=1), 1, atol=1e-5)
    assert not np.allclose(one, X, atol=1e-3)  # the neighbours moved every row


def test_kmeans_passes_reduce_in_block_order_wherever_the_blocks_run(other_processes):
    X, groups = _corpus(6000, seed=8)
    C = X[:9].astype(np.float64)
    passes: list[int] = []

    def counted(fn, shared, blocks):
        passes.append(1)
        return other_processes(fn, shared, blocks)

    here = spherical_kmeans(Blocks(map_in_threads(2)), list(row_blocks(X, 1000)), len(X), C, 30)
    there = spherical_kmeans(Blocks(counted), list(row_blocks(X, 1000)), len(X), C, 30)
    assert np.array_equal(here, there) and len(passes) >= 3
    assert np.allclose(np.linalg.norm(here, axis=1), 1) and not np.allclose(here, C, atol=1e-2)  # it moved


def test_large_centroid_sums_are_summed_by_blocks_in_a_fixed_order(monkeypatch, tmp_path):
    rng = np.random.default_rng(1)
    Y = rng.standard_normal((5000, 24)).astype(np.float32)
    labels = rng.integers(0, 40, 5000)
    whole = small_themes.centroids_of(Y, labels, 40)
    monkeypatch.setattr(small_themes, "_SUM_ROWS", 700)
    blocked = small_themes.centroids_of(Y, labels, 40)
    assert np.allclose(blocked, whole, rtol=1e-12, atol=1e-12)
    mapped = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=np.float32, shape=Y.shape)
    mapped[:] = Y
    assert np.array_equal(small_themes.centroids_of(mapped, labels, 40), blocked)  # a mapped file: the same bits


class _MappedFiles:
    """A block map whose matrices are files mapped into memory and whose placed blocks are copies,
    as the Ray engine's (`ray_engine.RayBlocks`), in this process."""

    def __init__(self, folder):
        self.folder, self.made, self.calls = folder, [], []

    def __call__(self, fn, shared, blocks):
        blocks = list(blocks)
        self.calls.append(fn.__name__)
        return [fn(b, shared) for b in blocks]

    def matrix(self, shape, dtype):
        path = self.folder / f"m{len(self.made)}.npy"
        self.made.append(np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape))
        return self.made[-1]

    def place(self, blocks):
        return [np.array(b) for b in blocks]


def test_clustering_with_mapped_matrices_gives_exactly_the_in_process_themes(tmp_path, monkeypatch):
    monkeypatch.setattr(assign, "ASSIGN_ROWS", 700)
    X, groups = _corpus(3000, dim=48, seed=12)
    params = ClusterParams(seed=3, max_fit=700)
    here = cluster_passages(X, group_ids=groups, params=params)
    mapped = _MappedFiles(tmp_path)
    there = cluster_passages(X, group_ids=groups, params=params, block_map=mapped)
    assert len(mapped.made) == 2 and all(isinstance(m, np.memmap) for m in mapped.made)  # unit, smoothed
    assert mapped.calls[0] == "smooth_block" and mapped.calls[-1] == "assign_block" and "kmeans_block" in mapped.calls
    assert here.n_themes >= 4
    for field in ("labels", "nearest", "probability", "centroids"):
        assert np.array_equal(getattr(here, field), getattr(there, field)), field
