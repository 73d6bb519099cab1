"""Learning from the reviewer: categories and placements taught by the project's own decisions.

Pure functions on arrays and records; `synth/relearn.py` reads the project and writes the results.

Categories. The machine's category (synth/categorise.py: cues and prototypes) knows nothing of a
project: an evaluation report writes a shortfall in the service's own words, and a survey's "what
could be better?" question is mostly complaints however they are worded. Once a reviewer has taught
anything, `learn_categories` fits a per-project model in five steps:
  1. where each passage comes from (its source's kind and metadata, such as the survey question)
     gets its own prior over the categories, estimated by expectation-maximisation from the machine's
     scores of every passage there and the reviewer's categories (Saerens, Latinne & Decaestecker
     2002, "Adjusting the outputs of a classifier to new a priori probabilities"): the machine's
     scores, reweighted by how common each category is in that stratum;
  2. a logistic regression on [embedding, the context one-hot, the machine's log-scores], fitted to
     those adjusted categories as weak pseudo-labels (low weight, by confidence) and to the
     reviewer's categories (high weight): it learns the project's vocabulary near the examples;
  3. where the passages fall in two strata or more, the regression is fitted once more with its own
     probabilities as the untouched passages' pseudo-labels, on another random pool (self-training):
     after a few decisions it is right more often than the prior-adjusted machine, and the
     pseudo-labels outweigh the taught passages (docs/benchmarks.md, "Reading the question with the
     answer": NHS after 40 decisions +0.002 for every simulated reviewer, labels 0.916 -> 0.918; NaPiRE
     with its questions +0.01-0.02 macro-F1). In
     one stratum it is not done: there it lost on NaPiRE text only (fixes at k = 40, 0.616 -> 0.589),
     the one-sided sample of a fixing reviewer then feeds on itself;
  4. beside that regression (and in each refit of step 3), a second one on the passages' words alone
     (synth/word_view.py: TF-IDF of words and word pairs, negation marked, "not_helpful"), fitted
     to the same pseudo-labels and taught passages, judges the side: `with_word_view` averages the
     two models' barrier-against-enabler log-odds (WORD_WEIGHT) and leaves every other category's
     share to the first. The sentence model reads "could not fault the staff" close to a complaint
     and is weak on negation; the words err on other passages (docs/benchmarks.md, "Category
     learning: lexical view and mixed comments": NHS after 40 decisions 0.918 -> 0.931 labels,
     0.924 -> 0.937 fixes, 0.921 -> 0.940 check next);
  5. its probabilities are the learned suggestion.
The form of a reply is part of its context: a nil answer ("Nothing, all good", found by the
machine's cues, `REPLY_NIL`) says the opposite of what its question asks for, so it gets its own
stratum and prior. Before, the prior of a "what could be better?" question (mostly complaints)
turned nil answers the machine had right into barriers (docs/benchmarks.md, "Nil answers, second
pass": on NHS after 40 decisions, the nil answers were right 0.80-0.84 of the time without their own
stratum, 0.96 with it).
With nothing taught there is no learned suggestion (the machine's category stands). A reviewer who
only fixes mistakes gives a one-sided sample; the pseudo-labels of every untouched passage keep the
model anchored to what the machine gets right, so such fixes no longer shift everything (measured in
docs/benchmarks.md, "Learning from the reviewer"). Each suggestion names the taught passages nearest
to it; a passage a reviewer categorised keeps the reviewer's category (the caller never asks for it).

Check next. `uncertainty` orders passages by how unsure the current model is (the margin between its
two best categories): the passages a reviewer should look at next, where a decision teaches most.

Placement learned from reviewer-made themes and imported codes with examples: synth/placement.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .records import CATEGORIES
from .vectors import unit
from .word_view import word_matrix

NEAREST_SHOWN = 3
REPLY_NIL = "reply=nil answer"  # the context item of a nil answer (relearn.reply_forms)
MAX_CONTEXT_VALUES = 50  # a context key (metadata field) with more distinct values is an id, not a feature
PRIOR_SMOOTHING = 5.0    # pseudo-count of the project-wide prior in each stratum's prior
PRIOR_ROUNDS = 20        # EM rounds of the per-stratum priors (converged well before on the dev sets)
MAX_POOL = 2000          # pseudo-labelled passages the regression sees (a random subset on large projects)
PSEUDO_WEIGHT = 1.0      # an untouched passage's weight, times the adjusted model's confidence in it
TAUGHT_WEIGHT = 20.0     # a reviewer's category: twenty confident pseudo-labels' worth
TAUGHT_SHARE = 1.0       # at most: the taught passages together weigh as much as the pseudo-labels
REGULARISATION = 1.0     # inverse L2 strength (scikit-learn's C)
SELF_TRAINING_ROUNDS = 1 # refits on the model's own pseudo-labels (two strata or more; see the docstring)
WORD_WEIGHT = 0.5        # the word view's share of the barrier-against-enabler log-odds (step 3 of the docstring)
WORD_REGULARISATION = 10.0  # inverse L2 strength of the word view's regression (unit TF-IDF rows, sparse)


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
                          taught_labels: Sequence[str], seed: int, *, regularisation: float = REGULARISATION
                          ) -> np.ndarray:
    """(n, 4) a logistic regression's probabilities, fitted to the adjusted categories of (a sample
    of) the untouched passages at low weight and to the reviewer's categories at high weight."""
    from sklearn.linear_model import LogisticRegression  # imported here: only a taught project needs it

    pool = np.setdiff1d(np.arange(features.shape[0]), taught_rows)
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
    model = LogisticRegression(C=regularisation, max_iter=1000)
    model.fit(features[np.concatenate([pool, taught_rows])], labels, sample_weight=weights)
    out = np.full((features.shape[0], len(CATEGORIES)), 1e-6)
    out[:, [CATEGORIES.index(c) for c in model.classes_]] = np.maximum(model.predict_proba(features), 1e-6)
    return out / out.sum(axis=1, keepdims=True)


