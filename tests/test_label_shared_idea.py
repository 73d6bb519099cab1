"""A theme's label names what its passages share, not an instance one or two sources name
(issue 13, item 4; branch labels4): "Family member" for a childcare theme, "Warehouse jobs" for a
transport one. Candidates are credited for words most of the theme's sources and passages use."""

from __future__ import annotations

import numpy as np

from synth.label_phrases import _shared, _shared_words, phrase_labels
from synth.label_spans import label_locations

# Four sources speak of childcare costs; two of them mention a family member in passing.
TEXTS = [
    "Our learners are mothers with young children and childcare costs too much.",
    "Childcare costs keep women from classes; a family member cannot always help.",
    "She left the course when a family member fell ill, and childcare costs rose too.",
    "Childcare costs are the main reason parents stop looking for work.",
    "The bus to the business park does not run at night.",
    "No bus to the business park after the evening shift.",
]
GROUPS = np.array([0, 1, 2, 3, 4, 5])
MEMBERS = [np.arange(4), np.array([4, 5])]
CENTROIDS = np.eye(8, dtype=np.float32)[:2]
X = CENTROIDS[[0, 0, 0, 0, 1, 1]]


def _encode(phrases: list[str]) -> np.ndarray:
    """The instance sits right at the theme's centre, the shared idea near it (cosine 0.8), every
    other phrase far off: the model alone would pick the instance."""
    e = np.eye(8, dtype=np.float32)
    out = []
    for p in phrases:
        p = p.lower()
        out.append(e[0] if p == "family member" else 0.8 * e[0] + 0.6 * e[2] if p.startswith("childcare cost")
                   else e[1] if "business park" in p else e[3])
    return np.stack(out)


def test_words_the_sources_share_outweigh_an_instance_near_the_centre():
    labels = phrase_labels(TEXTS, MEMBERS, CENTROIDS, X, GROUPS, _encode)
    assert labels[0].phrase == "Childcare costs", labels
    assert "business park" in labels[1].phrase.lower(), labels
    # Traceable: said in all four sources of the theme, where label_locations finds it.
    found = label_locations(labels[0].phrase, [TEXTS[i] for i in MEMBERS[0]])
    assert len({GROUPS[MEMBERS[0][k]] for k, _, _ in found}) == 4


def test_shared_words_are_measured_over_sources_and_passages():
    shared = _shared_words(MEMBERS[0], TEXTS, GROUPS)
    assert shared["childcare"] == 1.0 and shared["cost"] == 1.0  # every source, every passage ("costs": singular)
    assert shared["family"] == 0.5 and shared["member"] == 0.5
    assert _shared("childcare costs", shared) == 1.0
    assert _shared("family member", shared) == 0.5
    assert _shared("the of", shared) == 0.0  # no content word: no credit
    # A source that says a word in many passages does not make it shared across sources.
    long_report = _shared_words(np.arange(4), ["family member"] * 3 + ["childcare"], np.array([0, 0, 0, 1]))
    assert long_report["family"] < 1.0 and long_report["family"] == 0.5 * (1 / 2 + 3 / 4)
