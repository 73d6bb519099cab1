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
- `consensus-ward-lexical`: consensus Ward on the embedding joined to a lexical view of each
  passage (`synth.lexical`: LSA of its TF-IDF words, weight `lexical_weight` on the embedding), so
  passages that share a topic's words count as closer; the themes' centroids are then taken back in
  the embedding space, where discover's later steps work. Needs the passages' texts (`fit(X,
  texts=...)`). Measured beside the default in docs/benchmarks.md ("Theme discovery on the dev sets").
- `consensus-ward-cotrain`: consensus Ward, then co-training of the embedding and the lexical
  view (`synth.lexical.co_train`: the passages' TF-IDF words classify, the embedding learns from
  that labelling and classifies again, until the two agree); placed and unplaced passages stay as
  Ward left them. Ahead of Ward on NaPiRE and the bills (both scores, over three draws of the
  resamples), behind it on the NHS comments' NMI, so an option (docs/benchmarks.md, "Multi-view
  consensus, co-training and neighbour propagation"). Needs the passages' texts; seed-free.
- `consensus-ward-umap`: consensus Ward, with its refits, votes and placement, on BERTopic's
  clustering space: a seeded UMAP reduction of the embedding (5 dimensions, 15 neighbours, cosine,
  min_dist 0; `synth.umap_space`, its points lifted onto the unit sphere so Ward's cosine steps run
  unchanged); the number of themes is sqrt(n/2) or (`k_from="hdbscan"`) HDBSCAN's cluster count on
  the reduced points. Centroids are taken back in the embedding space for discover's later steps.
  Measured in docs/benchmarks.md ("Clustering in a UMAP-reduced space"); it depends on the seed.
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
from .vectors import unit

DEFAULT = "consensus-ward"
COTRAIN_ROUNDS = 10  # at most this many co-training rounds (they agree within 4-10 on the dev sets)
LEXICAL_WEIGHT = 0.8  # share of the embedding in consensus-ward-lexical's similarity (docs/benchmarks.md)


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


class ConsensusWardLexical(ConsensusWard):
    """Consensus Ward on the embedding joined to the passages' lexical view (synth.lexical)."""

    def __init__(self, seed: int = 42, min_theme_size: int | None = None, n_themes: int | None = None,
                 min_sources: int = 3, split_loose: bool = True, place_near: bool = True,
                 lexical_weight: float = LEXICAL_WEIGHT, word_pass: float | None = None) -> None:
        super().__init__(seed=seed, min_theme_size=min_theme_size, n_themes=n_themes, min_sources=min_sources,
                         split_loose=split_loose, place_near=place_near)
        self.lexical_weight = lexical_weight
        self.word_pass = word_pass

    def fit(self, X, y=None, groups=None, progress: ProgressCallback | None = None,
            texts=None) -> ConsensusWardLexical:
        from .lexical import hybrid, lexical_view, theme_word_similarity, word_weights

        X = np.asarray(X, dtype=np.float32)
        _one_text_per_passage("consensus-ward-lexical", texts, len(X))
        started = time.perf_counter()
        words = word_weights(texts)
        lexical = lexical_view(texts, seed=self.seed, weights=words) if self.lexical_weight < 1 else np.zeros((len(X), 0))
        joined = hybrid(X, lexical, self.lexical_weight)
        lexical_seconds = time.perf_counter() - started
        super().fit(joined, groups=groups, progress=progress)
        found = self.clustering_
        nearest, labels = found.nearest, found.labels
        # Centroids back in the embedding space: discover matches themes across runs, carves
        # recurring ideas and labels in the model's space, not in this run's LSA space.
        centroids = _embedding_centroids(X, nearest, labels)
        moved = 0
        if self.word_pass is not None and words is not None and len(centroids):
            # Second pass: each passage to the theme it is closest to by meaning and by the theme's
            # distinctive words together (placed passages stay placed, unplaced ones unplaced);
            # `word_pass` is the embedding's share of that score.
            score = self.word_pass * (unit(X) @ centroids.T) + (1 - self.word_pass) * \
                theme_word_similarity(words, nearest, len(centroids))
            again = np.argmax(score, axis=1)
            moved = int((again[labels >= 0] != labels[labels >= 0]).sum())
            used, again = np.unique(again, return_inverse=True)  # a theme left empty is dropped
            nearest = again.astype(np.int64)
            labels = np.where(labels >= 0, nearest, -1).astype(np.int64)
            centroids = _embedding_centroids(X, nearest, labels)
        self.clustering_ = Clustering(labels, nearest, found.probability, centroids,
                                      stats={**found.stats, "clusterer": "consensus-ward-lexical",
                                             "lexical_weight": self.lexical_weight, "word_pass_moved": moved,
                                             "n_themes": len(centroids), "coverage": float((labels >= 0).mean()),
                                             "theme_sizes": [int(c) for c in np.bincount(labels[labels >= 0],
                                                                                         minlength=len(centroids))],
                                             "seconds": {**found.stats.get("seconds", {}),
                                                         "lexical": lexical_seconds}})
        self.labels_ = labels
        return self


