"""The lexical view (synth.lexical) and the consensus-ward-lexical clusterer built on it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from synth.cluster import ClusteringError
from synth.clusterers import ConsensusWard, ConsensusWardCotrain, ConsensusWardLexical, cluster_with
from synth.lexical import hybrid, lexical_view

TOPICS = {
    "transport": ["bus", "timetable", "fare", "route", "shuttle", "station"],
    "language": ["interpreter", "english", "esol", "translation", "urdu", "classes"],
    "digital": ["email", "computer", "online", "laptop", "internet", "password"],
}
FILLER = ["the", "was", "really", "quite", "and", "it", "for", "me", "a", "very"]


def corpus(per_topic: int = 24, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Passages that share their topic's words (three of six per passage), among stop words."""
    rng = np.random.default_rng(seed)
    texts, truth = [], []
    for t, words in enumerate(TOPICS.values()):
        for _ in range(per_topic):
            chosen = list(rng.choice(words, 3, replace=False)) + list(rng.choice(FILLER, 4))
            rng.shuffle(chosen)
            texts.append(" ".join(chosen))
            truth.append(t)
    return texts, np.array(truth)


def test_passages_sharing_topic_words_are_close_in_the_lexical_view():
    texts, truth = corpus()
    L = lexical_view(texts)
    assert L.shape[0] == len(texts) and L.shape[1] >= 2
    S = L @ L.T
    same = S[truth[:, None] == truth[None, :]].mean()
    other = S[truth[:, None] != truth[None, :]].mean()
    assert same > other + 0.4, (same, other)


def test_a_passage_without_a_shared_word_has_no_lexical_evidence():
    texts, _ = corpus()
    L = lexical_view([*texts, "the and it", "zebra"])  # stop words only; a word nobody else uses
    assert np.allclose(L[-2:], 0)
    assert np.allclose(np.linalg.norm(L[:-2], axis=1), 1, atol=1e-4)


def test_tiny_or_wordless_corpora_give_an_empty_view():
    assert lexical_view(["one", "two"]).shape == (2, 0)
    assert lexical_view(["the", "and", "it", "a"]).shape == (4, 0)


def test_hybrid_similarity_is_the_weighted_sum_of_both_cosines():
    rng = np.random.default_rng(1)
    V = rng.normal(size=(10, 16)).astype(np.float32)
    L = rng.normal(size=(10, 5)).astype(np.float32)
    L /= np.linalg.norm(L, axis=1, keepdims=True)
    H = hybrid(V, L, 0.7)
    U = V / np.linalg.norm(V, axis=1, keepdims=True)
    assert np.allclose(H @ H.T, 0.7 * (U @ U.T) + 0.3 * (L @ L.T), atol=1e-5)
    with pytest.raises(ValueError, match="weight=0"):
        hybrid(V, L, 0)


def test_shared_topic_words_group_passages_the_embedding_alone_cannot():
    """Embeddings with no topic signal (random): Ward alone cannot recover the topics, the lexical
    clusterer can, and its centroids live in the embedding's space, not the joined one."""
    texts, truth = corpus()
    V = np.random.default_rng(2).normal(size=(len(texts), 32)).astype(np.float32)
    groups = np.arange(len(texts)) % 12
    plain = ConsensusWard(n_themes=3, min_theme_size=5).fit(V, groups=groups).clustering_
    lexical = ConsensusWardLexical(n_themes=3, min_theme_size=5, lexical_weight=0.5).fit(
        V, groups=groups, texts=texts).clustering_
    assert adjusted_rand_score(truth, plain.nearest) < 0.3
    assert adjusted_rand_score(truth, lexical.nearest) > 0.8
    assert lexical.centroids.shape == (lexical.n_themes, V.shape[1])
    assert np.allclose(np.linalg.norm(lexical.centroids, axis=1), 1, atol=1e-4)
    assert lexical.stats["clusterer"] == "consensus-ward-lexical"


def test_the_lexical_clusterer_needs_one_text_per_passage():
    texts, _ = corpus()
    V = np.random.default_rng(3).normal(size=(len(texts), 8)).astype(np.float32)
    with pytest.raises(ClusteringError, match="one text per passage"):
        ConsensusWardLexical().fit(V)
    with pytest.raises(ClusteringError, match="got 3 for 72"):
        cluster_with("consensus-ward-lexical", V, texts=texts[:3])


