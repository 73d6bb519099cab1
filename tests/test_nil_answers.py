"""Nil answers ("Nothing.", "Can't think of anything") and praise said through a negation ("could not
fault"): a survey reply that says nothing is wrong is not a complaint (synth/categorise.py, cues.py)."""

from __future__ import annotations

import pytest

from synth.categorise import NIL_LEMMA, categorise_passages, match_cues


def _nil(text: str):
    return [c for c in match_cues(text) if c.lemma == NIL_LEMMA]


@pytest.mark.parametrize("text, phrase", [
    ("Nothing.", "Nothing"),
    ("No, not really", "No, not really"),
    ("Cannot think of anything", "Cannot think of anything"),
    ("I can't think of anything really.", "I can't think of anything really"),
    ("No complaints, all good", "No complaints"),
    ("Nothing I was so well looked after", "Nothing"),
    ("NothIng could be done better, very nice", "NothIng could be done better"),
    ("None", "None"),
    ("No improvements needed.", "No improvements needed"),
    # The second pass (docs/benchmarks.md, "Nil answers, second pass"): praise after the reply, a "No"
    # that pauses and praises, and the nil phrases NHS replies use that the first rule missed.
    ("Nothing staff are excellent", "Nothing"),
    ("Nothing great experience", "Nothing"),
    ("Nothing whatsoever.", "Nothing whatsoever"),
    ("Nothing specific", "Nothing specific"),
    ("Nothing really comes to mind.", "Nothing really comes to mind"),
    ("Can’t think of anything at the minute.", "Can’t think of anything at the minute"),
    ("Not that I know of.", "Not that I know of"),
    ("Definitely not", "Definitely not"),
    ("No I don’t think so.", "No I don’t think so"),
    ("No, all good.", "No"),
    ("No everything was perfect", "No"),
    # Third pass (docs/benchmarks.md, "Contrast and nil answers, third pass"), one case per new pattern:
    # an opening "There is" / "I have",
    ("There is nothing that could have been done better.", "There is nothing that could have been done better"),
    ("I have no complaints", "I have no complaints"),
    # "could of", "any better", a subject between "nothing" and "could", "more/else/better … been done",
    ("Nothing could of been done any better", "Nothing could of been done any better"),
    ("Nothing they could do better", "Nothing they could do better"),
    ("Nothing more could have been done for me", "Nothing more could have been done for me"),
    ("Nothing better could have been done, thank you", "Nothing better could have been done"),
    ("Nothing that was done could have been better", "Nothing that was done could have been better"),
    # "to improve on", "can think of" without "I", more nouns after "No", "not a lot".
    ("Nothing to improve on", "Nothing to improve on"),
    ("Nothing can think of.", "Nothing can think of"),
    ("No changes needed.", "No changes needed"),
    ("No grumbles from me.", "No grumbles from me"),
    ("No faults at all.", "No faults at all"),
    ("Not a lot.", "Not a lot"),
    # Fourth pass (docs/benchmarks.md, "Nil answers and plain-praise labels"), the forms NHS replies use
    # that the rules above missed: a negated "think so", a qualifier first, more ways to go on from
    # "nothing", nothing to add or improve said with "anything", fault not found, "could not have done
    # better" as the whole reply, an adjective between "No" and the noun, "There's" without a space,
    # and a subjectless "been" before praise.
    ("I don't think so.", "I don't think so"),
    ("Don’t think so, No.", "Don’t think so, No"),
    ("I don't think they could have done any more.", "I don't think they could have done any more"),
    ("Honestly nothing.", "Honestly nothing"),
    ("In my opinion, nothing.", "In my opinion, nothing"),
    ("Absolutely nothing, it's a fantastic service.", "Absolutely nothing"),
    ("nothing that springs to mind!", "nothing that springs to mind"),
    ("Nothing to my knowledge", "Nothing to my knowledge"),
    ("There is nothing that I can suggest.", "There is nothing that I can suggest"),
    ("I can’t think of anything that would improve things", "I can’t think of anything that would improve"),
    ("I can't find anything that could be improved", "I can't find anything that could be improved"),
    ("I don’t have anything to add I’m impressed", "I don’t have anything to add"),
    ("I would be hard pressed to find fault.", "I would be hard pressed to find fault"),
    ("Can’t fault anything", "Can’t fault anything"),
    ("Can't complain", "Can't complain"),
    ("Could not have done anything better", "Could not have done anything better"),
    ("You could have done nothing better.", "You could have done nothing better"),
    ("No obvious comments.", "No obvious comments"),
    ("No change needed", "No change needed"),
    ("There’s nothing that could be done better.", "There’s nothing that could be done better"),
    ("Nothing been happy with everything", "Nothing"),
    ("Nothing, been pleased with everything", "Nothing"),
])
def test_a_nil_answer_is_one_cue_for_enabler_quoting_the_reply(text, phrase):
    nil = _nil(text)
    assert [c.phrase for c in nil] == [phrase]
    assert nil[0].counts_for == "enabler" and text[nil[0].start_char:nil[0].end_char] == phrase
    # The barrier word inside it ("nothing", "no") no longer counts on its own.
    assert not any(c.counts_for == "barrier" for c in match_cues(text))
    assert "nil answer" in nil[0].describe()


