"""The word view of the learned category model (synth/word_view.py, learn.with_word_view): negation
marking, the TF-IDF rows, and what it adds to the learned model where the embedding carries no side."""

from __future__ import annotations

import numpy as np
import pytest

from synth import learn
from synth.records import CATEGORIES
from synth.word_view import negation_marked, word_matrix, words_and_pairs


def test_negation_marks_every_word_up_to_punctuation_or_a_contrast() -> None:
    assert negation_marked("I couldn't fault the staff, but the food was not good. Never again!") == \
        ["i", "couldn't", "not_fault", "not_the", "not_staff", "but", "the", "food", "was", "not", "not_good",
         "never", "not_again"]
    # A typed apostrophe and one left out negate alike; "but" ends the scope without a comma.
    assert negation_marked("Can\u2019t complain") == ["can't", "not_complain"]
    assert negation_marked("cant complain") == ["cant", "not_complain"]
    assert negation_marked("Not quick but kind") == ["not", "not_quick", "but", "kind"]
    assert negation_marked("not helpful. helpful") == ["not", "not_helpful", "helpful"]  # a full stop ends it
    assert "not_very not_helpful" in words_and_pairs("Staff were not very helpful")


def test_the_word_matrix_keeps_a_negated_word_apart_and_needs_words_seen_twice() -> None:
    m = word_matrix(["The nurse was helpful.", "The nurse was not helpful.", "Helpful staff.", "Not helpful at all."])
    assert m.shape[0] == 4 and np.allclose(np.asarray(m.multiply(m).sum(axis=1)).ravel(), 1.0)
    # "helpful" (twice) and "not_helpful" (twice) are separate columns: rows 0 and 1 differ in them.
    assert (m[0] != m[1]).nnz > 0
    assert word_matrix(["one", "two"]) is None  # no word in two passages: no view