def with_word_view(probs: np.ndarray, words: np.ndarray, weight: float = WORD_WEIGHT) -> np.ndarray:
    """`probs` with its barrier-against-enabler log-odds averaged with the word view's (`words`), the word
    view weighing `weight`; how much goes to barrier and enabler together, and to every other category,
    stays `probs`'. The words only judge the side: where a survey question decides practice against the
    rest, a model of the words alone, which does not read the question, made that worse (NaPiRE with its
    questions, macro-F1 0.944 -> 0.908 after 40 decisions when it judged every category)."""
    b, e = CATEGORIES.index("barrier"), CATEGORIES.index("enabler")
    out = probs.copy()
    mass = probs[:, b] + probs[:, e]
    odds = (1 - weight) * np.log(probs[:, e] / probs[:, b]) + weight * np.log(words[:, e] / words[:, b])
    out[:, e] = mass / (1 + np.exp(-odds))
    out[:, b] = mass - out[:, e]
    return out


def learned_probabilities(vectors: np.ndarray, machine: np.ndarray, taught_rows: Sequence[int],
                          taught_labels: Sequence[str], *, contexts: Sequence[Sequence[str]] | None = None,
                          texts: Sequence[str] | None = None, seed: int = 0) -> np.ndarray:
    """(n, 4) the learned model's probabilities for every row of `vectors` (CATEGORIES order); the
    machine's own (normalised) when nothing is taught. With `texts` (each row's passage text) the word
    view (synth/word_view.py) joins in on the side of every passage."""
    if len(taught_rows) == 0:
        return _probabilities(machine)
    rows = np.asarray(taught_rows, dtype=int)
    strata = context_strata(contexts, len(vectors))
    adjusted = adjusted_priors(machine, strata, rows, taught_labels)
    parts = [unit(vectors, np.float64), np.log(_probabilities(machine))]
    if contexts is not None:
        parts.append(context_features(contexts))
    features = np.hstack(parts)
    words = word_matrix(texts) if texts is not None else None

    def fit(pseudo: np.ndarray, seed: int) -> np.ndarray:
        probs = _fit_on_pseudo_labels(features, pseudo, rows, taught_labels, seed)
        if words is None:
            return probs
        # The same pseudo-labels, weights and pool, read through the words alone (no context, no machine
        # scores: with them it agreed with the embedding's model and gained nothing on NHS).
        said = _fit_on_pseudo_labels(words, pseudo, rows, taught_labels, seed, regularisation=WORD_REGULARISATION)
        return with_word_view(probs, said)

    probs = fit(adjusted, seed)
    for r in range(SELF_TRAINING_ROUNDS if len(set(strata.tolist())) >= 2 else 0):
        # Another random pool: on a large project most pseudo-labels are then the model's predictions
        # for passages it was not fitted to (a project under MAX_POOL passages sees all of them again).
        probs = fit(probs, seed + 1 + r)
    return probs


def learn_categories(taught: Sequence[TaughtPassage], taught_vectors: np.ndarray,
                     vectors: np.ndarray, machine: np.ndarray, *, shown: int = NEAREST_SHOWN,
                     taught_rows: Sequence[int] = (), contexts: Sequence[Sequence[str]] | None = None,
                     texts: Sequence[str] | None = None) -> list[LearnedCategory]:
    """A learned category for each passage (rows of `vectors`, machine scores `machine`, columns in
    CATEGORIES order), from the reviewer's `taught` passages (`taught_rows`: where they are among
    `vectors`; `contexts`: each passage's "key=value" context items; `texts`: each passage's text, for
    the word view)."""
    if not taught:
        return []
    if len(taught_rows) != len(taught):
        raise ValueError("taught_rows must give the row of every taught passage")
    probs = learned_probabilities(vectors, machine, taught_rows, [t.category for t in taught], contexts=contexts,
                                  texts=texts)
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