@pytest.mark.parametrize("text", [
    "No funding was available.",          # a statement that opens with "no"
    "Nothing was done to help me.",       # "nothing" as the subject
    "No staff came for two days.",
    "Nothing, apart from the parking.",   # the reply turns to a complaint
    "Nothing, but the wait was too long.",
    "Nothing. Just wish I could have had more time.",
    "No",                                 # a bare "No" answers a yes/no question: only the question knows
    "Nothingness is a philosophical idea.",
    "No staff were helpful",              # "no" as a determiner, then a complaint
    "No, the staff were rude",
    "Nothing helped",                     # the praise word is the statement's verb
    "Nothing works",
    "Nothing on the ward was clean",
    "Nothing. Difficulty in hearing staff with their masks on.",
    "Nope",
    # Third pass: the new openers and forms still leave statements alone.
    "There is nothing for the children to do.",
    "Nothing could be done about the pain.",
    "Nothing more was done for my mother.",
    "I have no idea who to call.",
    "There is nothing, apart from the parking.",
    # Fourth pass: the new forms leave statements and complaints alone.
    "Absolutely nothing was good about this service.",   # was read as "Absolutely not" before
    "I don't think so, the staff were rude.",
    "I don't think they listened to me.",
    "Could not fault the nurses but the food was awful.",
    "Can't complain about the staff, the wait was too long.",
    "Nothing been done about my pain.",
    "I can't find anything on the website.",
    "No obvious signs on the door.",
    "Honestly nothing was done.",
    "I don't have anything to eat.",
    "Could not have done it without them.",
    "Hard to find the clinic.",
])
def test_statements_and_replies_that_turn_to_a_complaint_are_not_nil_answers(text):
    assert _nil(text) == []


def test_a_nil_answer_leans_to_enabler_and_its_reasons_say_why(embedder, prototypes):
    texts = ["Cannot think of anything.", "Nothing at present.", "No complaints at all."]
    vectors = embedder.encode(texts)
    with_cue = categorise_passages(texts, vectors, prototypes=prototypes)
    without = categorise_passages(texts, vectors, prototypes=prototypes, use_cues=False)
    for r, before in zip(with_cue, without):
        assert r.scores["enabler"] > before.scores["enabler"] + 0.2
        assert any("nil answer" in line for line in r.reasons())
    # The prototypes still count: "Cannot think of anything" reads like a shortfall to the model and
    # may stay close; the other two are clear.
    for r in with_cue[1:]:
        assert r.category == "enabler" and r.scores["enabler"] > r.scores["barrier"] + 0.2


def test_asked_what_was_good_a_nil_answer_is_a_barrier(embedder, prototypes):
    texts = ["Nothing.", "Nothing."]
    questions = ["What went well?", "What could be improved?"]
    good, better = categorise_passages(texts, embedder.encode(texts), prototypes=prototypes, questions=questions)
    assert good.category == "barrier" and good.scores["barrier"] > good.scores["enabler"] + 0.2
    assert better.category == "enabler" and better.scores["enabler"] > better.scores["practice"] + 0.2
    assert any("a nil answer turns it" in line for line in good.reasons())


@pytest.mark.parametrize("text, phrase", [
    ("Could not fault any aspect of my care.", "Could not fault"),
    # (Inside a reply; a reply that opens with one is a nil answer, above.)
    ("The nurses, I cannot fault them.", "cannot fault"),
    ("It couldn't have been better.", "couldn't have been better"),
    ("We couldn’t be better looked after.", "couldn’t be better"),
    ("The nurses could not have done any better.", "could not have done any better"),
    ("Couldn’t ask for better care.", "Couldn’t ask for better"),
])
def test_praise_said_through_a_negation_is_an_enabler_cue(text, phrase):
    cues = match_cues(text)
    assert [c.phrase for c in cues if c.counts_for == "enabler"][:1] == [phrase]
    assert not any(c.counts_for == "barrier" for c in cues)


def test_a_negated_enabler_outside_the_idioms_still_counts_for_barrier():
    assert [c.counts_for for c in match_cues("The food was not better than before.")] == ["barrier"]


def test_praise_words_count_and_a_polite_please_does_not():
    cues = match_cues("The care was perfect and the nurses attentive.")
    assert {"perfect", "attentive"} <= {c.phrase for c in cues if c.counts_for == "enabler"}
    assert not any(c.counts_for == "barrier" for c in cues)
    assert not any(c.counts_for == "enabler" for c in match_cues("If you would like to know more, please email us."))


def test_nothing_was_too_much_trouble_is_praise():
    for text in ("Nothing was too much trouble.", "Nothing is too much for the staff", "Nothing too much trouble"):
        cues = match_cues(text)
        assert [c.counts_for for c in cues] == ["enabler"], (text, cues)
