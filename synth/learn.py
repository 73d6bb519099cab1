"""Learning from the reviewer: categories and placements taught by the project's own decisions.

Pure functions on arrays and records; `synth/relearn.py` reads the project and writes the results.

Categories. The machine's category (synth/categorise.py: cues and prototypes) knows nothing of a
project: an evaluation report writes a shortfall in the service's own words, and a survey's "what
could be better?" question is mostly complaints however they are worded. Once a reviewer has taught
anything, `learn_categories` fits a per-project model in three steps:
  1. where each passage comes from (its source's kind and metadata, such as the survey question)
     gets its own prior over the categories, estimated by expectation-maximisation from the machine's
     scores of every passage there and the reviewer's categories (Saerens, Latinne & Decaestecker
     2002, "Adjusting the outputs of a classifier to new a priori probabilities"): the machine's
     scores, reweighted by how common each category is in that stratum;
  2. a logistic regression on [embedding, the context one-hot, the machine's log-scores], fitted to
     those adjusted categories as weak pseudo-labels (low weight, by confidence) and to the
     reviewer's categories (high weight): it learns the project's vocabulary near the examples;
  3. its probabilities are the learned suggestion.
With nothing taught there is no learned suggestion (the machine's category stands). A reviewer who
only fixes mistakes gives a one-sided sample; the pseudo-labels of every untouched passage keep the
model anchored to what the machine gets right, so such fixes no longer shift everything (measured in
docs/benchmarks.md, "Learning from the reviewer"). Each suggestion names the taught passages nearest
to it; a passage a reviewer categorised keeps the reviewer's category (the caller never asks for it).

Check next. `uncertainty` orders passages by how unsure the current model is (the margin between its
two best categories): the passages a reviewer should look at next, where a decision teaches most.

Placement. A theme a reviewer built or filled (its passages placed by hand), or an imported code,
is represented by its example passages (and its name and definition, for a code). `place_by_examples`
scores every passage against each theme's example centroid in the embedding space and in TF-IDF
(the words the examples share), turns the scores into a distribution over the taught themes and
spreads it over the passages' k-nearest-neighbour graph (label spreading, Zhou et al. 2004), so a
passage follows its neighbours as well as the five examples. A passage is placed when it is close
enough to its theme's examples and clearly more in it than in the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .records import CATEGORIES
from .vectors import unit

NEAREST_SHOWN = 3
MAX_CONTEXT_VALUES = 50  # a context key (metadata field) with more distinct values is an id, not a feature
PRIOR_SMOOTHING = 5.0    # pseudo-count of the project-wide prior in each stratum's prior
PRIOR_ROUNDS = 20        # EM rounds of the per-stratum priors (converged well before on the dev sets)
MAX_POOL = 2000          # pseudo-labelled passages the regression sees (a random subset on large projects)
PSEUDO_WEIGHT = 1.0      # an untouched passage's weight, times the adjusted model's confidence in it
TAUGHT_WEIGHT = 20.0     # a reviewer's category: twenty confident pseudo-labels' worth
TAUGHT_SHARE = 1.0       # at most: the taught passages together weigh as much as the pseudo-labels
REGULARISATION = 1.0     # inverse L2 strength (scikit-learn's C)
MIN_EXAMPLES_PER_THEME = 3   # a reviewer's theme teaches placement from this many hand-placed passages
MIN_SIMILARITY = 0.40    # a placed passage's cosine similarity to its theme's examples (as synth/deductive.py)
MIN_SHARE_MARGIN = 0.10  # and its share of the spread scores ahead of the next theme's
TFIDF_WEIGHT = 0.5       # the examples' shared words beside their embedding centroid
TEMPERATURE = 0.05       # softmax temperature turning similarities into a distribution over themes
SPREAD_ALPHA = 0.8       # how much a passage follows its neighbours rather than its own scores
SPREAD_NEIGHBOURS = 10
SPREAD_ROUNDS = 30
SPREAD_LIMIT = 30_000    # above this many passages the neighbour graph costs more than it gives


@dataclass(frozen=True)
class TaughtPassage:
    """A passage whose category a reviewer set: the training data."""

    passage_id: int
    category: str
    text: str


@dataclass(frozen=True)
class LearnedCategory:
    category: str
    scores: Mapping[str, float]   # sum to 1
    reasons: tuple[str, ...]      # the taught passages nearest to this one, and how far the model moved it
    changed: bool                 # differs from the machine's category


def _probabilities(machine: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(machine, dtype=np.float64), 1e-6, None)
    return p / p.sum(axis=1, keepdims=True)


def _kept_context(contexts: Sequence[Sequence[str]], max_values: int = MAX_CONTEXT_VALUES) -> list[tuple[str, ...]]:
    """Each passage's context items that can teach: a key with more than `max_values` values (an id,
    a name) or a value seen once carries nothing to learn from."""
    counts: dict[str, int] = {}
    for ctx in contexts:
        for item in set(ctx):
            counts[item] = counts.get(item, 0) + 1
    per_key: dict[str, int] = {}
    for item in counts:
        key = item.split("=", 1)[0]
        per_key[key] = per_key.get(key, 0) + 1
    good = {i for i, n in counts.items() if n >= 2 and per_key[i.split("=", 1)[0]] <= max_values}
    return [tuple(sorted(i for i in set(ctx) if i in good)) for ctx in contexts]


def context_features(contexts: Sequence[Sequence[str]], *, max_values: int = MAX_CONTEXT_VALUES) -> np.ndarray:
    """(n, m) one-hot features of each passage's context (e.g. "question=What could be better?",
    "kind=survey"), the items that can teach only."""
    kept = _kept_context(contexts, max_values)
    column = {item: j for j, item in enumerate(sorted({i for ctx in kept for i in ctx}))}
    out = np.zeros((len(contexts), len(column)))
    for i, ctx in enumerate(kept):
        for item in ctx:
            out[i, column[item]] = 1.0
    return out


def context_strata(contexts: Sequence[Sequence[str]] | None, n: int) -> np.ndarray:
    """(n,) stratum of each passage: passages with the same teaching context share one."""
    if contexts is None:
        return np.zeros(n, dtype=int)
    ids: dict[tuple[str, ...], int] = {}
    return np.array([ids.setdefault(ctx, len(ids)) for ctx in _kept_context(contexts)], dtype=int)


def adjusted_priors(machine: np.ndarray, strata: np.ndarray, taught_rows: Sequence[int] = (),
                    taught_labels: Sequence[str] = (), *, rounds: int = PRIOR_ROUNDS,
                    smoothing: float = PRIOR_SMOOTHING) -> np.ndarray:
    """(n, 4) the machine's probabilities re-weighted by each stratum's own category prior, estimated
    by EM (Saerens et al. 2002); the taught rows count with their reviewer's category. With one stratum
    it returns the machine's probabilities."""
    p0 = _probabilities(machine)
    if len(set(strata.tolist())) < 2:
        # One stratum: nothing to tell apart, and EM on the machine's flat scores would turn a few
        # one-sided fixes into a project-wide shift (measured: a fixing reviewer then made it worse).
        return p0
    overall = p0.mean(axis=0)
    taught = np.asarray(taught_rows, dtype=int)
    fixed = np.zeros((len(taught), len(CATEGORIES)))
    fixed[np.arange(len(taught)), [CATEGORIES.index(c) for c in taught_labels]] = 1.0
    count = np.bincount(strata, minlength=int(strata.max(initial=0)) + 1)[:, None]
    post = p0
    for _ in range(rounds):
        q = post.copy()
        q[taught] = fixed
        prior = np.zeros((len(count), len(CATEGORIES)))
        np.add.at(prior, strata, q)
        prior = (prior + smoothing * overall) / (count + smoothing)
        post = p0 * prior[strata] / overall
        post /= post.sum(axis=1, keepdims=True)
    return post


