"""Theme clusterers as replaceable components with scikit-learn's fit contract.

Each is an estimator: `fit(X, groups=None)` returns self and sets `labels_` (theme per passage,
-1 unplaced) and `clustering_` (the `synth.cluster.Clustering` record discover stores: nearest theme,
probability, centroids, stats). `make_clusterer(name, ...)` builds one by the name `synth discover
--clusterer` takes.

- `consensus-ward` (the default): synth's method, `synth.cluster.cluster_passages` with the Ward
  partition (cross-source smoothing, Ward + spherical k-means, consensus over resampled refits),
  then the recurring-idea floor, loose-theme splits and near placement; discover then carves
  recurring ideas and stance siblings (`synth.recurring`, `synth.stance`).
- `consensus-leiden`: the same pipeline with the graph partition (`synth.graph_partition`: Leiden
  communities of the k-NN graph, other sources' passages first, resolution set for the adaptive
  number of themes, consensus over seeded runs). Ahead of Ward on NaPiRE and the bills, behind on the
  NHS comments, and on the demo it leaves a small fieldwork finding inside a broader theme, so it is
  an option (docs/benchmarks.md, "Theme discovery on the dev sets").
- `umap-hdbscan`: BERTopic's clusterer (UMAP to 5 dimensions, cosine, 15 neighbours, min_dist 0,
  seeded; HDBSCAN, minimum cluster size 10 or the given minimum theme size), with HDBSCAN's outliers
  given their nearest theme and placed by the same near-placement rule as synth's method. Kept so the
  two can be measured side by side (docs/benchmarks.md, "Theme discovery on the dev sets"); it needs
  `umap-learn`, is slower and changes with the seed.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from .cluster import Clustering, ClusteringError, ClusterParams, ProgressCallback, cluster_passages
from .refine import place_near

DEFAULT = "consensus-ward"


class ConsensusWard(ClusterMixin, BaseEstimator):
    """synth's own pipeline (see synth/cluster.py) with the Ward partition (the default), behind the fit contract."""

    partition = "ward"

    def __init__(self, seed: int = 42, min_theme_size: int | None = None, n_themes: int | None = None,
                 min_sources: int = 3, split_loose: bool = True, place_near: bool = True) -> None:
        self.seed = seed
        self.min_theme_size = min_theme_size
        self.n_themes = n_themes
        self.min_sources = min_sources
        self.split_loose = split_loose
        self.place_near = place_near

    def fit(self, X, y=None, groups=None, progress: ProgressCallback | None = None) -> ConsensusWard:
        params = ClusterParams(seed=self.seed, min_theme_size=self.min_theme_size, n_themes=self.n_themes,
                               min_sources=self.min_sources, split_loose=self.split_loose,
                               place_near=self.place_near, partition=self.partition)
        self.clustering_ = cluster_passages(X, group_ids=groups, params=params, progress=progress)
        self.labels_ = self.clustering_.labels
        return self


class ConsensusLeiden(ConsensusWard):
    """synth's own pipeline with the graph partition, behind the fit contract."""

    partition = "leiden"


class UmapHdbscan(ClusterMixin, BaseEstimator):
    """BERTopic's UMAP + HDBSCAN, with outliers given a nearest theme (see the module docstring)."""

    def __init__(self, seed: int = 42, min_theme_size: int | None = None, n_neighbors: int = 15,
                 n_components: int = 5) -> None:
        self.seed = seed
        self.min_theme_size = min_theme_size
        self.n_neighbors = n_neighbors
        self.n_components = n_components

    def fit(self, X, y=None, groups=None, progress: ProgressCallback | None = None) -> UmapHdbscan:
        try:
            from umap import UMAP
        except ImportError as e:
            raise ClusteringError("the umap-hdbscan clusterer needs umap-learn: pip install umap-learn") from e
        from sklearn.cluster import HDBSCAN

        started = time.perf_counter()
        X = np.asarray(X, dtype=np.float32)
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
        n = len(X)
        size = max(2, self.min_theme_size or 10)
        if n <= max(size, self.n_components + 1):
            raise ClusteringError(f"umap-hdbscan needs more than {max(size, self.n_components + 1)} passages; got {n}")
        reduced = UMAP(n_neighbors=min(self.n_neighbors, n - 1), n_components=self.n_components, min_dist=0.0,
                       metric="cosine", random_state=self.seed).fit_transform(X)
        if progress:
            progress(1, 2)
        found = HDBSCAN(min_cluster_size=size).fit(reduced)
        raw = found.labels_
        k = int(raw.max()) + 1
        if k == 0:  # HDBSCAN found no structure: one theme, nothing placed by density
            raw = np.zeros(n, np.int64)
            k = 1
        centroids = np.stack([X[raw == j].sum(axis=0) for j in range(k)])
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        nearest = np.where(raw >= 0, raw, np.argmax(X @ centroids.T, axis=1)).astype(np.int64)
        placed = place_near(X, nearest, raw >= 0)
        labels = np.where(placed, nearest, -1).astype(np.int64)
        probability = np.where(raw >= 0, found.probabilities_, np.where(placed, 0.5, 0.0)).astype(np.float64)
        if progress:
            progress(2, 2)
        self.clustering_ = Clustering(labels, nearest, probability, centroids.astype(np.float32), stats={
            "n_passages": n, "n_themes": k, "coverage": float(placed.mean()), "unplaced": int((~placed).sum()),
            "min_theme_size": size, "clusterer": "umap-hdbscan",
            "theme_sizes": [int(s) for s in np.bincount(labels[labels >= 0], minlength=k)],
            "seconds": {"total": time.perf_counter() - started}})
        self.labels_ = labels
        return self


CLUSTERERS = {"consensus-leiden": ConsensusLeiden, "consensus-ward": ConsensusWard, "umap-hdbscan": UmapHdbscan}


def make_clusterer(name: str = DEFAULT, *, seed: int = 42, min_theme_size: int | None = None):
    """The clusterer `synth discover --clusterer NAME` uses."""
    if name not in CLUSTERERS:
        raise ClusteringError(f"unknown clusterer {name!r}: choose one of {', '.join(CLUSTERERS)}")
    return CLUSTERERS[name](seed=seed, min_theme_size=min_theme_size)


def cluster_with(name: str, embeddings: np.ndarray, *, group_ids=None, seed: int = 42,
                 min_theme_size: int | None = None, progress: ProgressCallback | None = None) -> Clustering:
    return make_clusterer(name, seed=seed, min_theme_size=min_theme_size).fit(
        embeddings, groups=group_ids, progress=progress).clustering_
