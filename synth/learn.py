"""Learning from the reviewer: categories and placements taught by the project's own decisions.

Pure functions on arrays and records; `synth/relearn.py` reads the project and writes the results.

Categories. The machine's category (synth/categorise.py: cues and prototypes) knows nothing of a
project's vocabulary: an evaluation report writes a shortfall in the service's own words ("support
… was less widespread"), which the bundled model places beside praise. Every passage whose category
a reviewer set is a labelled example in the project's own vector space. `learn_categories` fits a
logistic regression on the embeddings (and on where each passage comes from: its source's kind
and metadata, such as the survey question it answers), fitted to the machine's own categories
plus the reviewer's examples, weighed heavily; another fitted to the machine's categories alone.
The difference of their log-probabilities is what the teaching changed, and it is added to the
machine's scores (see `taught_shift`). A single taught class still works: the machine's other
categories are there to be told apart from. Each suggestion names the
taught passages nearest to it; a passage a reviewer categorised keeps the reviewer's category.

Placement. A theme a reviewer built or filled (its passages placed by hand), or an imported code,
is represented by its example passages (and its name and definition, for a code). `place_by_examples`
scores every passage against every taught theme by a transductive refinement of the examples'
centroids: a few rounds of seeded spherical k-means over all passages, with the examples held in
their themes, so a theme's centre moves towards the dense region its examples sit in rather than
staying at the mean of five points. A passage is placed when it is close enough and clearly closer
to one theme than to the next (thresholds as in synth/deductive.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .records import CATEGORIES

NEAREST_SHOWN = 3
MAX_POOL = 4000          # machine-labelled passages the regressions see (a random subset on large projects)
TAUGHT_SHARE = 0.25      # the taught passages together weigh this share of that pool
REGULARISATION = 4.0     # inverse L2 strength (scikit-learn's C) of both regressions
SHIFT_WEIGHT = 1.0       # how much the reviewer's shift counts beside the machine's log-scores
MAX_CONTEXT_VALUES = 50  # a context key (metadata field) with more distinct values is an id, not a feature
CONTEXT_SCALE = 1.0      # a context feature's value, beside unit-length embeddings
REFINE_ROUNDS = 5
MIN_EXAMPLES_PER_THEME = 3   # a reviewer's theme teaches placement from this many hand-placed passages
MIN_SIMILARITY = 0.40
MIN_MARGIN = 0.03


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


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _aligned_log_proba(model, x: np.ndarray) -> np.ndarray:
    out = np.full((len(x), len(CATEGORIES)), np.log(1e-4))
    probs = model.predict_proba(x)
    for j, c in enumerate(model.classes_):
        out[:, CATEGORIES.index(c)] = np.log(np.clip(probs[:, j], 1e-6, 1.0))
    return out - np.log(np.exp(out).sum(axis=1, keepdims=True))


def context_features(contexts: Sequence[Sequence[str]], *, max_values: int = MAX_CONTEXT_VALUES) -> np.ndarray:
    """(n, m) one-hot features of each passage's context (e.g. "question=What could be better?",
    "kind=survey"): a key with more than `max_values` values (an id, a name) or a value seen once
    carries nothing to learn from, so it is left out."""
    counts: dict[str, int] = {}
    for ctx in contexts:
        for item in set(ctx):
            counts[item] = counts.get(item, 0) + 1
    per_key: dict[str, int] = {}
    for item in counts:
        per_key[item.split("=", 1)[0]] = per_key.get(item.split("=", 1)[0], 0) + 1
    kept = sorted(i for i, n in counts.items() if n >= 2 and per_key[i.split("=", 1)[0]] <= max_values)
    column = {item: j for j, item in enumerate(kept)}
    out = np.zeros((len(contexts), len(kept)))
    for i, ctx in enumerate(contexts):
        for item in ctx:
            if item in column:
                out[i, column[item]] = CONTEXT_SCALE
    return out


def taught_shift(taught_vectors: np.ndarray, taught_labels: Sequence[str], vectors: np.ndarray,
                 machine: np.ndarray, *, taught_rows: Sequence[int] = (), seed: int = 0,
                 context: np.ndarray | None = None) -> np.ndarray:
    """(n, 4) how far the reviewer's examples move each passage's log-probabilities.

    Two logistic regressions on the embeddings: one fitted to the machine's own categories of the
    project's passages (the machine, as the embedding space can express it), one fitted to the same
    plus the taught passages, which weigh as much as a quarter of the project together. Their
    difference is what the teaching changed, and nothing else: with no example taught it is zero,
    and a single taught class still has the machine's other categories to be told apart from.
    """
    from sklearn.linear_model import LogisticRegression  # imported here: only a taught project needs it

    x = _normalise(vectors)
    xt = _normalise(taught_vectors)
    if context is not None and context.shape[1]:
        # Where a passage comes from (which survey question it answers) can say more about its side
        # than its words do in this embedding space; the model weighs it only as far as the examples show.
        x = np.hstack([x, context])
        xt = np.hstack([xt, context[np.asarray(taught_rows, dtype=int)]])
    pseudo = np.array([CATEGORIES[i] for i in np.asarray(machine).argmax(axis=1)])
    pool = np.setdiff1d(np.arange(len(x)), np.asarray(taught_rows, dtype=int))
    if len(pool) > MAX_POOL:
        pool = np.sort(np.random.default_rng(seed).choice(pool, size=MAX_POOL, replace=False))
    labels = np.asarray(taught_labels)
    if len(set(pseudo[pool])) < 2:  # the machine called everything one thing: nothing to contrast against
        pool = pool[:0]
    taught_weight = max(1.0, TAUGHT_SHARE * len(pool) / max(len(labels), 1))
    fit = lambda xs, ys, ws: LogisticRegression(C=REGULARISATION, max_iter=1000).fit(xs, ys, sample_weight=ws)  # noqa: E731
    if len(set(labels) | set(pseudo[pool])) < 2:
        return np.zeros((len(x), len(CATEGORIES)))
    taught_model = fit(np.vstack([x[pool], xt]), np.concatenate([pseudo[pool], labels]),
                       np.concatenate([np.ones(len(pool)), np.full(len(labels), taught_weight)]))
    if len(pool) and len(set(pseudo[pool])) >= 2:
        base = _aligned_log_proba(fit(x[pool], pseudo[pool], np.ones(len(pool))), x)
    else:
        base = np.full((len(x), len(CATEGORIES)), np.log(1.0 / len(CATEGORIES)))
    return _aligned_log_proba(taught_model, x) - base


def learn_categories(taught: Sequence[TaughtPassage], taught_vectors: np.ndarray,
                     vectors: np.ndarray, machine: np.ndarray, *, shown: int = NEAREST_SHOWN,
                     taught_rows: Sequence[int] = (), contexts: Sequence[Sequence[str]] | None = None
                     ) -> list[LearnedCategory]:
    """A learned category for each passage (rows of `vectors`, machine scores `machine`, columns in
    CATEGORIES order), from the reviewer's `taught` passages and their vectors (`taught_rows`: where
    they are among `vectors`, so they are not also counted with the machine's category)."""
    if not taught:
        return []
    labels = [t.category for t in taught]
    machine_log = np.log(np.clip(np.asarray(machine, dtype=np.float64), 1e-6, 1.0))
    context = context_features(contexts) if contexts is not None and len(taught_rows) == len(taught) else None
    logits = machine_log + SHIFT_WEIGHT * taught_shift(taught_vectors, labels, vectors, machine,
                                                       taught_rows=taught_rows, context=context)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    sims = _normalise(vectors) @ _normalise(taught_vectors).T
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
    similarity: np.ndarray  # per passage: cosine similarity to its best theme's centre
    best: np.ndarray        # per passage: index of the most similar theme, placed or not

    @property
    def placed(self) -> np.ndarray:
        return self.code >= 0


