"""A theme's label names what its passages share, not an instance one or two sources name
(issue 13, item 4; branch labels4): "Family member" for a childcare theme, "Warehouse jobs" for a
transport one. Candidates are credited for words most of the theme's sources and passages use."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np

from synth.label_phrases import (_content_words, _cut_short, _idea_phrases, _key, _shared, _shared_words,
                                 candidate_phrases, phrase_labels)
from synth.label_spans import label_locations, singular

# Four sources speak of childcare costs; two of them mention a family member in passing.
TEXTS = [
    "Our learners are mothers with young children and childcare costs too much.",
    "Childcare costs keep women from classes; a family member cannot always help.",
    "She left the course when a family member fell ill, and childcare costs rose too.",
    "Childcare costs are the main reason parents stop looking for work.",
    "The bus to the business park does not run at night.",
    "No bus to the business park after the evening shift.",
    "The bus to the business park is late again.",
    "Buses to the business park stop at six.",
    "Volunteers help people set up an email account.",
    "The library lends laptops for an email account.",
    "An email account was needed to apply online.",
    "Nobody had shown her how to open an email account.",
]
GROUPS = np.arange(12)
MEMBERS = [np.arange(4), np.arange(4, 8), np.arange(8, 12)]
CENTROIDS = np.eye(8, dtype=np.float32)[:3]
X = CENTROIDS[[0] * 4 + [1] * 4 + [2] * 4]


def _encode(phrases: list[str]) -> np.ndarray:
    """The instance sits right at the theme's centre, the shared idea near it (cosine 0.85), every
    other phrase far off: the model alone would pick the instance."""
    e = np.eye(8, dtype=np.float32)
    out = []
    for p in phrases:
        p = p.lower()
        out.append(e[0] if p == "family member" else 0.85 * e[0] + np.sqrt(1 - 0.85 ** 2) * e[4]
                   if p.startswith("childcare cost") else e[1] if "business park" in p
                   else e[2] if "email account" in p else e[3])
    return np.stack(out)


def test_words_the_sources_share_outweigh_an_instance_near_the_centre():
    labels = phrase_labels(TEXTS, MEMBERS, CENTROIDS, X, GROUPS, _encode)
    assert labels[0].phrase == "Childcare costs", labels
    assert "business park" in labels[1].phrase.lower(), labels
    assert labels[2].phrase.lower() == "email account", labels
    # Traceable: said in all four sources of the theme, where label_locations finds it.
    found = label_locations(labels[0].phrase, [TEXTS[i] for i in MEMBERS[0]])
    assert len({GROUPS[MEMBERS[0][k]] for k, _, _ in found}) == 4


def test_shared_words_are_measured_over_sources_and_passages_against_all_themes():
    words_of = {i: _content_words(t) for i, t in enumerate(TEXTS)}
    alone = _shared_words(MEMBERS[0], words_of, GROUPS)
    assert alone["childcare"] == 1.0 and alone["cost"] == 1.0  # every source, every passage ("costs": singular)
    assert alone["family"] == 0.5 and alone["member"] == 0.5
    assert _shared("childcare costs", alone) == 1.0
    assert _shared("family member", alone) == 0.5
    assert _shared("young children", alone) == 0.5 * (0.5 * (0.25 + 0.25) + 0.25)  # mean and least shared word
    assert _shared("the of", alone) == 0.0  # no content word: no credit
    # Against all themes: a word in a third of the corpus counts a third less.
    share = {"childcare": 4 / 12, "family": 2 / 12}
    against = _shared_words(MEMBERS[0], words_of, GROUPS, share)
    assert abs(against["childcare"] - (1 - 4 / 12)) < 1e-9 and abs(against["family"] - (0.5 - 2 / 12)) < 1e-9
    # A source that says a word in many passages does not make it shared across sources.
    report = {0: frozenset({"family"}), 1: frozenset({"family"}), 2: frozenset({"family"}), 3: frozenset({"childcare"})}
    long_report = _shared_words(np.arange(4), report, np.array([0, 0, 0, 1]))
    assert long_report["family"] == 0.5 * (1 / 2 + 3 / 4)


def test_a_candidate_most_passages_go_on_from_is_half_a_name():
    """Bills: "Food and Drug" beat "Food and Drug Administration" once the common word "administration"
    counted against the full name; two of three passages going on with one word make it half a name."""
    texts = ["The Food and Drug Administration shall act.", "the Food and Drug Administration may",
             "food and drug safety rules"]
    assert _cut_short("food and drug", texts, [0, 1, 2])
    assert not _cut_short("food and drug", texts, [0, 2])  # one in two: a name of its own
    assert not _cut_short("food and drug", ["Food and drug."] * 3, [0, 1, 2])  # said as a whole
    assert not _cut_short("business park", ["the business park is", "business park the"], [0, 1])  # a stop word follows


# Issue 13 item 4 (branch labels13): the demo's transport theme was labelled "Warehouse jobs", the
# only phrase two of its sources repeat; four of its five sources say "bus" or "buses", in no phrase
# two of them share.
TRANSPORT = [
    "The bus fare is a lot, and the warehouse jobs are out where the buses don't go.",
    "No buses to the business park at night.",
    "The bus took over an hour each way.",
    "I was an engineer but they only offered me warehouse jobs.",
    "We are on a business park with poor bus links for night shifts.",
]
OTHERS = [
    "Volunteers help people set up an email account.",
    "The library lends laptops for an email account.",
    "An email account was needed to apply online.",
    "Nobody had shown her how to open an email account.",
    "Her daughter made an email account for her.",
    "The mentoring scheme paired learners with mentors.",
    "Mentors met learners weekly in the mentoring scheme.",
    "A mentoring scheme helped young people.",
    "Her mentor from the scheme found her a placement.",
    "Learners valued the mentoring scheme.",
]


def _encode_transport(phrases: list[str]) -> np.ndarray:
    """The detail and the idea are equally close to the theme's centre (cosine 0.8, as on the demo,
    where both were 0.48); the model alone does not tell them apart."""
    e = np.eye(8, dtype=np.float32)
    out = []
    for k, p in enumerate(phrases):
        p = p.lower()
        if p == "warehouse jobs":
            out.append(0.8 * e[0] + 0.6 * e[5])
        elif p.startswith("buses to the business park"):
            out.append(0.8 * e[0] + 0.6 * e[6])
        else:
            out.append(e[1] if "email" in p else e[2] if "mentor" in p else e[3])
    return np.stack(out)


def test_a_phrase_carrying_the_word_most_sources_say_names_the_theme_over_a_detail_two_repeat():
    texts = TRANSPORT + OTHERS
    members = [np.arange(5), np.arange(5, 10), np.arange(10, 15)]
    centroids = np.eye(8, dtype=np.float32)[:3]
    x = centroids[[0] * 5 + [1] * 5 + [2] * 5]
    labels = phrase_labels(texts, members, centroids, x, np.arange(15), _encode_transport)
    assert labels[0].phrase == "Buses to the business park", labels  # main: "Warehouse jobs"
    assert labels[1].phrase.lower() == "email account" and labels[2].phrase.lower() == "mentoring scheme", labels
    # Traceable: the label is said verbatim where it says it came from, and its head word in most sources.
    assert [i for i, _, _ in label_locations(labels[0].phrase, texts)] == list(labels[0].passages) == [1]
    assert sum(bool(re.search(r"\bbus(es)?\b", t, re.I)) for t in TRANSPORT) == 4


def test_an_idea_phrase_has_the_idea_as_its_head_and_no_word_of_one_source():
    words_of = {i: _content_words(t) for i, t in enumerate(TRANSPORT)}
    shared = _shared_words(np.arange(5), words_of, np.arange(5))
    sources = {w: sum(w in ws for ws in words_of.values()) for w in shared}
    where = {_key(p): [i] for i, t in enumerate(TRANSPORT) for p in candidate_phrases(t)}
    surface = defaultdict(Counter, {k: Counter({k: 1}) for k in where})
    everywhere = Counter({k: 1 for k in where})
    found = [key for key, *_ in _idea_phrases(where, surface, shared, ["warehouse job", "business park"],
                                              np.arange(5), everywhere, sources)]
    assert "bus to the business park" in found, found
    # "bus fare", "poor bus links": the head is another word; "bus" alone is no phrase.
    assert not {"bus fare", "poor bus link", "bus link"} & set(found), found
    # A word the recurring candidates carry is no idea to add.
    assert not _idea_phrases(where, surface, shared, ["bus fare"], np.arange(5), everywhere, sources)


def test_buses_is_the_plural_of_bus():
    assert singular("buses") == singular("bus") == "bus"
    assert singular("excuses") == "excuse" and singular("houses") == "house"  # "-uses" of nouns in "-use"
    assert [i for i, _, _ in label_locations("bus links", ["no buses", "poor bus links", "buses links"])] == [1, 2]
