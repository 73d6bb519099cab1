"""A lexical view of passages, to sit beside their sentence embeddings when themes are partitioned.

Why: a sentence embedding places "the bus doesn't run after six" near any other complaint about
timing, while the staff who code feedback (and the analysts who code interviews) group by topic
words: bus, parking, ESOL, waiting list. Latent semantic analysis (TF-IDF, then truncated SVD;
Deerwester et al. 1990) condenses those shared topical words into a few dense dimensions; joined to
the embedding with a weight, two passages are close when they mean alike *and* share the words
their field uses for the topic. Measured on the three dev sets in docs/benchmarks.md ("Theme
discovery on the dev sets", the lexical view).

`hybrid(vectors, lexical, weight)` returns unit rows whose dot product is
`weight * cos(embeddings) + (1 - weight) * cos(lexical views)`, so every step of synth's clustering
(smoothing, Ward, spherical k-means, resamples) works on it unchanged. `co_train` uses the words
the other way: not joined to the embedding, but as a second classifier alternated with it, from a
partition (`synth discover --clusterer consensus-ward-cotrain`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LEXICAL_DIMS = 100  # LSA dimensions: enough for a few hundred topics' vocabularies, cheap to cluster


def lexical_view(texts: Sequence[str], *, dims: int = LEXICAL_DIMS, seed: int = 42, weights=None) -> np.ndarray:
    """Each passage's LSA vector (sublinear TF-IDF over words used at least twice and by at most half
    of the passages, English stop words out, reduced by truncated SVD), as unit rows; a passage with
    no such word (or a corpus too small to reduce) gets a zero row, i.e. no lexical evidence.
    `weights`: the texts' `word_weights`, when the caller has them already."""
    from sklearn.decomposition import TruncatedSVD

    n = len(texts)
    tfidf = weights if weights is not None else word_weights(texts)
    if tfidf is None:
        return np.zeros((n, 0), np.float32)
    k = min(dims, tfidf.shape[1] - 1, n - 1)
    if k < 1:
        return np.zeros((n, 0), np.float32)
    reduced = TruncatedSVD(n_components=k, random_state=seed).fit_transform(tfidf).astype(np.float32)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    return np.divide(reduced, norms, out=np.zeros_like(reduced), where=norms > 0)


def word_weights(texts: Sequence[str]):
    """Sparse sublinear TF-IDF rows (unit length) over words used at least twice and by at most half
    of the passages, English stop words out; None when no word survives (tiny or empty corpus)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < 3:
        return None
    try:
        # min_df=2: a word one passage uses links it to nothing; max_df=0.5: a word half the corpus
        # uses ("service", "staff" in staff feedback) says nothing about which theme.
        return TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2, max_df=0.5,
                               dtype=np.float32).fit_transform(texts)
    except ValueError:
        return None


def theme_word_similarity(tfidf, nearest: np.ndarray, k: int) -> np.ndarray:
    """(passages, k): cosine between each passage's TF-IDF row and each theme's class-based TF-IDF
    (its members' words pooled, then weighted up when few themes use them, as BERTopic's c-TF-IDF)."""
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    n = tfidf.shape[0]
    membership = sp.csr_matrix((np.ones(n, np.float32), (nearest, np.arange(n))), shape=(k, n))
    pooled = normalize(membership @ tfidf, norm="l1", axis=1)
    themes_using = np.asarray((pooled > 0).sum(axis=0)).ravel()
    rarity = np.log1p(k / (1 + themes_using)).astype(np.float32)
    themes = normalize(sp.csr_matrix(pooled.multiply(rarity)))
    return np.asarray((tfidf @ themes.T).todense(), dtype=np.float32)


def hybrid(vectors: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """The embedding (unit rows, times sqrt(weight)) beside the lexical view (times sqrt(1 - weight)).

    A passage without lexical evidence keeps its embedding alone (renormalised by the clusterer), so
    it is placed by meaning rather than pulled towards the origin of the lexical space.
    """
    if not 0 < weight <= 1:
        raise ValueError(f"weight={weight}: must be in (0, 1]")
    X = np.asarray(vectors, dtype=np.float32)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    if lexical.shape[1] == 0 or weight == 1:
        return X
    return np.hstack([np.sqrt(weight) * X, np.sqrt(1 - weight) * lexical.astype(np.float32)])


def co_train(vectors: np.ndarray, tfidf, nearest: np.ndarray, rounds: int = 10) -> tuple[np.ndarray, int]:
    """Co-training of the embedding and the lexical view from a partition (`nearest`, theme per passage).

    Each round the lexical view classifies (each passage to the theme whose class-based TF-IDF is
    closest, `theme_word_similarity`), the embedding view learns from that labelling (the themes'
    unit mean vectors) and classifies again; it stops when the two views agree on the labelling or
    after `rounds`. A passage with no shared word keeps its theme in the lexical step: it has no
    lexical evidence. Returns the themes (numbered 0..k-1; a theme left empty is dropped) and the
    rounds run. Deterministic: no random state.
    """
    X = np.asarray(vectors, dtype=np.float32)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    has_words = np.asarray(tfidf.getnnz(axis=1)).ravel() > 0
    labels = np.unique(nearest, return_inverse=True)[1].reshape(-1)
    done = 0
    for done in range(1, rounds + 1):
        k = int(labels.max()) + 1
        by_words = np.where(has_words, theme_word_similarity(tfidf, labels, k).argmax(axis=1), labels)
        by_words = np.unique(by_words, return_inverse=True)[1].reshape(-1)
        sums = np.zeros((int(by_words.max()) + 1, X.shape[1]), np.float64)
        np.add.at(sums, by_words, X)
        centres = (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).astype(np.float32)
        again = np.unique(np.argmax(X @ centres.T, axis=1), return_inverse=True)[1].reshape(-1)
        if np.array_equal(again, labels):
            break
        labels = again
    return labels.astype(np.int64), done
