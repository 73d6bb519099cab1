"""Placement by examples (synth/placement.py): a theme's name and definition count beside its example
passages only where they prove to be evidence on those examples (the bundled model, real text)."""

from __future__ import annotations

import numpy as np
import pytest

from synth import placement
from synth.embed import Embedder, resolve_model

THEMES = {
    "Public transport to work": ["The bus to the job centre only runs twice a day.",
                                 "No bus reaches the industrial estate before the early shift.",
                                 "The last bus home leaves before my shift ends.",
                                 "I could not afford the train fare to interviews."],
    "Childcare costs and hours": ["The nursery fees were more than I would earn.",
                                  "There was no childcare for the school holidays.",
                                  "The childminder closes at five, too early for shifts.",
                                  "Childcare costs made part-time work pointless."],
    "Housing and rent": ["Our landlord put the rent up again this spring.",
                         "We were moved to temporary accommodation miles away.",
                         "The flat is damp and the council never fixed it.",
                         "Half my wages go on rent."],
    "Health and disability": ["My back pain stops me standing for a whole shift.",
                              "I was waiting eight months for a hospital appointment.",
                              "Anxiety makes interviews very hard for me.",
                              "The medication makes me too drowsy to drive."],
}


@pytest.fixture(scope="module")
def taught():
    embedder = Embedder(resolve_model(), device="cpu")
    texts = [t for examples in THEMES.values() for t in examples]
    vectors = embedder.encode(texts)
    rows = np.arange(len(texts)).reshape(len(THEMES), -1)
    names = embedder.encode(list(THEMES))
    generic = embedder.encode([f"Theme {k + 1}" for k in range(len(THEMES))])
    return texts, vectors, rows, names, generic


def _themes(rows, names=None):
    return [placement.TaughtTheme(k, tuple(int(i) for i in r), None if names is None else names[k])
            for k, r in enumerate(rows)]


def test_names_that_describe_the_examples_count_beside_them(taught) -> None:
    texts, vectors, rows, names, _ = taught
    themes = _themes(rows, names)
    assert placement.names_are_evidence(vectors, themes)
    assert placement.text_weight(vectors, themes) > 0
    placed = placement.place_by_examples(vectors, themes, texts)
    assert placed.text_weight > 0
    assert list(placed.code) == [k for k in range(len(THEMES)) for _ in rows[k]]  # examples stay where taught


@pytest.mark.parametrize("kind", ["shuffled", "generic"])
def test_names_that_say_nothing_about_the_examples_count_for_nothing(taught, kind: str) -> None:
    texts, vectors, rows, names, generic = taught
    wrong = names[[1, 2, 3, 0]] if kind == "shuffled" else generic  # another theme's name, or "Theme 2"
    themes = _themes(rows, wrong)
    assert not placement.names_are_evidence(vectors, themes)
    assert placement.text_weight(vectors, themes) == 0.0
    with_wrong = placement.theme_scores(vectors, themes, texts, spread=False)[0]
    without = placement.theme_scores(vectors, _themes(rows), texts, spread=False)[0]
    assert np.allclose(with_wrong, without, atol=1e-9)  # exactly as if the themes had no names


def test_a_name_moves_the_centre_towards_what_it_says(taught) -> None:
    _, vectors, rows, names, _ = taught
    themes = _themes(rows, names)
    plain = placement.theme_centres(vectors, themes, 0.0)
    named = placement.theme_centres(vectors, themes, 0.5)
    unit = names / np.linalg.norm(names, axis=1, keepdims=True)
    assert all((named[k] @ unit[k]) > (plain[k] @ unit[k]) + 0.01 for k in range(len(THEMES)))
    assert np.allclose(np.linalg.norm(named, axis=1), 1.0)


def test_a_single_theme_or_themes_without_text_keep_their_examples(taught) -> None:
    texts, vectors, rows, names, _ = taught
    assert placement.text_weight(vectors, _themes(rows)) == 0.0
    one = _themes(rows[:1], names[:1])
    assert placement.text_weight(vectors, one) == placement.SINGLE_THEME_TEXT_WEIGHT
    placed = placement.place_by_examples(vectors, one, texts)
    assert list(placed.code[:4]) == [0, 0, 0, 0]
    empty = placement.place_by_examples(vectors[:0], one, [])
    assert len(empty.code) == 0