def _fit_on_pseudo_labels(features: np.ndarray, adjusted: np.ndarray, taught_rows: np.ndarray,
                          taught_labels: Sequence[str], seed: int) -> np.ndarray:
    """(n, 4) a logistic regression's probabilities, fitted to the adjusted categories of (a sample
    of) the untouched passages at low weight and to the reviewer's categories at high weight."""
    from sklearn.linear_model import LogisticRegression  # imported here: only a taught project needs it

    pool = np.setdiff1d(np.arange(len(features)), taught_rows)
    if len(pool) > MAX_POOL:
        pool = np.sort(np.random.default_rng(seed).choice(pool, size=MAX_POOL, replace=False))
    pseudo = np.array(CATEGORIES)[adjusted[pool].argmax(axis=1)]
    labels = np.concatenate([pseudo, np.asarray(taught_labels, dtype=pseudo.dtype)])
    if len(set(labels)) < 2:
        return adjusted
    pseudo_weights = PSEUDO_WEIGHT * adjusted[pool].max(axis=1)
    # The reviewer's passages together weigh at most as much as all the pseudo-labels: in a small
    # project a few one-sided fixes would otherwise outweigh everything the machine gets right.
    taught_weight = min(TAUGHT_WEIGHT, max(1.0, TAUGHT_SHARE * pseudo_weights.sum() / max(len(taught_rows), 1)))
    weights = np.concatenate([pseudo_weights, np.full(len(taught_rows), taught_weight)])
    model = LogisticRegression(C=REGULARISATION, max_iter=1000)
    model.fit(features[np.concatenate([pool, taught_rows])], labels, sample_weight=weights)
    out = np.full((len(features), len(CATEGORIES)), 1e-6)
    out[:, [CATEGORIES.index(c) for c in model.classes_]] = np.maximum(model.predict_proba(features), 1e-6)
    return out / out.sum(axis=1, keepdims=True)


