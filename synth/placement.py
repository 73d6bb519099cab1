"""Placement by examples: themes a reviewer built, and imported codes given example passages, attract
the passages like them before any clustering.

A taught theme is its example passages and, where it has them, its name and definition (a reviewer's
theme has a label; an imported code a label and often a definition). Every passage is scored against
each theme's centre (the mean of its examples' embeddings, plus the embedded name at a weight chosen
below) and against its examples' shared words (TF-IDF); the scores become a distribution over the
themes, which is spread over the passages' k-nearest-neighbour graph (label spreading, Zhou et al.
2004), so a passage follows its neighbours as well as the few examples. A passage is placed when it
is close enough to its theme's centre and clearly more in it than in the next.

How much the names count is decided per codebook, on its own examples (never on anyone's answers):
  1. are the names evidence at all? Each example is classified by the names alone (nearest embedded
     name); if that is no better than chance (one-sided binomial test, p >= NAME_EVIDENCE_P), the
     names say nothing about the passages ("Theme 1", "C07", or names from another project) and count
     for nothing;
  2. if they are, the weight is the one of TEXT_WEIGHTS under which leave-one-out classification of
     the examples by their centres is best (ties to the smaller weight).
Measured on the dev sets (docs/benchmarks.md, "Learning from the reviewer"): informative names add
+0.03 to +0.07 accuracy at 5 examples per theme; shuffled or generic names are caught by step 1 and
change nothing. Alternatives that lost there (transductive priors, seeded k-means / a von Mises-Fisher
mixture, self-training, hubness and cohesion corrections, centring) are listed with their figures.
A third round lost too (docs/benchmarks.md, "Placement by examples: third round"): a balanced
(Sinkhorn) assignment, per-theme local scales, pseudo-examples from mutual neighbours, the names'
words in the TF-IDF view, the names as labelled nodes in the graph, a whitened view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .vectors import unit

MIN_EXAMPLES_PER_THEME = 3   # a reviewer's theme teaches placement from this many hand-placed passages
MIN_SIMILARITY = 0.40    # a placed passage's cosine similarity to its theme's centre (as synth/deductive.py)
MIN_SHARE_MARGIN = 0.10  # and its share of the spread scores ahead of the next theme's
TFIDF_WEIGHT = 0.5       # the examples' shared words beside their embedding centroid
TEMPERATURE = 0.05       # softmax temperature turning similarities into a distribution over themes
SPREAD_ALPHA = 0.8       # how much a passage follows its neighbours rather than its own scores
SPREAD_NEIGHBOURS = 10
SPREAD_ROUNDS = 30
SPREAD_LIMIT = 30_000    # above this many passages the neighbour graph costs more than it gives
TEXT_WEIGHTS = (0.0, 0.25, 0.5, 1.0)  # the name's weight beside the examples' mean (a vector of norm < 1)
NAME_EVIDENCE_P = 1e-3   # names must classify the examples better than chance at this significance
SINGLE_THEME_TEXT_WEIGHT = 0.25  # one theme: nothing to test the name against; it counts as about one example


@dataclass(frozen=True)
class TaughtTheme:
    """A theme that teaches placement: its id, the rows of its example passages, and the vector of its
    name and definition (None when it has no text worth embedding)."""

    theme_id: int
    examples: tuple[int, ...]
    text_vector: np.ndarray | None = None


@dataclass(frozen=True)
class ExamplePlacement:
    code: np.ndarray        # per passage: index into the taught themes, or -1 (named as DeductivePlacement's)
    similarity: np.ndarray  # per passage: cosine similarity to its best theme's centre
    best: np.ndarray        # per passage: index of the most likely theme, placed or not
    text_weight: float = 0.0  # how much the themes' names counted (text_weight())

    @property
    def placed(self) -> np.ndarray:
        return self.code >= 0


def _example_rows(themes: Sequence[TaughtTheme]) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for t in themes for r in t.examples]
    labels = [k for k, t in enumerate(themes) for _ in t.examples]
    return np.asarray(rows, dtype=int), np.asarray(labels, dtype=int)


class _UnitAt:
    """`unit(vectors, np.float64)` at the examples' rows only (indexed by passage row, as the whole
    would be): the same numbers row for row (each row is scaled on its own), without a float64 copy
    of every passage (30 GB at 10^7 passages) where only the few examples are read."""

    def __init__(self, vectors: np.ndarray, themes: Sequence[TaughtTheme]) -> None:
        rows = sorted({int(r) for t in themes for r in t.examples})
        self._position = {r: i for i, r in enumerate(rows)}
        self.shape = (len(vectors), np.shape(vectors)[1])
        self._x = unit(np.asarray(vectors[rows]), np.float64) if rows else np.zeros((0, self.shape[1]))

    def __getitem__(self, rows):
        if isinstance(rows, (int, np.integer)):
            return self._x[self._position[int(rows)]]
        return self._x[[self._position[int(r)] for r in rows]]


def names_are_evidence(vectors: np.ndarray, themes: Sequence[TaughtTheme], *, p_value: float = NAME_EVIDENCE_P) -> bool:
    """Whether the themes' names, alone, put their own examples in the right theme more often than
    chance would (one-sided binomial test)."""
    from scipy.stats import binomtest

    if len(themes) < 2 or any(t.text_vector is None for t in themes):
        return False
    rows, labels = _example_rows(themes)
    if len(rows) == 0:
        return False
    names = unit(np.stack([t.text_vector for t in themes]), np.float64)
    hits = int(((unit(vectors[rows], np.float64) @ names.T).argmax(axis=1) == labels).sum())
    return binomtest(hits, len(rows), 1.0 / len(themes), alternative="greater").pvalue < p_value


def text_weight(vectors: np.ndarray, themes: Sequence[TaughtTheme]) -> float:
    """How much the themes' names count beside their examples (see the module's docstring)."""
    if not any(t.text_vector is not None for t in themes):
        return 0.0
    if len(themes) == 1:
        return SINGLE_THEME_TEXT_WEIGHT
    if not names_are_evidence(vectors, themes):
        return 0.0
    x = _UnitAt(vectors, themes)
    names = unit(np.stack([t.text_vector for t in themes]), np.float64)
    sums = np.stack([x[list(t.examples)].sum(axis=0) for t in themes])
    sizes = np.array([len(t.examples) for t in themes], dtype=np.float64)
    rows, labels = _example_rows(themes)
    best_weight, best_hits = 0.0, -1
    for weight in TEXT_WEIGHTS:
        centres = unit(sums / sizes[:, None] + weight * names, np.float64)
        hits = 0
        for row, k in zip(rows, labels):
            if sizes[k] < 2:
                continue  # a single example left out leaves nothing to compare with
            scores = centres @ x[row]
            scores[k] = unit((sums[k] - x[row]) / (sizes[k] - 1) + weight * names[k]) @ x[row]
            hits += int(scores.argmax() == k)
        if hits > best_hits:  # strictly better: ties stay with the smaller weight
            best_weight, best_hits = weight, hits
    return best_weight


def theme_centres(vectors: np.ndarray, themes: Sequence[TaughtTheme], weight: float = 0.0) -> np.ndarray:
    """(k, d) unit centres of the taught themes: the mean of each theme's examples plus `weight` times its
    unit name vector. With weight 0, the nearest-centroid baseline."""
    x = _UnitAt(vectors, themes)
    centres = []
    for t in themes:
        centre = x[list(t.examples)].mean(axis=0) if t.examples else np.zeros(x.shape[1])
        text = weight if t.examples else 1.0  # a theme without examples is its text alone
        if t.text_vector is not None and text > 0:
            centre = centre + text * unit(np.asarray(t.text_vector), np.float64)
        centres.append(centre)
    return unit(np.asarray(centres), np.float64)


def _word_similarity(texts: Sequence[str], themes: Sequence[TaughtTheme]) -> np.ndarray:
    """(n, k) cosine similarity of each passage's TF-IDF vector to each theme's examples' mean."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2 if len(texts) >= 50 else 1,
                                stop_words="english").fit_transform(texts)
    except ValueError:  # no word survives (a project of numbers or stop words): nothing to add
        return np.zeros((len(texts), len(themes)))
    means = np.vstack([np.asarray(tfidf[list(t.examples)].mean(axis=0)) if t.examples
                       else np.zeros((1, tfidf.shape[1])) for t in themes])
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return np.asarray(tfidf @ means.T)


