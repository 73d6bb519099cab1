"""Placement by examples, third round (issue 14, item 4): a balanced assignment, per-theme local scales,
pseudo-examples, more views of the examples and of the names. Run through `benchmarks.placement
--variants round3`; the variants are described in that module's docstring."""

from __future__ import annotations

import re

import numpy as np

from benchmarks.placement import Data, centres, shipped, softmax, spread, unit, word_sim
from synth import placement as pl


def parts(d: Data, ex, names):
    """The shipped method's pieces: (cosine to the centres, names at the gated weight; TF-IDF similarity)."""
    themes = [pl.TaughtTheme(k, tuple(int(i) for i in e), None if names is None else names[k]) for k, e in enumerate(ex)]
    weight = pl.text_weight(d.x, themes)
    return d.x @ pl.theme_centres(d.x, themes, weight).T, word_sim(d, ex), weight


def local_scale(d: Data, ex, names):
    cos, ws, _ = parts(d, ex, names)
    score = cos + pl.TFIDF_WEIGHT * ws
    s = np.array([np.mean([1 - d.x[i] @ unit(d.x[e].sum(0) - d.x[i]) for i in e]) for e in ex])
    return spread(d, softmax(-(score.max(1, keepdims=True) - score) / (s / s.mean())))


def sinkhorn(p, prior, strength, rounds=50):
    """Scale p's columns so that its mean row approaches `prior`; keep that scaling ** strength."""
    v = np.ones(p.shape[1])
    for _ in range(rounds):
        q = p * v
        q /= q.sum(1, keepdims=True)
        v = v * np.sqrt(prior / np.maximum(q.mean(0), 1e-12))
    q = p * v ** strength
    return q / q.sum(1, keepdims=True)


def example_cells(d: Data, ex) -> np.ndarray:
    """Theme sizes without gold: passages whose nearest example is the theme's (plus one)."""
    rows, labels = np.concatenate(ex), np.concatenate([[j] * len(e) for j, e in enumerate(ex)])
    counts = np.bincount(labels[(d.x @ d.x[rows].T).argmax(1)], minlength=len(ex)) + 1.0
    return counts / counts.sum()


def mutual_neighbours(d: Data, k: int = 10) -> np.ndarray:
    if not hasattr(d, "_knn"):
        from sklearn.neighbors import NearestNeighbors
        d._knn = NearestNeighbors(n_neighbors=k + 1).fit(d.x).kneighbors(d.x)[1][:, 1:]
    return d._knn


def pseudo_examples(d: Data, ex, names, beta=0.5):
    _, _, weight = parts(d, ex, names)
    nb, taken = mutual_neighbours(d), set(np.concatenate(ex).tolist())
    owners: dict[int, set] = {}
    for t, e in enumerate(ex):
        for i in e:
            for j in nb[i]:
                if j not in taken and i in nb[j]:
                    owners.setdefault(int(j), set()).add(t)
    extra = [[j for j, ts in owners.items() if ts == {t}] for t in range(len(ex))]
    c = np.stack([(d.x[e].sum(0) + beta * d.x[a].sum(0)) / (len(e) + beta * len(a)) for e, a in zip(ex, extra)])
    if weight:
        c = c + weight * unit(names)
    words = np.vstack([np.asarray(d.tfidf[e].sum(0)).ravel() + beta * np.asarray(d.tfidf[a].sum(0)).ravel()
                       for e, a in zip(ex, extra)])
    return spread(d, softmax(d.x @ unit(c).T + pl.TFIDF_WEIGHT * np.asarray(d.tfidf @ unit(words).T)))


def nearest_example(d: Data, ex, names, g=0.25, top=2):
    cos, ws, _ = parts(d, ex, names)
    near = np.stack([np.sort(d.x @ d.x[e].T, 1)[:, -top:].mean(1) for e in ex], 1)
    return spread(d, softmax(cos + g * near + pl.TFIDF_WEIGHT * ws))


def whitened_view(d: Data, ex, names, shrink=0.3, g=0.5):
    if not hasattr(d, "_white"):
        x = d.x - d.x.mean(0)
        values, vecs = np.linalg.eigh(x.T @ x / len(x))
        d._white = unit(x @ vecs @ np.diag(1 / np.sqrt(shrink * values / values.mean() + 1 - shrink)) @ vecs.T)
    cos, ws, _ = parts(d, ex, names)
    return spread(d, softmax(cos + g * d._white @ centres(d._white, ex).T + pl.TFIDF_WEIGHT * ws))