def theme_centres(vectors: np.ndarray, themes: Sequence[TaughtTheme], *, rounds: int = REFINE_ROUNDS,
                  pool: np.ndarray | None = None) -> np.ndarray:
    """(k, d) centres of the taught themes: the mean of each theme's examples (and its text vector),
    refined by `rounds` of seeded spherical k-means over the `pool` rows (default: every row) with the
    examples held in their own theme."""
    x = _normalise(vectors)
    centres = []
    for t in themes:
        parts = [x[list(t.examples)]] if t.examples else []
        if t.text_vector is not None:
            parts.append(_normalise(np.asarray(t.text_vector)[None, :]))
        centres.append(np.vstack(parts).mean(axis=0))
    c = _normalise(np.asarray(centres))
    if rounds <= 0 or len(themes) < 2:
        return c
    pool_rows = np.arange(len(x)) if pool is None else np.asarray(pool)
    held = {row: k for k, t in enumerate(themes) for row in t.examples}
    for _ in range(rounds):
        assign = (x[pool_rows] @ c.T).argmax(axis=1)
        for row_pos, row in enumerate(pool_rows):
            if row in held:
                assign[row_pos] = held[row]
        new = []
        for k, t in enumerate(themes):
            members = x[pool_rows[assign == k]]
            # The examples count extra: they are the reviewer's word for what the theme is.
            ex = x[list(t.examples)] if t.examples else np.zeros((0, x.shape[1]))
            stack = [members, np.repeat(ex, 2, axis=0)] if len(ex) else [members]
            if t.text_vector is not None:
                stack.append(_normalise(np.asarray(t.text_vector)[None, :]).repeat(2, axis=0))
            allv = np.vstack(stack)
            new.append(allv.mean(axis=0) if len(allv) else c[k])
        c = _normalise(np.asarray(new))
    return c


def place_by_examples(vectors: np.ndarray, themes: Sequence[TaughtTheme], *, rounds: int = REFINE_ROUNDS,
                      min_similarity: float = MIN_SIMILARITY, min_margin: float = MIN_MARGIN) -> ExamplePlacement:
    """Place passages in the taught themes they are clearly closest to; the rest stay for clustering."""
    n = len(vectors)
    if not themes or n == 0:
        return ExamplePlacement(np.full(n, -1), np.zeros(n), np.full(n, -1))
    c = theme_centres(vectors, themes, rounds=rounds)
    sims = _normalise(vectors) @ c.T
    order = np.argsort(-sims, axis=1, kind="stable")
    best = order[:, 0]
    best_sim = sims[np.arange(n), best]
    runner = sims[np.arange(n), order[:, 1]] if len(themes) > 1 else np.full(n, -1.0)
    confident = (best_sim >= min_similarity) & (best_sim - runner >= min_margin)
    theme = np.where(confident, best, -1)
    for k, t in enumerate(themes):  # examples stay in their own theme
        theme[list(t.examples)] = k
    return ExamplePlacement(theme, best_sim.astype(np.float32), best)
