"""Multi-view variants of synth's themes, measured beside the default by `benchmarks.devsets` (issue 13, item 3).

None of them is in `synth/`: none beat consensus Ward on all three dev sets on both scores
(docs/benchmarks.md, "Multi-view consensus, co-training and neighbour propagation"), so they live
here, where `benchmarks.devsets --methods "..."` runs them beside the anchors in one command.

- **Multi-view evidence accumulation** (Fred & Jain 2005): the partitions of three views (consensus
  Ward on the embedding, consensus Ward on the embedding joined to the LSA view, consensus Leiden on
  the k-NN graph) accumulated into one co-association; the consensus partition is Ward's clustering
  of the concatenated one-hot memberships (squared distance between two passages = the share of
  views that separate them, times 2), cut at `k_factor` times consensus Ward's theme count.
- **Co-training of the embedding and lexical views**: the lexical view classifies (each passage to
  the theme whose class-based TF-IDF is closest), the embedding view learns from that labelling
  (centroids) and classifies again, until the two agree (at most 10 rounds).
- **Neighbour propagation from the sure passages**: the passages every refit agreed on keep their
  theme; each other passage takes the similarity-weighted majority theme of its `k` nearest
  neighbours (in the embedding, or the embedding joined to the LSA view), iterated (at most 10
  rounds). Unlike the logistic-regression reassignment that lost, the sure passages never move,
  and the decision is by neighbours, not by a fitted boundary.

Every variant keeps consensus Ward's placed / unplaced split (the coverage is Ward's), so the
scores compare partitions, not placement rules.
"""

from __future__ import annotations

import math
import time

import numpy as np

from synth.cluster import ClusterParams, cluster_passages

_MEMO: dict[tuple, tuple[object, float]] = {}  # one dev set's base partitions, shared by the variants of a run


def _unit(A: np.ndarray) -> np.ndarray:
    return A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)


def _memo(key: tuple, compute):
    """(value, seconds) of compute(), computed once per run: each variant's seconds include its bases'."""
    if key not in _MEMO:
        start = time.perf_counter()
        _MEMO[key] = (compute(), time.perf_counter() - start)
    return _MEMO[key]


def _ward(V, groups, seed):
    return _memo(("ward", id(V), seed), lambda: cluster_passages(V, group_ids=groups, params=ClusterParams(seed=seed)))


def _leiden(V, groups, seed):
    return _memo(("leiden", id(V), seed),
                 lambda: cluster_passages(V, group_ids=groups, params=ClusterParams(seed=seed, partition="leiden")))


def _lexical_ward(V, groups, texts, seed):
    from synth.clusterers import ConsensusWardLexical

    return _memo(("lexical", id(V), seed),
                 lambda: ConsensusWardLexical(seed=seed).fit(V, groups=groups, texts=texts).clustering_)


def _words(V, texts, seed):
    """(TF-IDF rows, LSA view) of the texts, as synth.lexical computes them."""
    from synth.lexical import lexical_view, word_weights

    def compute():
        words = word_weights(texts)
        return words, lexical_view(texts, seed=seed, weights=words)

    return _memo(("words", id(V), seed), compute)


def _onehot(labels: np.ndarray) -> np.ndarray:
    Z = np.zeros((len(labels), int(labels.max()) + 1), np.float64)
    Z[np.arange(len(labels)), labels] = 1
    return Z


def evidence_accumulation(V, groups, texts, seed: int, k_factor: float = 1.0) -> tuple[np.ndarray, float]:
    """Labels (-1 unplaced) of the multi-view consensus, and the seconds it took with its views."""
    import fastcluster
    from scipy.cluster.hierarchy import fcluster

    (ward, t1), (lexical, t2), (leiden, t3) = _ward(V, groups, seed), _lexical_ward(V, groups, texts, seed), \
        _leiden(V, groups, seed)
    start = time.perf_counter()
    Z = np.hstack([_onehot(c.nearest) for c in (ward, lexical, leiden)]) / math.sqrt(3)
    k = max(2, round(k_factor * ward.n_themes))
    # Ward on one-hot memberships minimises, within each consensus theme, how often the views disagree.
    labels = fcluster(fastcluster.linkage_vector(Z, method="ward"), k, criterion="maxclust") - 1
    return np.where(ward.labels >= 0, labels, -1), t1 + t2 + t3 + time.perf_counter() - start


