"""Placement by examples, fourth round (issue 14, item 4): a within-class metric from the examples
(shrinkage LDA), class-mass normalisation after spreading, a Tip-Adapter-style example kernel,
micro-cluster smoothing, clamped examples and a lexical neighbour graph. Run through
`benchmarks.placement --variants round4`; the variants are described in that module's docstring.
Every choice a variant makes (a kernel's weight and width) is made on the examples alone, never on gold.
"""

from __future__ import annotations

import numpy as np

from benchmarks.placement import Data, shipped, softmax, spread, unit, word_sim
from benchmarks.placement_round3 import example_cells, parts
from synth import placement as pl


def _labels(ex) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate(ex), np.concatenate([[j] * len(e) for j, e in enumerate(ex)])


def _start(d: Data, ex, names):
    """The shipped start (before spreading): cosine to the centres (names at the gated weight) + TF-IDF."""
    cos, ws, _ = parts(d, ex, names)
    return softmax(cos + pl.TFIDF_WEIGHT * ws)


def _spread_raw(d: Data, start, alpha=pl.SPREAD_ALPHA):
    f = start
    for _ in range(pl.SPREAD_ROUNDS):
        f = alpha * (d.graph @ f) + (1 - alpha) * start
    return f


# --- 1. a within-class metric: the examples' pooled within-class covariance, shrunk (Ledoit-Wolf) ---------

def within_whitening(d: Data, ex) -> tuple[np.ndarray, np.ndarray]:
    """(mean, W): z = (x - mean) @ W whitens the examples' pooled within-class covariance (Ledoit-Wolf
    shrinkage, as LinearDiscriminantAnalysis(shrinkage='auto') estimates it)."""
    from sklearn.covariance import ledoit_wolf

    rows, labels = _labels(ex)
    x = d.x[rows]
    means = np.stack([x[labels == j].mean(0) for j in range(len(ex))])
    cov, _ = ledoit_wolf(x - means[labels], assume_centered=True)
    values, vectors = np.linalg.eigh(cov)
    return x.mean(0), vectors @ np.diag(1 / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T


def lda_cosine(d: Data, ex, names, mix=None):
    """Cosine to the centres computed in the within-class-whitened space. mix=None: in place of the
    plain cosine, rescaled to its spread (so the shipped temperature still fits); mix=g: beside it."""
    cos, ws, weight = parts(d, ex, names)
    mean, w = within_whitening(d, ex)
    c = np.stack([d.x[e].mean(0) for e in ex])
    if weight:
        c = c + weight * unit(names)
    z = unit((d.x - mean) @ w)
    cz = z @ unit((c - mean) @ w).T
    if mix is None:
        # the whitened cosines spread wider than the plain ones; match each row's spread so that the
        # shipped temperature and the TF-IDF weight mean what they mean in the shipped start
        cz = (cz - cz.mean(1, keepdims=True)) / np.maximum(cz.std(1, keepdims=True), 1e-12) * cos.std(1, keepdims=True)
        score = cz
    else:
        score = cos + mix * cz
    return spread(d, softmax(score + pl.TFIDF_WEIGHT * ws))


def lda_scorer(d: Data, ex, names, ensemble=0.0):
    """scikit-learn's shrinkage LDA (lsqr, Ledoit-Wolf) as the scorer, spread; with names the embedded
    name is one more example of its theme at the gated weight's worth (weight x m copies, rounded, >= 0).
    ensemble=g: its probabilities averaged with the shipped start (weight g) before spreading."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    rows, labels = _labels(ex)
    x, y = d.x[rows], labels
    _, _, weight = parts(d, ex, names)
    copies = int(round(weight * len(ex[0])))
    if copies:
        x = np.vstack([x] + [unit(names)] * copies)
        y = np.concatenate([y] + [np.arange(len(ex))] * copies)
    proba = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(x, y).predict_proba(d.x)
    if ensemble:
        proba = (1 - ensemble) * _start(d, ex, names) + ensemble * proba
    return spread(d, proba)


# --- 2. class-mass normalisation after spreading (Zhu, Ghahramani & Lafferty 2003) -----------------------

def class_mass(d: Data, ex, names, prior="uniform", power=1.0):
    """Spread as shipped, then rescale each theme's column so its mass matches the prior (uniform: the
    examples' counts, all equal here; cells: passages whose nearest example is the theme's), ** power."""
    f = _spread_raw(d, _start(d, ex, names))
    q = np.full(len(ex), 1 / len(ex)) if prior == "uniform" else example_cells(d, ex)
    f = f * (q / np.maximum(f.sum(0) / f.sum(), 1e-12)) ** power
    return f / np.maximum(f.sum(1, keepdims=True), 1e-12)


# --- 3. a Tip-Adapter-style kernel on the examples (Zhang et al. 2022), weight and width by leave-one-out ---

ALPHAS = (0.0, 0.05, 0.1, 0.2, 0.4)
BETAS = (2.0, 5.0, 10.0)


def _kernel(sim, labels, k, beta):
    """(n, k) mean over each theme's examples of exp(-beta (1 - cos))."""
    a = np.exp(-beta * (1 - sim))
    onehot = np.eye(k)[labels]
    return (a @ onehot) / np.maximum(onehot.sum(0), 1)


