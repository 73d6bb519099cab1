"""synth.graph_partition: the k-NN graph, Leiden runs, the resolution search, consensus, propagation."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from synth.graph_partition import consensus, graph_edges, leiden, propagate, resolution_for


def blob_graph(n_themes: int, per_theme: int, *, noise: float = 0.6, k: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    dim = 32
    truth = np.repeat(np.arange(n_themes), per_theme)
    X = rng.normal(size=(n_themes, dim))[truth] + noise * rng.normal(size=(len(truth), dim))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    S = X @ X.T
    np.fill_diagonal(S, -np.inf)
    near = np.argsort(-S, axis=1)[:, :k]
    sims = np.take_along_axis(S, near, 1)
    pairs, weights = graph_edges(near, sims, np.arange(len(X)))
    return X, truth, near, sims, pairs, weights


def test_edges_are_undirected_unique_and_positive():
    _, _, near, sims, pairs, weights = blob_graph(3, 30)
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert len(np.unique(pairs, axis=0)) == len(pairs)
    assert (weights > 0).all()
    # every k-NN relation with a positive similarity is an edge, in one direction or the other
    found = {tuple(p) for p in pairs.tolist()}
    for i in range(len(near)):
        for j, s in zip(near[i], sims[i]):
            if s > 0:
                assert (min(i, j), max(i, j)) in found


def test_same_seed_same_partition_and_separated_themes_are_found():
    _, truth, _, _, pairs, weights = blob_graph(5, 40)
    a = leiden(len(truth), pairs, weights, 1.0, seed=3)
    b = leiden(len(truth), pairs, weights, 1.0, seed=3)
    assert np.array_equal(a, b)
    assert adjusted_rand_score(truth, a) > 0.95


def test_resolution_gives_the_wanted_number_of_themes():
    _, truth, _, _, pairs, weights = blob_graph(6, 40)
    resolution = resolution_for(len(truth), pairs, weights, 6, 10, seed=1)
    labels = leiden(len(truth), pairs, weights, resolution, seed=1)
    assert (np.bincount(labels) >= 10).sum() == 6


def test_resolution_never_shatters_the_graph_to_chase_a_count():
    # Three themes cannot give twelve communities of 20: the search must not settle on a resolution
    # where most passages sit in fragments (the count of big communities falls again up there).
    _, truth, _, _, pairs, weights = blob_graph(3, 60)
    resolution = resolution_for(len(truth), pairs, weights, 12, 20, seed=1)
    sizes = np.bincount(leiden(len(truth), pairs, weights, resolution, seed=1))
    assert sizes[sizes >= 20].sum() > len(truth) / 2


def test_consensus_agrees_with_the_runs_and_with_the_truth():
    _, truth, _, _, pairs, weights = blob_graph(6, 40, noise=0.9)
    runs = [leiden(len(truth), pairs, weights, 1.0, seed=s) for s in range(8)]
    agreed = consensus(len(truth), pairs, weights, runs, 1.0, seeds=[11, 12, 13])
    assert adjusted_rand_score(truth, agreed) >= min(adjusted_rand_score(truth, r) for r in runs) - 0.02
    same = consensus(len(truth), pairs, weights, [runs[0]] * 3, 1.0, seeds=[11])
    assert np.array_equal(same, runs[0])  # runs that agree on every edge are their own consensus


def test_passages_outside_the_fit_set_take_their_neighbours_label():
    near = np.array([[1, 2], [0, 2], [0, 1], [0, 1], [2, 2]])  # rows 3 and 4 are outside the fit set
    sims = np.array([[0.9, 0.8], [0.9, 0.7], [0.8, 0.7], [0.9, 0.1], [0.5, 0.5]], np.float32)
    fit = np.array([0, 1, 2])
    labels = propagate(np.array([0, 0, 1]), near, sims, fit, 2)
    assert labels.tolist() == [0, 0, 1, 0, 1]
