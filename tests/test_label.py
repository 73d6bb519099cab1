"""describe_themes: readable labels, draft definitions, top terms and traceable, cross-source quotes.

The end-to-end test embeds a small interview-like corpus with the real bundled model, clusters it
and describes it, as `synth discover` does.
"""

from __future__ import annotations

import numpy as np
import pytest
from spacy.lang.en.stop_words import STOP_WORDS

from synth.cluster import Clustering, ClusterParams, cluster_passages
from synth.label import ThemeDescription, describe_themes, is_label_word
from synth.nlp import lemmatise
from synth.label_phrases import candidate_phrases
from synth.label_spans import label_locations

# Four ideas, each raised in two passages by each of five interviewees (sources 0-4).
CORPUS = {
    "childcare": [
        "Childcare costs more than I would earn in the first months of the job.",
        "The nursery fees are so high that working part time barely pays.",
        "I could not find a childminder who would take my son before eight in the morning.",
        "Paying for childcare up front, before the first wage arrives, was the hardest part.",
        "Without affordable childcare there is no way I can accept evening shifts.",
        "The childcare support only covers registered nurseries, and there are none near us.",
        "My daughter's nursery closes at five, but the warehouse shift ends at six.",
        "Childcare for three children costs almost as much as the rent.",
        "Grandparents look after the kids, but they cannot do it every day of the week.",
        "The nursery waiting list was nine months long, so I turned the job down.",
    ],
    "transport": [
        "There is no bus early enough to get me to the factory for a seven o'clock start.",
        "The train fare to the city centre eats a quarter of my weekly wages.",
        "Without a car you simply cannot reach the industrial estate on the ring road.",
        "The last bus home leaves before my shift finishes, so I would be stranded.",
        "Travel costs to interviews add up quickly when every bus ticket is four pounds.",
        "The bus route to the business park was cut last year.",
        "I cycle twelve miles to work because the buses are unreliable and expensive.",
        "Rural villages have one bus a day, which makes shift work impossible.",
        "Getting a driving licence and a car would double the jobs I could apply for.",
        "The commute by two buses takes ninety minutes each way.",
    ],
    "digital": [
        "I do not have a computer at home, so filling in online job applications is hard.",
        "The online benefit journal keeps logging me out and I lose my work.",
        "Most employers now only accept applications through their websites.",
        "I had to learn to upload a CV on my phone, which took weeks.",
        "The library computers are booked up, so I cannot search for jobs online.",
        "Mobile data runs out before the end of the month, and then I cannot apply for anything online.",
        "Nobody showed me how to create an email account for the job websites.",
        "The online forms time out before I can finish typing my work history.",
        "A basic computer skills course at the jobcentre helped me apply online.",
        "Video interviews on the laptop were new to me and the connection kept dropping.",
    ],
    "mental_health": [
        "My anxiety makes it very hard to walk into an interview room.",
        "Depression meant some weeks I could not get out of bed, let alone look for work.",
        "The work coach noticed my low mood and referred me to a counsellor.",
        "Panic attacks on crowded trains stopped me from keeping my last job.",
        "Waiting lists for talking therapy are months long in this area.",
        "Being out of work for so long has really affected my confidence and self-esteem.",
        "Stress about money and sanctions made my mental health much worse.",
        "The mental health nurse helped me plan a gradual return to work.",
        "I felt isolated and low after the redundancy and stopped seeing friends.",
        "Support with my anxiety mattered more than any job search training.",
    ],
}