def test_same_seed_same_lexical_themes():
    texts, _ = corpus(seed=4)
    V = np.random.default_rng(4).normal(size=(len(texts), 16)).astype(np.float32)
    a, b = (cluster_with("consensus-ward-lexical", V, texts=texts, seed=9) for _ in range(2))
    for name in ("labels", "nearest", "probability", "centroids"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name


def test_the_word_pass_moves_a_passage_to_the_theme_whose_words_it_shares():
    """Passages whose embedding sits halfway between two themes go, in the word pass, to the theme
    whose distinctive words they use."""
    texts, truth = corpus(per_topic=30, seed=5)
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(3, 24))
    V = centres[truth] + 0.3 * rng.normal(size=(len(truth), 24))
    between = np.flatnonzero(truth == 2)[:6]
    V[between] = (centres[0] + centres[2]) / 2 + 0.05 * rng.normal(size=(6, 24))
    V = V.astype(np.float32)
    model = ConsensusWardLexical(n_themes=3, min_theme_size=5, lexical_weight=1.0, word_pass=0.5).fit(V, texts=texts)
    found = model.clustering_
    assert model.labels_ is found.labels  # the fit contract's labels are the pass's, not the partition's
    home = np.bincount(found.nearest[truth == 2][6:]).argmax()  # the theme of topic 2's other passages
    assert (found.nearest[between] == home).all(), (found.nearest[between], home)
    assert found.centroids.shape == (found.n_themes, 24)
    assert found.stats["theme_sizes"] == np.bincount(found.labels[found.labels >= 0], minlength=found.n_themes).tolist()


@pytest.mark.slow
def test_discover_with_the_lexical_clusterer_end_to_end(tmp_path):
    """`synth discover --clusterer consensus-ward-lexical` on the demo: themes with placed passages,
    most passages placed."""
    from conftest import DEMO, Synth
    from synth.store import Project

    path = tmp_path / "demo.synth"
    synth = Synth()
    synth.ok("ingest", path, DEMO)
    synth.ok("discover", path, "--seed", "42", "--clusterer", "consensus-ward-lexical")
    with Project.open(path, create=False) as project:
        themes = project.themes()
        placed = sum(len(project.memberships(theme_id=t.id, placed=True)) for t in themes)
    assert len(themes) >= 5
    assert placed >= 200, placed  # of the demo's 273 codable passages


def test_co_training_recovers_the_topics_a_noisy_partition_mixed():
    """Embeddings with a weak topic signal and a partition with a quarter of the passages in the
    wrong theme: the word classifier puts them back, the embedding learns from it, and the two views
    agree on the topics within a few rounds. A passage without a shared word (no lexical evidence)
    does not disturb them."""
    from synth.lexical import co_train, word_weights

    texts, truth = corpus(seed=6)
    texts[0] = "zebra"
    rng = np.random.default_rng(6)
    V = (rng.normal(size=(3, 32))[truth] * 0.8 + rng.normal(size=(len(texts), 32))).astype(np.float32)
    start = truth.copy()
    wrong = rng.choice(len(texts), len(texts) // 4, replace=False)
    start[wrong] = (start[wrong] + 1) % 3
    found, rounds = co_train(V, word_weights(texts), start)
    assert adjusted_rand_score(truth, start) < 0.6
    assert adjusted_rand_score(truth, found) > 0.9
    assert 1 <= rounds <= 10


def test_the_co_training_clusterer_is_seed_free_and_keeps_wards_placement():
    texts, truth = corpus(seed=7)
    rng = np.random.default_rng(7)
    V = (rng.normal(size=(3, 32))[truth] * 0.8 + rng.normal(size=(len(texts), 32))).astype(np.float32)
    groups = np.arange(len(texts)) % 12
    a, b = (cluster_with("consensus-ward-cotrain", V, group_ids=groups, texts=texts, seed=s) for s in (1, 2))
    for name in ("labels", "nearest", "probability", "centroids"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    ward = ConsensusWard().fit(V, groups=groups).clustering_
    assert ((a.labels >= 0) == (ward.labels >= 0)).all()  # Ward's placed / unplaced split stands
    three = ConsensusWardCotrain(n_themes=3, min_theme_size=5).fit(V, groups=groups, texts=texts)
    assert adjusted_rand_score(truth, three.clustering_.nearest) > 0.9
    assert three.labels_ is three.clustering_.labels
    assert a.stats["clusterer"] == "consensus-ward-cotrain"
    assert np.allclose(np.linalg.norm(a.centroids, axis=1), 1, atol=1e-4)
    with pytest.raises(ClusteringError, match="consensus-ward-cotrain needs one text per passage"):
        cluster_with("consensus-ward-cotrain", V, texts=texts[:3])


@pytest.mark.slow
def test_discover_with_the_co_training_clusterer_end_to_end(tmp_path):
    """`synth discover --clusterer consensus-ward-cotrain` on the demo: themes with placed passages."""
    from conftest import DEMO, Synth
    from synth.store import Project

    path = tmp_path / "demo.synth"
    synth = Synth()
    synth.ok("ingest", path, DEMO)
    synth.ok("discover", path, "--seed", "42", "--clusterer", "consensus-ward-cotrain")
    with Project.open(path, create=False) as project:
        themes = project.themes()
        placed = sum(len(project.memberships(theme_id=t.id, placed=True)) for t in themes)
    assert len(themes) >= 5
    assert placed >= 200, placed