def co_training(V, groups, texts, seed: int, rounds: int = 10) -> tuple[np.ndarray, float]:
    """Labels of consensus Ward refined by alternating the lexical and the embedding view's classifiers."""
    from synth.lexical import theme_word_similarity

    (ward, t1), ((words, _), t2) = _ward(V, groups, seed), _words(V, texts, seed)
    start = time.perf_counter()
    X = _unit(np.asarray(V, np.float32))
    labels = ward.nearest.copy()
    for _ in range(rounds):
        _, labels = np.unique(labels, return_inverse=True)
        by_words = theme_word_similarity(words, labels, int(labels.max()) + 1).argmax(axis=1)
        _, by_words = np.unique(by_words, return_inverse=True)
        centres = _unit(np.stack([X[by_words == j].sum(axis=0) for j in range(int(by_words.max()) + 1)]))
        again = np.argmax(X @ centres.T, axis=1)
        if np.array_equal(np.unique(again, return_inverse=True)[1], labels):
            break
        labels = again
    return np.where(ward.labels >= 0, labels, -1), t1 + t2 + time.perf_counter() - start


def _knn(Y: np.ndarray, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    near = np.empty((len(Y), k), np.int64)
    sims = np.empty((len(Y), k), np.float32)
    for s in range(0, len(Y), block):
        S = Y[s:s + block] @ Y.T
        S[np.arange(len(S)), np.arange(s, s + len(S))] = -np.inf  # a passage is not its own neighbour
        found = np.argpartition(-S, k - 1, axis=1)[:, :k]
        near[s:s + block], sims[s:s + block] = found, np.take_along_axis(S, found, axis=1)
    return near, sims


def propagation(V, groups, texts, seed: int, k: int = 10, unsure_below: float = 1.0, lexical: bool = False,
                rounds: int = 10) -> tuple[np.ndarray, float]:
    """Labels of consensus Ward with its unsure passages (refit agreement under `unsure_below`) given
    their neighbours' weighted majority theme, the sure ones fixed; `lexical`: neighbours in the
    embedding joined to the LSA view (weight 0.8 on the embedding, as consensus-ward-lexical)."""
    ward, t1 = _ward(V, groups, seed)
    t2 = 0.0
    X = _unit(np.asarray(V, np.float32))
    if lexical:
        (_, lsa), t2 = _words(V, texts, seed)
        X = _unit(np.hstack([math.sqrt(0.8) * X, math.sqrt(0.2) * lsa]))
    start = time.perf_counter()
    near, sims = _knn(X, k)
    weight = sims.clip(0).ravel()
    unsure = ward.probability < unsure_below
    labels = ward.nearest.copy()
    rows = np.repeat(np.arange(len(X)), k)
    for _ in range(rounds):
        score = np.zeros((len(X), ward.n_themes), np.float32)
        np.add.at(score, (rows, labels[near].ravel()), weight)
        again = np.where(unsure, score.argmax(axis=1), ward.nearest)
        if np.array_equal(again, labels):
            break
        labels = again
    return np.where(ward.labels >= 0, labels, -1), t1 + t2 + time.perf_counter() - start


VARIANTS = {"eac": evidence_accumulation, "cotrain": co_training, "propagate": propagation}


def run_variant(V, groups, texts, seed: int, variant: str, **params) -> tuple[list[int], float]:
    """(labels, seconds) of one variant; `benchmarks.devsets` calls it for its multi-view methods."""
    labels, seconds = VARIANTS[variant](V, groups, texts, seed, **params)
    return labels.tolist(), seconds


def forget() -> None:
    """Drop the memoised base partitions (between dev sets: they are keyed by the vectors' identity)."""
    _MEMO.clear()

