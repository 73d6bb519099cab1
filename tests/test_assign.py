"""Clustering's assignment after the fit (`synth.assign`): a pure per-block function whose compact
votes are the n x k table of counts the refits used to make, whoever maps it over the blocks."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

import synth.assign as assign
from synth.assign import FitModel, Votes, assign_block, assign_votes, majority
from synth.cluster import ClusterParams, cluster_passages


def _corpus(n: int, seed: int = 3, dim: int = 32, themes: int = 12):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((themes, dim))
    X = centres[rng.integers(0, themes, n)] + 0.9 * rng.standard_normal((n, dim))
    return X.astype(np.float32), rng.integers(0, 40, n)


def test_compact_votes_hold_the_table_of_counts():
    rng = np.random.default_rng(0)
    n, k, resamples = 5000, 37, 20
    chosen = rng.integers(-1, k, (n, resamples)).astype(np.int16)
    chosen[:50] = 4  # unanimous rows
    chosen[50:60] = -1  # rows no refit matched: the reference decides
    ref = rng.integers(0, k, n).astype(np.int32)
    table = np.zeros((n, k), np.uint16)
    for r in range(resamples):
        ok = chosen[:, r] >= 0
        table[np.flatnonzero(ok), chosen[ok, r]] += 1
    votes = Votes(ref, chosen, k)
    assert votes.shape == table.shape
    rows = np.array([0, 55, 4999, 17, 17])
    assert np.array_equal(votes[rows], table[rows])
    themes = rng.integers(0, k, n)
    assert np.array_equal(votes[np.arange(n), themes], table[np.arange(n), themes])
    assert np.array_equal(votes.majority(), majority(table, ref))
    assert np.array_equal(votes.majority()[50:60], ref[50:60]) and (votes.majority()[:50] == 4).all()


def _with_the_table(X: np.ndarray, model: FitModel) -> tuple[np.ndarray, np.ndarray]:
    """The assignment as cluster.py computed it before: the whole corpus's labels per refit, an n x k table."""
    ref = np.argmax(X @ model.reference.T, axis=1)
    table = np.zeros((len(X), model.k), np.uint16)
    for C, to_reference in zip(model.refits, model.to_reference):
        mapped = to_reference[np.argmax(X @ C.T, axis=1)]
        ok = mapped >= 0
        table[np.flatnonzero(ok), mapped[ok]] += 1
    return ref, table


def _model(rng, k: int = 9, dim: int = 16, resamples: int = 5) -> FitModel:
    def unit(a):
        return a / np.linalg.norm(a, axis=1, keepdims=True)

    refits = [unit(rng.standard_normal((k - (r % 2), dim))) for r in range(resamples)]
    to_reference = [rng.permutation(k)[:len(c)] for c in refits]
    to_reference[1][0] = -1  # a refit theme matched to none: its passages give no vote
    return FitModel.of(unit(rng.standard_normal((k, dim))), refits, to_reference)


def test_blocks_give_the_votes_of_the_whole_corpus_at_once():
    rng = np.random.default_rng(1)
    model = _model(rng)
    X = rng.standard_normal((1000, 16)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    ref, table = _with_the_table(X, model)
    # Argmax over products can tip on a last-bit difference between block sizes: compare on rows
    # whose best and second-best centroids are clearly apart (almost all of them).
    clear = np.ones(len(X), bool)
    for C in (model.reference, *model.refits):
        top = np.sort(X @ C.T, axis=1)
        clear &= top[:, -1] - top[:, -2] > 1e-4
    assert clear.mean() > 0.95
    for rows in (64, 333, 5000):
        votes = assign_votes(X, model, rows_per_block=rows)
        assert np.array_equal(votes.ref[clear], ref[clear])
        assert np.array_equal(votes[np.flatnonzero(clear)], table[clear])


def _map_in_other_processes(fn, shared, blocks):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return pool.starmap(fn, [(b, shared) for b in blocks])  # pickled: copies in the other processes


def test_assignment_is_pure_so_other_processes_give_exactly_the_same_themes(monkeypatch):
    """Fit on a sample (max_fit); smooth, refine the centroids over the corpus and assign the rest in
    blocks run by two other processes: the same themes, placements and probabilities as in this
    process, bit for bit (same blocks, same products, sums reduced in the blocks' order)."""
    monkeypatch.setattr(assign, "ASSIGN_ROWS", 500)  # several blocks on each process
    X, groups = _corpus(3000)
    params = ClusterParams(seed=5, max_fit=800)
    seen: list[tuple[str, int]] = []

    def counted(fn, shared, blocks):
        blocks = list(blocks)
        seen.append((fn.__name__, len(blocks)))
        return _map_in_other_processes(fn, shared, blocks)

    here = cluster_passages(X, group_ids=groups, params=params)
    there = cluster_passages(X, group_ids=groups, params=params, block_map=counted)
    assert seen[0] == ("smooth_block", 2) and seen[-1] == ("assign_block", 6)  # 2,048-row smoothing blocks
    assert {name for name, _ in seen[1:-1]} == {"kmeans_block"} and len(seen) >= 4  # at least two passes
    assert here.stats["n_fit"] == 800 and here.n_themes >= 5
    for field in ("labels", "nearest", "probability", "centroids"):
        assert np.array_equal(getattr(here, field), getattr(there, field)), field


def test_a_block_is_assigned_from_its_rows_alone():
    rng = np.random.default_rng(2)
    model = _model(rng)
    X = rng.standard_normal((300, 16)).astype(np.float32)
    whole = assign_block(X, model)
    again = assign_block(X.copy(), model)
    assert np.array_equal(whole.ref, again.ref) and np.array_equal(whole.chosen, again.chosen)
    assert whole.chosen.shape == (300, 5) and whole.chosen.dtype == np.int16
    assert (whole.chosen[:, 1] >= -1).all() and whole.chosen.max() < model.k


def test_a_block_map_that_loses_rows_is_a_defect_not_a_result():
    X, _ = _corpus(600)
    model = _model(np.random.default_rng(4), dim=32)
    with pytest.raises(RuntimeError, match="returned 500 rows for 600"):
        assign_votes(X, model, lambda fn, shared, blocks: [fn(b, shared) for b in list(blocks)[:-1]],
                     rows_per_block=100)