def tip_choice(d: Data, ex, names) -> tuple[float, float]:
    """(alpha, beta) with the most leave-one-out hits on the examples (each left out of its centre and
    of its theme's kernel; ties to the smaller alpha, then the smaller beta)."""
    rows, labels = _labels(ex)
    themes = [pl.TaughtTheme(k, tuple(int(i) for i in e), None if names is None else names[k]) for k, e in enumerate(ex)]
    weight = pl.text_weight(d.x, themes)
    x, k = d.x[rows], len(ex)
    sums = np.stack([x[labels == j].sum(0) for j in range(k)])
    sizes = np.bincount(labels, minlength=k).astype(float)
    name = weight * unit(names) if weight else 0.0
    cos = x @ unit(sums / sizes[:, None] + name).T
    own = unit((sums[labels] - x) / (sizes[labels] - 1)[:, None] + (name[labels] if weight else 0.0))
    cos[np.arange(len(x)), labels] = (own * x).sum(1)
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)  # exp(-inf) = 0: an example is not its own neighbour
    best, best_hits = (0.0, BETAS[0]), -1
    for alpha in ALPHAS:
        for beta in BETAS if alpha else BETAS[:1]:
            a = np.exp(-beta * (1 - sim))
            onehot = np.eye(k)[labels]
            kern = (a @ onehot) / np.maximum(onehot.sum(0) - onehot, 1)  # the left-out example's theme has m - 1
            hits = int(((cos + alpha * kern).argmax(1) == labels).sum())
            if hits > best_hits:
                best, best_hits = (alpha, beta), hits
    return best


def tip_adapter(d: Data, ex, names, fixed=None):
    cos, ws, _ = parts(d, ex, names)
    alpha, beta = tip_choice(d, ex, names) if fixed is None else fixed
    rows, labels = _labels(ex)
    kern = _kernel(d.x @ d.x[rows].T, labels, len(ex), beta) if alpha else 0.0
    return spread(d, softmax(cos + alpha * kern + pl.TFIDF_WEIGHT * ws))


# --- 4. micro-cluster smoothing ----------------------------------------------------------------------------

