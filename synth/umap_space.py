"""A UMAP-reduced clustering space for the Ward family (BERTopic's key step, measured as an option).

BERTopic clusters in a 5-dimensional UMAP embedding of the sentence vectors (15 neighbours, cosine,
min_dist 0, seeded). `reduce` computes that embedding; `lift` puts its points on the unit sphere so
synth's consensus Ward, which works on unit rows and cosine similarity throughout (smoothing,
fastcluster's Ward on chord distances, spherical k-means, near placement), can run on it unchanged:
the points are centred, scaled to unit RMS radius and given one more coordinate, `LIFT_HEIGHT`, then
normalised. Near the pole the sphere is almost flat, so chord distances are the UMAP space's
Euclidean distances divided by about the height (a point at 1 RMS radius is pulled in by 3 %, at 2
RMS by 11 %), which keeps what UMAP made while every downstream test keeps its unit-vector meaning.

`hdbscan_count` is the number of HDBSCAN clusters on the reduced points: a data-driven number of
themes (BERTopic's own count) that consensus Ward can be asked to cut at instead of sqrt(n/2).

Determinism: UMAP with a `random_state` is single-threaded and repeatable on one machine; above
`max_fit` passages it is fitted on the first `max_fit` rows of a content-hashed order (the same
sample idea as `synth.fit_sample`) and the rest are transformed, so the cost is bounded.
"""

from __future__ import annotations

import warnings

import numpy as np

from .fit_sample import fit_set

LIFT_HEIGHT = 4.0  # the added coordinate, in RMS radii of the centred points (see the module docstring)


def reduce(X: np.ndarray, *, n_components: int = 5, n_neighbors: int = 15, seed: int = 42,
           max_fit: int = 10_000) -> np.ndarray:
    """UMAP coordinates (n, n_components) of the unit rows `X`, as BERTopic computes them."""
    from umap import UMAP

    X = np.asarray(X, dtype=np.float32)
    n = len(X)
    model = UMAP(n_neighbors=max(2, min(n_neighbors, n - 1)), n_components=n_components, min_dist=0.0,
                 metric="cosine", random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by setting random_state": the point of seeding
        if n <= max_fit:
            return np.asarray(model.fit_transform(X), dtype=np.float64)
        fit = fit_set(X, max_fit)
        out = np.empty((n, n_components), np.float64)
        out[fit] = model.fit_transform(X[fit])
        rest = np.setdiff1d(np.arange(n), fit)
        out[rest] = model.transform(X[rest])
        return out


def lift(coords: np.ndarray, height: float = LIFT_HEIGHT) -> np.ndarray:
    """Unit float32 rows on the sphere whose chord distances follow `coords`' Euclidean ones."""
    Y = np.asarray(coords, dtype=np.float64)
    Y = Y - Y.mean(axis=0)
    rms = float(np.sqrt((Y ** 2).sum(axis=1).mean())) or 1.0
    Y = np.hstack([Y / rms, np.full((len(Y), 1), height)])
    return (Y / np.linalg.norm(Y, axis=1, keepdims=True)).astype(np.float32)


def hdbscan_count(coords: np.ndarray, min_cluster_size: int = 10) -> int:
    """How many clusters HDBSCAN finds on the reduced points (at least 1)."""
    from sklearn.cluster import HDBSCAN

    found = HDBSCAN(min_cluster_size=max(2, min_cluster_size), copy=True).fit(coords)
    return max(1, int(found.labels_.max()) + 1)
