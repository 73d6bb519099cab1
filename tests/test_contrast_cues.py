"""Contrast: in "X was good but Y was not" the clause after the contrast word carries the reply's side
(synth/cue_match.py `_with_contrast`, synth/cues.py CONTRAST_WORDS)."""

from __future__ import annotations

import pytest

from synth import cues as lexicon
from synth import learn
from synth.categorise import cue_totals, match_cues
from synth.cue_match import CueMatch
from synth.relearn import reply_forms


def _sides(text: str) -> dict[str, float]:
    return cue_totals(match_cues(text))


@pytest.mark.parametrize("text, side", [
    ("The staff were lovely and kind but the wait was too long.", "barrier"),
    ("The staff were helpful, however the waiting list was too long.", "barrier"),
    ("Bed not comfortable, but on the whole very good.", "enabler"),
    ("Parking was difficult. But the nurses were lovely.", "enabler"),
    ("Good advice over the phone, although it was difficult to understand.", "barrier"),
    ("Although the wait was long and frustrating, the staff were helpful.", "enabler"),
])
def test_the_clause_after_a_contrast_decides_the_cues(text, side):
    totals = _sides(text)
    other = "enabler" if side == "barrier" else "barrier"
    assert totals[side] > totals[other], (text, totals, match_cues(text))
    conceded = [c for c in match_cues(text) if c.conceded]
    assert conceded and all(c.counts_for == other for c in conceded)
    assert all("conceded before a contrast" in c.describe() for c in conceded)


@pytest.mark.parametrize("text", [
    "I have nothing but praise for the staff.",       # "nothing but" = only
    "Not only helpful but also kind.",                 # additive
    "The staff were kind and the food was good though.",  # "though" closing the sentence
    "But overall it was good.",                        # a contrast at the start turns nothing round
    "The staff were kind and helpful.",
])
def test_no_contrast_no_concession(text):
    assert not any(c.conceded for c in match_cues(text)), match_cues(text)


def test_without_the_contrast_the_praise_would_win():
    # The failing-before case: the same words, the praise counted in full, outweighed the complaint.
    text = "The staff were lovely and kind but the wait was too long."
    full = {c.counts_for: 0.0 for c in match_cues(text)}
    for c in match_cues(text):
        full[c.counts_for] += c.weight / (lexicon.CONCEDED_FACTOR if c.conceded else 1.0)
    assert full["enabler"] > full["barrier"]
    assert _sides(text)["barrier"] > _sides(text)["enabler"]


def test_a_conceded_cue_is_stored_and_read_back():
    cue = next(c for c in match_cues("The staff were lovely but the wait was long.") if c.conceded)
    assert cue.to_dict()["conceded"] is True and CueMatch.from_dict(cue.to_dict()) == cue
    plain = next(c for c in match_cues("The staff were lovely.") if c.lemma == "lovely")
    assert "conceded" not in plain.to_dict() and not CueMatch.from_dict(plain.to_dict()).conceded


def test_a_contrast_is_not_a_form_of_reply_of_its_own():
    # Measured and left out (a stratum of its own lost on NaPiRE): the cue weights carry the contrast.
    stored = [{"cues": [c.to_dict() for c in match_cues(t)]} for t in
              ("The staff were lovely but the wait was too long.", "Nothing, all good.", "The staff were lovely.")]
    assert reply_forms(stored) == [(), (learn.REPLY_NIL,), ()]


def test_a_long_passage_is_not_conceded_clause_by_clause():
    # An interview turn makes several points: conceding one clause of it tipped a demo passage about
    # unrecognised qualifications from barrier to practice (docs/benchmarks.md, third pass).
    text = ("Then there's recognition of qualifications. We have learners who were engineers. They arrive with "
            "degrees that nobody here understands. Some of them are in my classes because their English is weak, "
            "but their professional knowledge is far beyond anything we teach.")
    assert not any(c.conceded for c in match_cues(text))
    short = "Their English is weak, but their professional knowledge is far beyond anything we teach."
    assert [c.lemma for c in match_cues(short) if c.conceded] == ["weak"]


def test_only_the_sentence_with_the_contrast_is_conceded():
    cues = match_cues("The parking was difficult. The nurses were lovely but the wait was too long.")
    assert {c.lemma: c.conceded for c in cues if c.lemma in ("difficult", "lovely")} == {"difficult": False, "lovely": True}