class ConsensusWardCotrain(ConsensusWard):
    """Consensus Ward, then co-training of the embedding and lexical views (synth.lexical.co_train)."""

    def __init__(self, seed: int = 42, min_theme_size: int | None = None, n_themes: int | None = None,
                 min_sources: int = 3, split_loose: bool = True, place_near: bool = True,
                 rounds: int = COTRAIN_ROUNDS) -> None:
        super().__init__(seed=seed, min_theme_size=min_theme_size, n_themes=n_themes, min_sources=min_sources,
                         split_loose=split_loose, place_near=place_near)
        self.rounds = rounds

    def fit(self, X, y=None, groups=None, progress: ProgressCallback | None = None,
            texts=None) -> ConsensusWardCotrain:
        from .lexical import co_train, word_weights

        X = np.asarray(X, dtype=np.float32)
        _one_text_per_passage("consensus-ward-cotrain", texts, len(X))
        super().fit(X, groups=groups, progress=progress)
        found = self.clustering_
        started = time.perf_counter()
        words = word_weights(texts)
        nearest, rounds = found.nearest, 0
        if words is not None and found.n_themes > 1:
            nearest, rounds = co_train(X, words, found.nearest, self.rounds)
        labels = np.where(found.labels >= 0, nearest, -1).astype(np.int64)  # Ward's placement stands
        centroids = _embedding_centroids(X, nearest, labels)
        self.clustering_ = Clustering(labels, nearest, found.probability, centroids, stats={
            **found.stats, "clusterer": "consensus-ward-cotrain", "cotrain_rounds": rounds,
            "n_themes": len(centroids), "coverage": float((labels >= 0).mean()),
            "theme_sizes": [int(c) for c in np.bincount(labels[labels >= 0], minlength=len(centroids))],
            "seconds": {**found.stats.get("seconds", {}), "cotrain": time.perf_counter() - started}})
        self.labels_ = labels
        return self


def _one_text_per_passage(clusterer: str, texts, n: int) -> None:
    """The lexical clusterers read each passage's words: refuse a call without one text per passage."""
    if texts is None or len(texts) != n:
        raise ClusteringError(f"{clusterer} needs one text per passage; got "
                              f"{'none' if texts is None else len(texts)} for {n} passages")


