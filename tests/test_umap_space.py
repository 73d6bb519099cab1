"""Consensus Ward on a UMAP-reduced space (synth.umap_space, the consensus-ward-umap clusterer)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from synth.cluster import ClusteringError
from synth.clusterers import ConsensusWardUmap, cluster_with, make_clusterer
from synth.umap_space import hdbscan_count, lift, reduce


def blobs(n_themes: int = 5, per_theme: int = 40, dim: int = 32, noise: float = 0.5, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_themes, dim))
    truth = np.repeat(np.arange(n_themes), per_theme)
    X = centres[truth] + noise * rng.normal(size=(len(truth), dim))
    return X.astype(np.float32), truth, np.arange(len(truth)) % 8


def test_lift_keeps_the_reduced_space_distances_on_the_unit_sphere():
    """Lifted rows are unit vectors and their chord distances follow the reduced points' Euclidean
    ones: near-equal ratios for points within the bulk (margins, not exact floats)."""
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(300, 5)) * [3, 2, 1, 1, 0.5] + 10
    L = lift(Y)
    assert L.shape == (300, 6) and L.dtype == np.float32
    assert np.allclose(np.linalg.norm(L, axis=1), 1, atol=1e-5)
    centred = Y - Y.mean(axis=0)
    radius = np.linalg.norm(centred, axis=1)
    bulk = np.flatnonzero(radius < np.quantile(radius, 0.6))
    i, j = bulk[:-1], bulk[1:]
    ratio = np.linalg.norm(L[i] - L[j], axis=1) / np.linalg.norm(Y[i] - Y[j], axis=1)
    assert ratio.max() / ratio.min() < 1.2
    # order of distances from one point is kept where it matters (a near neighbour stays nearer)
    far = np.linalg.norm(Y - Y[0], axis=1)
    chord = np.linalg.norm(L - L[0], axis=1)
    assert np.corrcoef(np.argsort(np.argsort(far)), np.argsort(np.argsort(chord)))[0, 1] > 0.95


def test_recovers_separated_themes_with_centroids_in_the_embedding_space():
    X, truth, groups = blobs()
    model = make_clusterer("consensus-ward-umap").set_params(n_themes=5, min_theme_size=5).fit(X, groups=groups)
    found = model.clustering_
    assert adjusted_rand_score(truth, found.nearest) > 0.9
    assert found.stats["coverage"] > 0.9
    assert found.centroids.shape == (found.n_themes, X.shape[1])  # the embedding's, for labels and later steps
    assert np.allclose(np.linalg.norm(found.centroids, axis=1), 1, atol=1e-4)
    assert model.space_.shape == (len(X), 6)  # 5 UMAP dimensions, lifted
    assert found.stats["clusterer"] == "consensus-ward-umap" and "umap" in found.stats["seconds"]


def test_hdbscan_count_sets_the_number_of_themes():
    X, truth, groups = blobs(n_themes=6, per_theme=40, noise=0.3, seed=2)
    coords = reduce(X / np.linalg.norm(X, axis=1, keepdims=True), seed=3)
    assert abs(hdbscan_count(coords, 10) - 6) <= 1
    model = ConsensusWardUmap(k_from="hdbscan", hdbscan_size=10, min_theme_size=5).fit(X, groups=groups)
    assert abs(model.clustering_.stats["n_themes_requested"] - 6) <= 1
    assert adjusted_rand_score(truth, model.clustering_.nearest) > 0.85


def test_same_seed_same_arrays():
    X, _, groups = blobs(seed=4)
    a, b = (cluster_with("consensus-ward-umap", X, group_ids=groups, seed=7) for _ in range(2))
    for name in ("labels", "nearest", "probability", "centroids"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name


def test_above_max_fit_the_rest_is_transformed_deterministically():
    X, truth, _ = blobs(n_themes=4, per_theme=60, seed=5)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    a, b = (reduce(U, seed=1, max_fit=120) for _ in range(2))
    assert a.shape == (240, 5) and np.isfinite(a).all()
    assert a.tobytes() == b.tobytes()
    # the transformed rows land with their own theme: nearest fitted point mostly of the same blob
    from sklearn.cluster import KMeans

    found = KMeans(4, n_init=4, random_state=0).fit_predict(a)
    assert adjusted_rand_score(truth, found) > 0.8


def test_bad_settings_and_tiny_input_are_refused():
    X, _, _ = blobs()
    with pytest.raises(ClusteringError, match="k_from='many'"):
        ConsensusWardUmap(k_from="many").fit(X)
    with pytest.raises(ClusteringError, match="needs more than 7 passages; got 5"):
        ConsensusWardUmap().fit(X[:5])


@pytest.mark.slow
def test_discover_with_the_umap_clusterer_end_to_end(tmp_path):
    """`synth discover --clusterer consensus-ward-umap` on the demo: themes with placed passages, most
    passages placed, and the same themes from a second run with the same seed."""
    from conftest import DEMO, Synth
    from synth.store import Project

    synth = Synth()
    runs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.synth"
        synth.ok("ingest", path, DEMO)
        synth.ok("discover", path, "--seed", "42", "--clusterer", "consensus-ward-umap")
        with Project.open(path, create=False) as project:
            themes = project.themes()
            runs.append(sorted((t.label, len(project.memberships(theme_id=t.id, placed=True))) for t in themes))
    assert len(runs[0]) >= 5
    assert sum(size for _, size in runs[0]) >= 200, runs[0]  # of the demo's 273 codable passages
    assert runs[0] == runs[1]