def neighbour_graph(vectors: np.ndarray, k: int = SPREAD_NEIGHBOURS):
    """Symmetric, degree-normalised k-nearest-neighbour graph of the passages (cosine weights)."""
    import scipy.sparse as sp
    from sklearn.neighbors import NearestNeighbors

    x = unit(vectors, np.float64)
    k = min(k, len(x) - 1)
    dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    weight = np.clip(1.0 - dist[:, 1:] ** 2 / 2.0, 0.0, None).ravel()  # unit vectors: cosine from distance
    w = sp.csr_matrix((weight, (np.repeat(np.arange(len(x)), k), idx[:, 1:].ravel())), shape=(len(x), len(x)))
    w = w.maximum(w.T)
    d = 1.0 / np.sqrt(np.maximum(np.asarray(w.sum(axis=1)).ravel(), 1e-12))
    return sp.diags(d) @ w @ sp.diags(d)


def theme_scores(vectors: np.ndarray, themes: Sequence[TaughtTheme], texts: Sequence[str] | None = None, *,
                 spread: bool = True, graph=None, weight: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """((n, k) distribution over the taught themes, (n, k) cosine similarity to their centres).
    `graph`: the passages' neighbour graph (`neighbour_graph`), when the caller already has it;
    `weight`: the names' weight (default: chosen by `text_weight`)."""
    # The one float64 copy of all the passages (the centres' helpers read only the examples' rows):
    # the product below is BLAS's over the whole matrix, which a product block by block does not
    # reproduce to the last bit (measured: 70,001 x 3 in blocks of 2,048 rows).
    x = unit(vectors, np.float64)
    weight = text_weight(x, themes) if weight is None else weight
    cosine = x @ theme_centres(x, themes, weight).T
    score = cosine + (TFIDF_WEIGHT * _word_similarity(texts, themes) if texts is not None else 0.0)
    start = np.exp((score - score.max(axis=1, keepdims=True)) / TEMPERATURE)
    start /= start.sum(axis=1, keepdims=True)
    if not spread or len(themes) < 2 or len(x) <= SPREAD_NEIGHBOURS or len(x) > SPREAD_LIMIT:
        return start, cosine
    graph = neighbour_graph(x) if graph is None else graph
    f = start
    for _ in range(SPREAD_ROUNDS):
        f = SPREAD_ALPHA * (graph @ f) + (1 - SPREAD_ALPHA) * start
    return f / np.maximum(f.sum(axis=1, keepdims=True), 1e-12), cosine


def place_by_examples(vectors: np.ndarray, themes: Sequence[TaughtTheme], texts: Sequence[str] | None = None, *,
                      min_similarity: float = MIN_SIMILARITY, min_margin: float = MIN_SHARE_MARGIN) -> ExamplePlacement:
    """Place passages in the taught themes they clearly belong to; the rest stay for clustering."""
    n = len(vectors)
    if not themes or n == 0:
        return ExamplePlacement(np.full(n, -1), np.zeros(n), np.full(n, -1))
    weight = text_weight(vectors, themes)
    share, cosine = theme_scores(vectors, themes, texts, weight=weight)
    order = np.argsort(-share, axis=1, kind="stable")
    best = order[:, 0]
    rows = np.arange(n)
    margin = share[rows, best] - (share[rows, order[:, 1]] if len(themes) > 1 else 0.0)
    best_sim = cosine[rows, best]
    theme = np.where((best_sim >= min_similarity) & (margin >= min_margin), best, -1)
    for k, t in enumerate(themes):  # examples stay in their own theme
        theme[list(t.examples)] = k
    return ExamplePlacement(theme, best_sim.astype(np.float32), best, weight)