def test_the_word_view_moves_only_the_side() -> None:
    probs = np.array([[0.5, 0.2, 0.2, 0.1], [0.1, 0.1, 0.7, 0.1]])   # CATEGORIES order
    words = np.array([[0.05, 0.85, 0.05, 0.05], [0.3, 0.3, 0.2, 0.2]])
    b, e = CATEGORIES.index("barrier"), CATEGORIES.index("enabler")
    out = learn.with_word_view(probs, words, 0.5)
    assert np.allclose(out.sum(axis=1), 1.0)
    others = [i for i in range(len(CATEGORIES)) if i not in (b, e)]
    assert np.allclose(out[:, others], probs[:, others])                       # practice, context: as they were
    assert np.allclose(out[:, b] + out[:, e], probs[:, b] + probs[:, e])
    assert out[0, e] > out[0, b] and probs[0, e] < probs[0, b]                 # the words turned the side
    assert np.allclose(learn.with_word_view(probs, words, 0.0), probs)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_words_correct_the_machine_where_the_embedding_carries_no_side(seed: int) -> None:
    """Random vectors (no side in them), a machine right on about 85 % of the passages, the side said only by a
    negation: without the passages' texts the learned model follows the machine's mistakes; with them the
    word view, fitted to the same mostly-right pseudo-labels, puts many of those mistakes right."""
    rng = np.random.default_rng(seed)
    topics = ["nurse", "doctor", "ward", "food", "porter", "reception", "pharmacy", "physio"]
    adjectives = ["helpful", "clean", "friendly", "quick", "clear", "kind"]
    negated = rng.random(600) < 0.5
    texts = [f"The {rng.choice(topics)} was {'not ' if n else ''}{rng.choice(adjectives)}." for n in negated]
    truth = np.where(negated, "barrier", "enabler")
    wrong = rng.random(len(texts)) < 0.15
    said = np.where(wrong, np.where(negated, "enabler", "barrier"), truth)
    machine = np.full((len(texts), len(CATEGORIES)), 0.2)  # unsure, as the cues are on a plain short reply
    machine[np.arange(len(texts)), [CATEGORIES.index(c) for c in said]] = 0.4
    vectors = rng.normal(size=(len(texts), 16))
    rows = list(range(20))
    contexts = [("question=Anything else?",)] * len(texts)
    mistakes = [i for i in range(20, len(texts)) if wrong[i]]
    right = {}
    for view, given in (("embedding only", None), ("with words", texts)):
        p = learn.learned_probabilities(vectors, machine, rows, list(truth[rows]), contexts=contexts, texts=given)
        pred = np.array(CATEGORIES)[p.argmax(axis=1)]
        right[view] = (int((pred[mistakes] == truth[mistakes]).sum()), float((pred[20:] == truth[20:]).mean()))
    assert len(mistakes) >= 20
    fixed_without, fixed_with = right["embedding only"][0], right["with words"][0]
    assert fixed_without <= len(mistakes) // 10, right                          # it follows the machine
    assert fixed_with >= max(5 * fixed_without, len(mistakes) // 5), right     # the words put many right
    assert right["with words"][1] > right["embedding only"][1] + 0.03, right


def test_a_reviewers_corrections_reach_untouched_negated_passages_through_relearn(tmp_path, synth) -> None:
    """A real project file: a survey whose stored vectors carry no side and whose machine categories are wrong
    on about 15 % of passages; `synth passage categorise` relearns, and the untouched passages the machine had on
    the wrong side of a negation move to the right one, each suggestion still naming its nearest taught passages."""
    import hashlib
    import re

    from synth.records import ExtractedDocument, PassageSpan
    from synth.store import Project, now_iso

    rng = np.random.default_rng(5)
    topics = ["nurse", "doctor", "ward", "food", "porter", "reception", "pharmacy", "physio"]
    adjectives = ["helpful", "clean", "friendly", "quick", "clear", "kind"]
    negated = rng.random(400) < 0.5
    passages = [f"The {rng.choice(topics)} was {'not ' if n else ''}{rng.choice(adjectives)} ({i})."
                for i, n in enumerate(negated)]
    truth = np.where(negated, "barrier", "enabler")
    wrong = rng.random(len(passages)) < 0.15
    said = np.where(wrong, np.where(negated, "enabler", "barrier"), truth)
    sha = lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest()
    path = tmp_path / "survey.synth"
    with Project.open(path) as project, project.transaction():
        project.add_run(started_at=now_iso(), seed=0, model_id="test-model", params={}, stats={}, report={})
        text, spans = "", []
        for s in passages:
            spans.append(PassageSpan(len(text), len(text) + len(s), s))
            text += s + "\n\n"
        doc = ExtractedDocument(name="answers", path="answers.csv", kind="survey", text=text, sha256=sha(text),
                                metadata={"question": "Anything else?"})
        _, ids = project.add_source(doc, spans, [sha(s.text) for s in spans])
        project.store_embeddings("test-model", {sha(s): rng.normal(size=16).astype(np.float32) for s in passages})
        for pid, c in zip(ids, said):
            scores = {k: 0.2 for k in CATEGORIES}
            scores[c] = 0.4
            project.set_passage_category(pid, c, scores, [])
    taught = list(range(20))
    for side in ("barrier", "enabler"):
        chosen = [str(ids[i]) for i in taught if truth[i] == side]
        synth.ok("passage", "categorise", path, *chosen, "--as", side, "--reviewer", "alice")
    mistakes = [i for i in range(20, len(passages)) if wrong[i]]
    with Project.open(path, create=False) as project:
        learned = project.learned_categories([ids[i] for i in mistakes])
    fixed = [i for i in mistakes if learned[ids[i]]["category"] == truth[i]]
    assert len(mistakes) >= 30 and len(fixed) >= len(mistakes) // 5, (len(fixed), len(mistakes))
    named = re.findall(r"passage (\d+) \(", learned[ids[fixed[0]]]["reasons"][-1])
    assert named and {int(n) for n in named} <= {ids[i] for i in taught}