def logistic_ensemble(d: Data, ex, names, g=0.5):
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    cos, ws, _ = parts(d, ex, names)
    rows, labels = np.concatenate(ex), np.concatenate([[j] * len(e) for j, e in enumerate(ex)])
    x = sp.hstack([sp.csr_matrix(d.x), d.tfidf]).tocsr()
    proba = LogisticRegression(C=10.0, max_iter=2000).fit(x[rows], labels).predict_proba(x)
    return spread(d, (1 - g) * softmax(cos + pl.TFIDF_WEIGHT * ws) + g * proba)


def name_words(d: Data, ex, names, labels, g=0.5):
    from sklearn.feature_extraction.text import TfidfVectorizer

    cos, _, weight = parts(d, ex, names)
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english").fit(d.texts)
    texts = [re.sub(r"([a-z])([A-Z])", r"\1 \2", n).replace("_", " ") for n in labels]
    means = unit(np.vstack([np.asarray(d.tfidf[e].mean(0)) for e in ex]))
    words = unit(means + g * weight * unit(vec.transform(texts).toarray()))
    return spread(d, softmax(cos + pl.TFIDF_WEIGHT * np.asarray(d.tfidf @ words.T)))


def name_anchors(d: Data, ex, names, k=10):
    """Label spreading with each theme's name as one more, labelled, node joined to its k nearest passages."""
    import scipy.sparse as sp

    cos, ws, weight = parts(d, ex, names)
    start = softmax(cos + pl.TFIDF_WEIGHT * ws)
    if not weight:
        return spread(d, start)
    n, t = start.shape
    sim = d.x @ unit(names).T
    near = np.argsort(-sim, 0)[:k]
    r = np.concatenate([near.T.ravel(), np.repeat(n + np.arange(t), k)])
    c = np.concatenate([np.repeat(n + np.arange(t), k), near.T.ravel()])
    v = np.tile(sim[near, np.arange(t)].T.ravel(), 2)
    if not hasattr(d, "_raw"):
        from sklearn.neighbors import NearestNeighbors
        dist, idx = NearestNeighbors(n_neighbors=pl.SPREAD_NEIGHBOURS + 1).fit(d.x).kneighbors(d.x)
        w = sp.csr_matrix((np.clip(1 - dist[:, 1:] ** 2 / 2, 0, None).ravel(),
                           (np.repeat(np.arange(n), pl.SPREAD_NEIGHBOURS), idx[:, 1:].ravel())), shape=(n, n))
        d._raw = w.maximum(w.T)
    w = sp.block_diag([d._raw, sp.csr_matrix((t, t))]).tocsr() + sp.csr_matrix((v, (r, c)), shape=(n + t, n + t))
    deg = 1 / np.sqrt(np.maximum(np.asarray(w.sum(1)).ravel(), 1e-12))
    graph, y = sp.diags(deg) @ w @ sp.diags(deg), np.vstack([start, np.eye(t)])
    f = y
    for _ in range(pl.SPREAD_ROUNDS):
        f = pl.SPREAD_ALPHA * (graph @ f) + (1 - pl.SPREAD_ALPHA) * y
    return f[:n] / np.maximum(f[:n].sum(1, keepdims=True), 1e-12)


def round3(names: np.ndarray, labels: np.ndarray) -> dict:
    out = {"nearest centroid": lambda d, ex: d.x @ centres(d.x, ex).T}
    for suffix, given in (("", None), (" + names", names)):
        out.update({
            "synth" + suffix: lambda d, ex, g=given: shipped(d, ex, g),
            "local scale" + suffix: lambda d, ex, g=given: local_scale(d, ex, g),
            "balanced, uniform 0.25" + suffix:
                lambda d, ex, g=given: sinkhorn(shipped(d, ex, g), np.full(len(ex), 1 / len(ex)), 0.25),
            "balanced, example cells 0.5" + suffix:
                lambda d, ex, g=given: sinkhorn(shipped(d, ex, g), example_cells(d, ex), 0.5),
            "pseudo-examples" + suffix: lambda d, ex, g=given: pseudo_examples(d, ex, g),
            "nearest example" + suffix: lambda d, ex, g=given: nearest_example(d, ex, g),
            "whitened view" + suffix: lambda d, ex, g=given: whitened_view(d, ex, g),
            "logistic ensemble" + suffix: lambda d, ex, g=given: logistic_ensemble(d, ex, g),
        })
    out["name words + names"] = lambda d, ex: name_words(d, ex, names, labels)
    out["name anchors + names"] = lambda d, ex: name_anchors(d, ex, names)
    return out