def _embedding_centroids(X: np.ndarray, nearest: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unit mean embedding of each theme's placed members (of all its members when none is placed)."""
    k = int(nearest.max()) + 1 if len(nearest) else 0
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    sums = np.zeros((k, X.shape[1]), np.float64)
    np.add.at(sums, nearest, X)
    placed = labels >= 0
    placed_sums = np.zeros_like(sums)
    np.add.at(placed_sums, labels[placed], X[placed])
    has = placed_sums.any(axis=1)
    sums[has] = placed_sums[has]
    return (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class ConsensusWardUmap(ConsensusWard):
    """Consensus Ward on a UMAP-reduced space (synth.umap_space), themes' centroids taken back in the
    embedding space, where discover's later steps (recurring ideas, labels, stance) work."""

    def __init__(self, seed: int = 42, min_theme_size: int | None = None, n_themes: int | None = None,
                 min_sources: int = 3, split_loose: bool = True, place_near: bool = True,
                 n_components: int = 5, n_neighbors: int = 15, k_from: str = "sqrt",
                 hdbscan_size: int = 10) -> None:
        super().__init__(seed=seed, min_theme_size=min_theme_size, n_themes=n_themes, min_sources=min_sources,
                         split_loose=split_loose, place_near=place_near)
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.k_from = k_from  # "sqrt": synth's sqrt(n/2); "hdbscan": HDBSCAN's cluster count on the reduced points
        self.hdbscan_size = hdbscan_size

    def fit(self, X, y=None, groups=None, progress: ProgressCallback | None = None) -> ConsensusWardUmap:
        from .umap_space import hdbscan_count, lift, reduce

        X = np.asarray(X, dtype=np.float32)
        if self.k_from not in ("sqrt", "hdbscan"):
            raise ClusteringError(f"k_from={self.k_from!r}: choose 'sqrt' or 'hdbscan'")
        if len(X) <= self.n_components + 2:
            raise ClusteringError(f"consensus-ward-umap needs more than {self.n_components + 2} passages; got {len(X)}")
        started = time.perf_counter()
        coords = reduce(unit(X), n_components=self.n_components, n_neighbors=self.n_neighbors, seed=self.seed)
        reduce_seconds = time.perf_counter() - started
        n_themes = self.n_themes
        if n_themes is None and self.k_from == "hdbscan":
            n_themes = hdbscan_count(coords, self.hdbscan_size)
        self.space_ = lift(coords)
        params = ClusterParams(seed=self.seed, min_theme_size=self.min_theme_size, n_themes=n_themes,
                               min_sources=self.min_sources, split_loose=self.split_loose,
                               place_near=self.place_near, partition=self.partition)
        found = cluster_passages(self.space_, group_ids=groups, params=params, progress=progress)
        self.space_clustering_ = found
        centroids = _embedding_centroids(X, found.nearest, found.labels)
        self.clustering_ = Clustering(found.labels, found.nearest, found.probability, centroids, stats={
            **found.stats, "clusterer": "consensus-ward-umap", "umap_components": self.n_components,
            "umap_neighbors": self.n_neighbors, "k_from": self.k_from,
            "seconds": {**found.stats.get("seconds", {}), "umap": reduce_seconds}})
        self.labels_ = found.labels
        return self


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
            import umap  # noqa: F401  (umap_space.reduce imports it; a missing package gets this message)
        except ImportError as e:
            raise ClusteringError("the umap-hdbscan clusterer needs umap-learn: pip install umap-learn") from e
        from sklearn.cluster import HDBSCAN

        from .umap_space import reduce

        started = time.perf_counter()
        X = np.asarray(X, dtype=np.float32)
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
        n = len(X)
        size = max(2, self.min_theme_size or 10)
        if n <= max(size, self.n_components + 1):
            raise ClusteringError(f"umap-hdbscan needs more than {max(size, self.n_components + 1)} passages; got {n}")
        reduced = reduce(X, n_components=self.n_components, n_neighbors=self.n_neighbors, seed=self.seed, max_fit=n)
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


CLUSTERERS = {"consensus-leiden": ConsensusLeiden, "consensus-ward": ConsensusWard,
              "consensus-ward-umap": ConsensusWardUmap,
              "consensus-ward-cotrain": ConsensusWardCotrain, "consensus-ward-lexical": ConsensusWardLexical,
              "umap-hdbscan": UmapHdbscan}
# fit(X, texts=...): the clusterers that read the passages' words
NEEDS_TEXTS = {"consensus-ward-cotrain", "consensus-ward-lexical"}


def make_clusterer(name: str = DEFAULT, *, seed: int = 42, min_theme_size: int | None = None):
    """The clusterer `synth discover --clusterer NAME` uses."""
    if name not in CLUSTERERS:
        raise ClusteringError(f"unknown clusterer {name!r}: choose one of {', '.join(CLUSTERERS)}")
    return CLUSTERERS[name](seed=seed, min_theme_size=min_theme_size)


def cluster_with(name: str, embeddings: np.ndarray, *, group_ids=None, seed: int = 42,
                 min_theme_size: int | None = None, progress: ProgressCallback | None = None,
                 texts=None) -> Clustering:
    """Fit the named clusterer; `texts` (one per passage) go to those that read words (NEEDS_TEXTS)."""
    extra = {"texts": texts} if name in NEEDS_TEXTS else {}
    return make_clusterer(name, seed=seed, min_theme_size=min_theme_size).fit(
        embeddings, groups=group_ids, progress=progress, **extra).clustering_