def micro_clusters(d: Data, per_theme: int = 4) -> np.ndarray:
    """Spherical k-means (k-means on unit vectors, re-normalised centres) into per_theme x themes clusters;
    one partition per data set (it does not depend on the examples)."""
    key = f"_micro{per_theme}"
    if not hasattr(d, key):
        from sklearn.cluster import KMeans

        k = min(per_theme * len(d.labels), len(d.x) // 2)
        setattr(d, key, KMeans(n_clusters=k, n_init=1, random_state=0).fit(d.x).labels_)
    return getattr(d, key)


def micro_smoothed(d: Data, ex, names, gamma=0.5, per_theme=4):
    import scipy.sparse as sp

    start = _start(d, ex, names)
    cluster = micro_clusters(d, per_theme)
    member = sp.csr_matrix((np.ones(len(cluster)), (np.arange(len(cluster)), cluster)))
    mean = (member.T @ start) / np.asarray(member.sum(0)).ravel()[:, None]
    return spread(d, (1 - gamma) * start + gamma * mean[cluster])


# --- 5. other graph evidence ---------------------------------------------------------------------------------

def clamped(d: Data, ex, names):
    """Classic label spreading's start: the examples' rows are their own theme (one-hot), not their scores."""
    start = _start(d, ex, names)
    rows, labels = _labels(ex)
    start[rows] = 0.0
    start[rows, labels] = 1.0
    return spread(d, start)


def lexical_graph(d: Data):
    """The 10-NN graph of the passages' TF-IDF vectors (cosine), symmetric, degree-normalised."""
    if not hasattr(d, "_lexgraph"):
        import scipy.sparse as sp
        from sklearn.neighbors import NearestNeighbors

        n, k = d.tfidf.shape[0], pl.SPREAD_NEIGHBOURS
        dist, idx = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(d.tfidf).kneighbors(d.tfidf)
        w = sp.csr_matrix((np.clip(1 - dist[:, 1:], 0, None).ravel(), (np.repeat(np.arange(n), k), idx[:, 1:].ravel())),
                          shape=(n, n))
        w = w.maximum(w.T)
        deg = 1 / np.sqrt(np.maximum(np.asarray(w.sum(1)).ravel(), 1e-12))
        d._lexgraph = sp.diags(deg) @ w @ sp.diags(deg)
    return d._lexgraph


def two_graphs(d: Data, ex, names, share=0.3, clamp=False):
    """Spread over the embedding graph and the lexical graph together ((1 - share) and share of each step);
    clamp: the examples' start rows one-hot (as `clamped`)."""
    start = _start(d, ex, names)
    if clamp:
        rows, labels = _labels(ex)
        start[rows] = 0.0
        start[rows, labels] = 1.0
    lex = lexical_graph(d)
    f = start
    for _ in range(pl.SPREAD_ROUNDS):
        f = pl.SPREAD_ALPHA * ((1 - share) * (d.graph @ f) + share * (lex @ f)) + (1 - pl.SPREAD_ALPHA) * start
    return f / np.maximum(f.sum(1, keepdims=True), 1e-12)


def joint_graph(d: Data, g: float = pl.TFIDF_WEIGHT):
    """The 10-NN graph under the shipped start's own similarity: embedding cosine + g x TF-IDF cosine."""
    key = f"_joint{g}"
    if not hasattr(d, key):
        import scipy.sparse as sp

        n, k = len(d.x), pl.SPREAD_NEIGHBOURS
        idx, val = np.zeros((n, k), int), np.zeros((n, k))
        for lo in range(0, n, 1024):
            s = d.x[lo:lo + 1024] @ d.x.T + g * (d.tfidf[lo:lo + 1024] @ d.tfidf.T).toarray()
            s[np.arange(len(s)), np.arange(lo, lo + len(s))] = -np.inf
            top = np.argpartition(-s, k, axis=1)[:, :k]
            idx[lo:lo + 1024], val[lo:lo + 1024] = top, np.take_along_axis(s, top, 1) / (1 + g)
        w = sp.csr_matrix((np.clip(val, 0, None).ravel(), (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))
        w = w.maximum(w.T)
        deg = 1 / np.sqrt(np.maximum(np.asarray(w.sum(1)).ravel(), 1e-12))
        setattr(d, key, sp.diags(deg) @ w @ sp.diags(deg))
    return getattr(d, key)


def on_graph(d: Data, ex, names, graph):
    start = _start(d, ex, names)
    f = start
    for _ in range(pl.SPREAD_ROUNDS):
        f = pl.SPREAD_ALPHA * (graph @ f) + (1 - pl.SPREAD_ALPHA) * start
    return f / np.maximum(f.sum(1, keepdims=True), 1e-12)


def round4(names: np.ndarray, labels: np.ndarray) -> dict:
    out = {"nearest centroid": lambda d, ex: d.x @ unit(np.stack([d.x[e].mean(0) for e in ex])).T}
    for suffix, given in (("", None), (" + names", names)):
        out.update({
            "synth" + suffix: lambda d, ex, g=given: shipped(d, ex, g),
            "LDA-whitened cosine" + suffix: lambda d, ex, g=given: lda_cosine(d, ex, g),
            "LDA-whitened beside 0.5" + suffix: lambda d, ex, g=given: lda_cosine(d, ex, g, 0.5),
            "LDA scorer" + suffix: lambda d, ex, g=given: lda_scorer(d, ex, g),
            "LDA ensemble 0.5" + suffix: lambda d, ex, g=given: lda_scorer(d, ex, g, 0.5),
            "class mass, uniform" + suffix: lambda d, ex, g=given: class_mass(d, ex, g),
            "class mass, uniform ^0.5" + suffix: lambda d, ex, g=given: class_mass(d, ex, g, power=0.5),
            "class mass, example cells" + suffix: lambda d, ex, g=given: class_mass(d, ex, g, "cells"),
            "Tip kernel (LOO)" + suffix: lambda d, ex, g=given: tip_adapter(d, ex, g),
            "micro-clusters 4k, 0.5" + suffix: lambda d, ex, g=given: micro_smoothed(d, ex, g),
            "clamped examples" + suffix: lambda d, ex, g=given: clamped(d, ex, g),
            "lexical graph 0.3" + suffix: lambda d, ex, g=given: two_graphs(d, ex, g),
            "lexical graph 0.15" + suffix: lambda d, ex, g=given: two_graphs(d, ex, g, 0.15),
            "lexical graph 0.5" + suffix: lambda d, ex, g=given: two_graphs(d, ex, g, 0.5),
            "joint graph 0.5" + suffix: lambda d, ex, g=given: on_graph(d, ex, g, joint_graph(d, 0.5)),
            "joint graph 1.0" + suffix: lambda d, ex, g=given: on_graph(d, ex, g, joint_graph(d, 1.0)),
            "LDA-whitened beside 0.25" + suffix: lambda d, ex, g=given: lda_cosine(d, ex, g, 0.25),
        })
    return out