@pytest.fixture(scope="module")
def corpus():
    texts, truth, groups = [], [], []
    for theme, passages in CORPUS.items():
        for i, text in enumerate(passages):
            texts.append(text)
            truth.append(theme)
            groups.append(i // 2)  # interviewee 0 said passages 0-1 of every idea, and so on
    return texts, np.array(truth), np.array(groups)


@pytest.fixture(scope="module")
def embeddings(corpus):
    from synth.embed import Embedder, resolve_model

    return Embedder(resolve_model(), device="cpu").encode(corpus[0])


@pytest.fixture(scope="module")
def described(corpus, embeddings):
    texts, _, groups = corpus
    clustering = cluster_passages(embeddings, group_ids=groups, params=ClusterParams(n_themes=4))
    return clustering, describe_themes(texts, clustering, embeddings, groups, lemmatise(texts))


def test_small_real_corpus_finds_the_ideas_and_places_most_passages(corpus, described):
    _, truth, _ = corpus
    clustering, descriptions = described
    assert clustering.n_themes == 4 and len(descriptions) == 4
    assert clustering.stats["coverage"] >= 0.8
    for j in range(clustering.n_themes):
        values, counts = np.unique(truth[clustering.nearest == j], return_counts=True)
        assert counts.max() / counts.sum() >= 0.7, (j, dict(zip(values, counts)))


def test_labels_are_short_key_phrases_without_stop_words_or_numbers(described):
    _, descriptions = described
    for d in descriptions:
        assert isinstance(d, ThemeDescription)
        words = d.label.replace(",", " ").split()
        assert 1 <= len(words) <= 6, d.label
        for word in words:
            assert word.isalpha() and word not in STOP_WORDS, (word, d.label)
        for term in d.top_terms:
            assert all(is_label_word(w) for w in term.split()), term


def test_labels_name_the_idea(corpus, described):
    _, truth, _ = corpus
    clustering, descriptions = described
    expected = {"childcare": {"childcare", "nursery"}, "transport": {"bus", "car", "train", "commute"},
                "digital": {"online", "computer", "website"},
                "mental_health": {"anxiety", "mental", "health", "confidence", "depression"}}
    for j, d in enumerate(descriptions):
        idea = max(expected, key=lambda name: np.sum(truth[clustering.labels == j] == name))
        terms = {w for t in d.top_terms[:5] for w in t.split()}
        assert terms & expected[idea], (idea, d.label, d.top_terms)


def test_quotes_are_central_members_from_several_sources(corpus, described):
    _, _, groups = corpus
    clustering, descriptions = described
    for j, d in enumerate(descriptions):
        assert 1 <= len(d.quote_indices) <= 5
        assert len(set(d.quote_indices)) == len(d.quote_indices)
        assert all(clustering.labels[i] == j for i in d.quote_indices)
        sources_in_theme = len(np.unique(groups[clustering.labels == j]))
        assert len({groups[i] for i in d.quote_indices}) == min(len(d.quote_indices), sources_in_theme)


def test_definition_is_one_draft_sentence_with_counts(described):
    clustering, descriptions = described
    for j, d in enumerate(descriptions):
        assert d.definition.startswith("Draft: ") and d.definition.endswith(").")
        assert d.definition.count(". ") == 0
        assert f"{int(np.sum(clustering.labels == j))} passages" in d.definition


def synthetic_clustering(theme_of: list[int], k: int, dim: int = 8) -> tuple[Clustering, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = np.eye(dim)[:k]
    labels = np.array(theme_of)
    X = centres[labels] + 0.05 * rng.normal(size=(len(labels), dim))
    return Clustering(labels, labels.copy(), np.ones(len(labels)), centres.astype(np.float32), {}), X


def test_one_source_vocabulary_and_boilerplate_do_not_make_the_label():
    # Theme 0: five sources talk about council tax debt; source 0 always names its own programme.
    texts = [
        "Zephyrline programme staff said council tax debt was growing.",
        "Zephyrline programme staff said council tax debt kept rising.",
        "Zephyrline programme staff said council tax debt frightened families.",
        "Report: council tax debt left the family in trouble.",
        "Report: council tax debt and eviction notices arrived together.",
        "Report: council tax debt worries every tenant we met.",
        "Report: council tax debt doubled after the benefit cap.",
        "Report: bus timetables changed and routes were cut.",
        "Report: bus routes to the estate were cut in 2019.",
        "Report: bus fares rose while routes were cut.",
    ]
    groups = np.array([0, 0, 0, 1, 2, 3, 4, 1, 2, 3])
    clustering, X = synthetic_clustering([0] * 7 + [1] * 3, 2)
    descriptions = describe_themes(texts, clustering, X, groups, lemmatise(texts))
    rent, bus = descriptions
    assert "zephyrline" not in " ".join(rent.top_terms)  # one source's word, however often it says it
    assert "report" not in rent.label and "report" not in bus.label  # in every passage: boilerplate
    assert "council tax" in rent.label
    assert "bus" in bus.label
    assert not any(ch.isdigit() for ch in bus.label + " ".join(bus.top_terms))


def test_near_duplicate_quotes_are_skipped_and_unplaced_themes_use_nearest():
    texts = ["Council tax debt grew."] * 4 + ["Council tax debt is growing fast in the north."]
    groups = np.array([0, 1, 2, 3, 4])
    rng = np.random.default_rng(0)
    X = np.tile(rng.normal(size=8), (5, 1))
    X[4] += 0.5 * rng.normal(size=8)
    centroid = (X[0] / np.linalg.norm(X[0])).astype(np.float32)[None, :]
    clustering = Clustering(np.full(5, -1), np.zeros(5, int), np.full(5, 0.2), centroid, {})
    (d,) = describe_themes(texts, clustering, X, groups, lemmatise(texts))
    assert d.quote_indices == (0, 4)


def test_mismatched_inputs_are_refused():
    clustering, X = synthetic_clustering([0, 0, 1], 2)
    with pytest.raises(ValueError, match="must match"):
        describe_themes(["a", "b"], clustering, X, np.zeros(3), [["a"], ["b"], ["c"]])


def test_accented_words_stay_whole_in_label_candidates_and_locations():
    # "crèche" was read as the two words "cr" and "che", so a theme about crèche places was labelled "Cr che".
    phrases = candidate_phrases("The crèche places at the community centre helped naïve applicants.")
    assert "crèche places" in phrases and "naïve applicants" in phrases
    assert not any(" che" in p or p.startswith("cr ") for p in phrases)
    assert label_locations("Crèche places", ["Full: the crèche places were full."]) == [(0, 10, 23)]
