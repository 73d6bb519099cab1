"""benchmarks.learning_views: the variants of the learned category model it measures compute what
its docstring says (small synthetic arrays; the figures themselves are in docs/benchmarks.md)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import learning_views as views
from synth import learn
from synth.records import CATEGORIES
from synth.vectors import unit


def _toy(n: int = 60, dim: int = 8, seed: int = 0):
    """Two questions; within each, the side is carried by one embedding axis (a different one per question)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    question = np.arange(n) % 2
    side = rng.random(n) < 0.5
    x[np.arange(n), question] += np.where(side, 3.0, -3.0)  # question 0: axis 0, question 1: axis 1
    truth = np.where(side, "enabler", "barrier")
    machine = np.full((n, len(CATEGORIES)), 0.25)
    contexts = [(f"question=Q{q}",) for q in question]
    return x, machine, truth, contexts, question


def test_the_polarity_columns_follow_the_taught_sides_within_each_stratum() -> None:
    x, _, truth, contexts, question = _toy()
    strata = learn.context_strata(contexts, len(x))
    rows = np.arange(20)
    cols = views._polar_columns(unit(x, np.float64), strata, rows, truth[rows])
    rest = np.arange(20, len(x))
    positive = truth[rest] == "enabler"
    # The per-stratum column ranks the untouched passages by side (the axis differs per question).
    assert cols[rest][positive, 1].min() > cols[rest][~positive, 1].max()
    # Nothing taught on one side: no direction, zeros.
    assert not views._polar_columns(x, strata, rows[:3], np.array(["barrier"] * 3)).any()


def test_per_stratum_slopes_add_one_copy_of_the_embedding_per_stratum(monkeypatch) -> None:
    x, machine, truth, contexts, question = _toy(seed=1)
    rows = list(range(24))
    assert views.variant("base") is learn.learned_probabilities
    seen = {}
    fit = learn._fit_on_pseudo_labels

    def spy(features, *args):
        seen["features"] = features
        return fit(features, *args)

    monkeypatch.setattr(learn, "_fit_on_pseudo_labels", spy)
    probs = views.variant("daume:0.5")(x, machine, rows, list(truth[rows]), contexts=contexts)
    assert probs.shape == (len(x), len(CATEGORIES)) and np.allclose(probs.sum(axis=1), 1.0)
    dim, f = x.shape[1], seen["features"]
    # [shared unit embedding, machine log-scores, context one-hot (2 questions), one copy per question]
    assert f.shape == (len(x), dim + len(CATEGORIES) + 2 + 2 * dim)
    shared, copies = f[:, :dim], f[:, -2 * dim:]
    for q in (0, 1):
        block = copies[:, q * dim:(q + 1) * dim]
        assert not block[question != q].any()
        assert np.allclose(block[question == q], 0.5 * shared[question == q])


def test_the_question_view_falls_back_to_the_main_model_without_questions_and_names_are_checked() -> None:
    x, machine, truth, contexts, _ = _toy(seed=2)
    rows = list(range(20))
    shipped = views.variant("main")(x, machine, rows, list(truth[rows]), contexts=contexts)
    assert np.allclose(views.variant("qa:1", None)(x, machine, rows, list(truth[rows]), contexts=contexts), shipped)
    with pytest.raises(SystemExit, match="unknown variant"):
        views.variant("nli")


def test_stand_in_question_wordings_follow_the_share_of_positive_answers() -> None:
    ids = ["A"] * 10 + ["B"] * 10 + ["C"] * 10
    positive = np.array([True] * 2 + [False] * 8 + [True] * 10 + [True] * 6 + [False] * 4)
    assert views.stand_in_questions(ids, positive) == {"A": views.STAND_IN["better"], "B": views.STAND_IN["good"],
                                                       "C": views.STAND_IN["other"]}


def test_the_word_variants_are_the_shipped_model_with_and_without_the_word_view() -> None:
    x, machine, truth, contexts, _ = _toy(seed=3)
    rows = list(range(20))
    texts = [f"The ward was {'not ' if t == 'barrier' else ''}clean." for t in truth]
    args = (x, machine, rows, list(truth[rows]))
    shipped = learn.learned_probabilities(*args, contexts=contexts, texts=texts)
    assert np.allclose(views.variant(f"words:{learn.WORD_WEIGHT}")(*args, contexts=contexts, texts=texts), shipped)
    before = views.variant("nowords")(*args, contexts=contexts, texts=texts)
    assert np.allclose(before, learn.learned_probabilities(*args, contexts=contexts))
    assert not np.allclose(before, shipped)