def learned_probabilities(vectors: np.ndarray, machine: np.ndarray, taught_rows: Sequence[int],
                          taught_labels: Sequence[str], *, contexts: Sequence[Sequence[str]] | None = None,
                          seed: int = 0) -> np.ndarray:
    """(n, 4) the learned model's probabilities for every row of `vectors` (CATEGORIES order); the
    machine's own (normalised) when nothing is taught."""
    if len(taught_rows) == 0:
        return _probabilities(machine)
    rows = np.asarray(taught_rows, dtype=int)
    adjusted = adjusted_priors(machine, context_strata(contexts, len(vectors)), rows, taught_labels)
    parts = [unit(vectors, np.float64), np.log(_probabilities(machine))]
    if contexts is not None:
        parts.append(context_features(contexts))
    return _fit_on_pseudo_labels(np.hstack(parts), adjusted, rows, taught_labels, seed)


def learn_categories(taught: Sequence[TaughtPassage], taught_vectors: np.ndarray,
                     vectors: np.ndarray, machine: np.ndarray, *, shown: int = NEAREST_SHOWN,
                     taught_rows: Sequence[int] = (), contexts: Sequence[Sequence[str]] | None = None
                     ) -> list[LearnedCategory]:
    """A learned category for each passage (rows of `vectors`, machine scores `machine`, columns in
    CATEGORIES order), from the reviewer's `taught` passages (`taught_rows`: where they are among
    `vectors`; `contexts`: each passage's "key=value" context items)."""
    if not taught:
        return []
    if len(taught_rows) != len(taught):
        raise ValueError("taught_rows must give the row of every taught passage")
    probs = learned_probabilities(vectors, machine, taught_rows, [t.category for t in taught], contexts=contexts)
    sims = unit(vectors, np.float64) @ unit(taught_vectors, np.float64).T
    out = []
    for i in range(len(vectors)):
        winner = CATEGORIES[int(probs[i].argmax())]
        before = CATEGORIES[int(np.asarray(machine[i]).argmax())]
        order = np.argsort(-sims[i], kind="stable")[:shown]
        near = "; ".join(f'passage {taught[j].passage_id} ({taught[j].category}, similarity {sims[i, j]:.2f}): '
                         f'"{_snippet(taught[j].text)}"' for j in order)
        how = (f"learned from {len(taught)} passage(s) a reviewer categorised: {before} → {winner}" if winner != before
               else f"learned from {len(taught)} passage(s) a reviewer categorised: stays {winner}")
        out.append(LearnedCategory(category=winner, scores={c: float(p) for c, p in zip(CATEGORIES, probs[i])},
                                   reasons=(how, f"nearest taught passages: {near}"), changed=winner != before))
    return out


def uncertainty(scores: np.ndarray) -> np.ndarray:
    """(n,) how unsure a model is of each row: 1 minus the margin between its two best categories."""
    top = np.sort(np.asarray(scores, dtype=np.float64), axis=1)
    return 1.0 - (top[:, -1] - top[:, -2])


def _snippet(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- placement ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaughtTheme:
    """A theme that teaches placement: its id, the rows of its example passages, and (for a code)
    the vector of its name and definition."""

    theme_id: int
    examples: tuple[int, ...]
    text_vector: np.ndarray | None = None


@dataclass(frozen=True)
class ExamplePlacement:
    code: np.ndarray        # per passage: index into the taught themes, or -1 (named as DeductivePlacement's)
    similarity: np.ndarray  # per passage: cosine similarity to its best theme's examples
    best: np.ndarray        # per passage: index of the most likely theme, placed or not

    @property
    def placed(self) -> np.ndarray:
        return self.code >= 0


def theme_centres(vectors: np.ndarray, themes: Sequence[TaughtTheme]) -> np.ndarray:
    """(k, d) unit centres of the taught themes: the mean of each theme's examples (and its text vector):
    the nearest-centroid baseline, and where the learned placement starts."""
    x = unit(vectors, np.float64)
    centres = []
    for t in themes:
        parts = [x[list(t.examples)]] if t.examples else []
        if t.text_vector is not None:
            parts.append(unit(np.asarray(t.text_vector)[None, :], np.float64))
        centres.append(np.vstack(parts).mean(axis=0))
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
                 spread: bool = True, graph=None) -> tuple[np.ndarray, np.ndarray]:
    """((n, k) distribution over the taught themes, (n, k) cosine similarity to their example centres).
    `graph`: the passages' neighbour graph (`neighbour_graph`), when the caller already has it."""
    x = unit(vectors, np.float64)
    cosine = x @ theme_centres(vectors, themes).T
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
    share, cosine = theme_scores(vectors, themes, texts)
    order = np.argsort(-share, axis=1, kind="stable")
    best = order[:, 0]
    rows = np.arange(n)
    margin = share[rows, best] - (share[rows, order[:, 1]] if len(themes) > 1 else 0.0)
    best_sim = cosine[rows, best]
    theme = np.where((best_sim >= min_similarity) & (margin >= min_margin), best, -1)
    for k, t in enumerate(themes):  # examples stay in their own theme
        theme[list(t.examples)] = k
    return ExamplePlacement(theme, best_sim.astype(np.float32), best)
