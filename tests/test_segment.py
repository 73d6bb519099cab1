"""segment: passages are exact, ordered, trimmed slices that respect turns and paragraphs."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth.nlp import display_forms_of, lemmatise, nlp_name, passage_terms
from synth.readers.transcript import find_turns
from synth.records import PassageSpan, Turn
from synth.segment import HARD_LIMIT_FACTOR, segment, segment_many

# Pieces that hit the code paths plain st.text() rarely reaches: line breaks of every kind, blank
# lines, sentence ends, bullets, lower-case continuations, and text that is hard on offsets.
FRAGMENTS = [
    " ", "  ", "\t", "\n", "\n\n", "\r\n", "\r\n\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028",
    "\u2029", "\xa0", "\u3000", ".", ". ", "? ", "!", "...", ":", ",", "- ", "· ", "1) ", "\x00", "\x07",
    "the", "barriers", "and", "support", "Jobcentre", "I think it helped", "Yes.", "of the national",
    "e\u0301", "\u0301", "👩‍👩‍👧", "🇬🇧", "שלום עולם.", "مرحبا بكم", "我很喜欢这个项目。", "\ufeff", "\u200b",
    "word" * 30,
]
texts = st.one_of(st.text(), st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join))
max_chars = st.one_of(st.just(600), st.integers(min_value=1, max_value=120))
WORD = re.compile(r"[^\W_]+")


@st.composite
def texts_with_turns(draw: st.DrawFn) -> tuple[str, list[Turn]]:
    text = draw(texts)
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=12)))
    turns = []
    for i in range(0, len(cuts) - 1, 2):  # pairs of cuts; a gap between pairs is text outside any turn
        speaker = draw(st.sampled_from(["Interviewer", "P1", "P2", ""]))
        turns.append(Turn(cuts[i], cuts[i + 1], speaker, is_interviewer=speaker == "Interviewer"))
    return text, draw(st.permutations(turns))  # order given must not matter


def check_passages(text: str, passages: list[PassageSpan], max_chars: int) -> None:
    previous_end = 0
    for p in passages:
        assert text[p.start_char : p.end_char] == p.text
        assert p.text and p.text == p.text.strip(), "passages are trimmed and never empty or blank"
        assert p.start_char >= previous_end, "passages are sorted and do not overlap"
        assert len(p.text) <= HARD_LIMIT_FACTOR * max_chars
        previous_end = p.end_char


def covered(passages: list[PassageSpan], n: int) -> list[bool]:
    mask = [False] * n
    for p in passages:
        mask[p.start_char : p.end_char] = [True] * (p.end_char - p.start_char)
    return mask


@settings(max_examples=600, deadline=None)
@given(text=texts, max_chars=max_chars)
def test_passages_are_exact_ordered_trimmed_slices_covering_all_text(text: str, max_chars: int) -> None:
    passages = segment(text, max_chars=max_chars)
    check_passages(text, passages, max_chars)
    mask = covered(passages, len(text))
    assert all(mask[i] for i, c in enumerate(text) if not c.isspace()), "no visible character is dropped"
    assert all(p.speaker is None for p in passages)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=texts_with_turns(), max_chars=max_chars, code_interviewer=st.booleans())
def test_passages_stay_inside_turns(doc: tuple[str, list[Turn]], max_chars: int, code_interviewer: bool) -> None:
    text, turns = doc
    passages = segment(text, turns, max_chars=max_chars, code_interviewer=code_interviewer)
    check_passages(text, passages, max_chars)
    if not turns:  # no turns: the whole text is one unit, with no speaker
        turns = [Turn(0, len(text), None)]  # type: ignore[arg-type]
    for p in passages:
        (turn,) = [t for t in turns if t.start_char <= p.start_char and p.end_char <= t.end_char]
        assert p.speaker == turn.speaker
        if turn.is_interviewer and not code_interviewer:
            assert not p.codable
    inside = [False] * len(text)
    for t in turns:
        inside[t.start_char : t.end_char] = [True] * (t.end_char - t.start_char)
    mask = covered(passages, len(text))
    assert all(mask[i] == (inside[i] and not c.isspace()) for i, c in enumerate(text) if not c.isspace())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(texts_with_turns(), max_size=5))
def test_segment_many_equals_segment_one_by_one(docs: list[tuple[str, list[Turn]]]) -> None:
    assert segment_many(docs, max_chars=40) == [segment(text, turns, max_chars=40) for text, turns in docs]


def test_sentences_are_grouped_greedily_up_to_max_chars() -> None:
    sentences = [f"Sentence number {i} says that travel costs were a barrier." for i in range(10)]
    text = " ".join(sentences)  # 58 characters each: two fit in 120, three do not
    passages = segment(text, max_chars=120)
    assert [p.text for p in passages] == [" ".join(sentences[i : i + 2]) for i in range(0, 10, 2)]


def test_a_tiny_last_piece_joins_the_one_before() -> None:
    text = ("Advisers said the scheme worked well for most people in the area. " * 8) + "It did."
    passages = segment(text, max_chars=200)
    assert passages[-1].text.endswith("well for most people in the area. It did.")
    assert all(len(p.text) <= 1.25 * 200 for p in passages)


def test_passages_never_cross_a_blank_line_even_when_short() -> None:
    text = "Background\n\nThe study ran in 2016.\n\n\nIt found that advisers helped."
    expected = ["Background", "The study ran in 2016.", "It found that advisers helped."]
    assert [p.text for p in segment(text)] == expected


def test_each_line_is_a_paragraph_when_a_report_has_one_paragraph_per_line() -> None:
    lines = [
        "Documents",
        "Details",
        "This is the first in a series of evaluation reports aiming to understand experiences of the Work Programme"
        " from the point of view of claimants.",
        "Work Programme providers are free to design their own services based on their assessments of individual"
        " and local needs, and they are paid primarily for results.",
    ]
    passages = segment("\n".join(lines), max_chars=600)
    assert [p.text for p in passages] == lines
    assert [p.codable for p in passages] == [False, False, True, True]


def test_hard_wrapped_prose_and_lower_case_continuations_join_into_one_paragraph() -> None:
    wrapped = (
        "The evidence from providers, Jobcentre Plus and participants indicated\n"
        "that all parties felt that more could be done to improve referrals and\n"
        "handover. Jobcentre Plus advisers said that they had little information\n"
        "about the provision."
    )
    page_break = "The aim was to inform the design, delivery and operation\n\nof the national roll-out."
    text = f"Referral and handover\n{wrapped}\n\n{page_break}"
    assert [p.text for p in segment(text, max_chars=300)] == ["Referral and handover", wrapped, page_break]


def test_a_short_answer_on_several_lines_stays_whole() -> None:
    answer = "Cost of the bus fare\r\nno childcare near the centre\r\nshifts change every week"
    (passage,) = segment(answer)
    assert passage.text == answer and passage.codable


def test_a_long_sentence_stays_whole_up_to_the_hard_limit_then_splits_at_whitespace() -> None:
    words = [f"word{i}" for i in range(400)]  # 3,089 characters, no sentence end inside
    sentence = " ".join(words[:150])  # 989 characters
    (whole,) = segment(sentence, max_chars=600)
    assert whole.text == sentence

    long_sentence = " ".join(words)
    pieces = segment(long_sentence, max_chars=600)
    assert [len(p.text) for p in pieces] == [598, 594, 599, 599, 695]  # the last took in a 95-character tail
    assert " ".join(p.text for p in pieces) == long_sentence, "cut only at whitespace, never inside a word"


def test_a_long_run_without_whitespace_is_cut_but_not_between_a_letter_and_its_accent() -> None:
    text = "e\u0301" * 50
    passages = segment(text, max_chars=9)
    assert "".join(p.text for p in passages) == text
    assert all(not p.text.startswith("\u0301") for p in passages)


def test_turns_are_boundaries_and_text_outside_turns_is_not_segmented() -> None:
    header = "Interview 12, Leeds, March 2019\n"
    q = "What got in the way?"
    a = "Childcare, mostly. The nursery closed at five and my shift ended at six."
    text = f"{header}Interviewer: {q}\nP1: {a}"
    q_start = text.index(q)
    a_start = text.index(a)
    turns = [  # given out of order on purpose
        Turn(a_start, a_start + len(a), "P1"),
        Turn(q_start, q_start + len(q), "Interviewer", is_interviewer=True),
    ]

    passages = segment(text, turns)
    assert [(p.text, p.speaker, p.codable) for p in passages] == [(q, "Interviewer", False), (a, "P1", True)]
    coded = segment(text, turns, code_interviewer=True)
    assert [p.codable for p in coded] == [True, True]


def test_short_fragments_are_kept_but_not_codable() -> None:
    text = "Yes.\n\nPage 12\n\nDetails\n\nI don't know.\n\nThe adviser really helped me."
    passages = segment(text)
    assert [(p.text, p.codable) for p in passages] == [
        ("Yes.", False),
        ("Page 12", False),
        ("Details", False),
        ("I don't know.", True),
        ("The adviser really helped me.", True),
    ]


def test_offsets_are_code_points_through_crlf_emoji_and_right_to_left_text() -> None:
    text = "👩‍👩‍👧 Famille.\r\n\r\nשלום עולם, זה בסדר גמור.\r\n\r\n\tالدعم كان جيدا جدا هنا."
    passages = segment(text)
    assert [text[p.start_char : p.end_char] for p in passages] == [p.text for p in passages]
    assert [p.text for p in passages] == ["👩‍👩‍👧 Famille.", "שלום עולם, זה בסדר גמור.", "الدعم كان جيدا جدا هنا."]


def test_invalid_turns_and_max_chars_are_refused_with_the_value_named() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        segment("abcdefghij", [Turn(0, 5, "A"), Turn(4, 8, "B")])
    with pytest.raises(ValueError, match=r"outside the text \(0-10\)"):
        segment("abcdefghij", [Turn(5, 11, "A")])
    with pytest.raises(ValueError, match="max_chars=0"):
        segment("abc", max_chars=0)


def test_seed_like_report_segments_into_sensible_units() -> None:
    text = (
        "# Addressing barriers to work\n\n"
        "It was clear that many participants faced multiple and complex barriers to work. "
        "These included caring responsibilities, health conditions and a lack of skills. "
        "Providers said that support for those with severe barriers was limited by cost.\n\n"
        "- limited use of specialist provision;\n"
        "- deficiencies in communication between Jobcentre Plus and providers; and\n"
        "- prioritising more job-ready participants."
    )
    passages = segment(text, max_chars=120)
    assert [p.text for p in passages] == [
        "# Addressing barriers to work",
        "It was clear that many participants faced multiple and complex barriers to work.",
        "These included caring responsibilities, health conditions and a lack of skills.",
        "Providers said that support for those with severe barriers was limited by cost.",
        "- limited use of specialist provision;",
        "- deficiencies in communication between Jobcentre Plus and providers; and",
        "- prioritising more job-ready participants.",
    ]


def test_lemmatise_gives_lower_case_lemmas_of_content_words() -> None:
    assert lemmatise(["Barriers helped the children.", "The", "Advisers were running 3 workshops!"]) == [
        ["barrier", "help", "child"],
        [],
        ["adviser", "run", "workshop"],
    ]


def test_display_forms_are_the_words_people_wrote_most_often() -> None:
    terms = passage_terms(["The data on rents.", "Training helped; more training and barriers.", "A barrier"])
    assert terms[0].lemmas == ("datum", "rent") and terms[0].forms == ("data", "rents")
    forms = display_forms_of(terms)
    assert forms["datum"] == "data" and forms["train"] == "training"
    assert forms["barrier"] == "barrier"  # a tie between "barrier" and "barriers": the shorter


def test_nlp_name_says_which_pipeline_lemmatises() -> None:
    name = nlp_name()
    assert name == "blank-en+sentencizer+lookup-lemmatizer" or name.startswith("en_core_web_sm-")


def test_ingesting_short_answers_does_not_load_spacy(tmp_path) -> None:
    # spaCy imports PyTorch (over a second); a table of short survey answers needs neither.
    import subprocess
    import sys

    table = tmp_path / "answers.csv"
    table.write_text("id,text\n1,The bus took over an hour.\n2,My adviser helped me with my CV.\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from synth.ingest import ingest\n"
        "from synth.store import Project\n"
        f"with Project.open({str(tmp_path / 'r.synth')!r}) as project:\n"
        f"    ingest(project, [{str(table)!r}], text_column='text', id_column='id')\n"
        "    assert len(project.passages()) == 2\n"
        "print(sorted(m for m in ('spacy', 'torch') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_a_short_answer_to_the_interviewer_is_codable_when_it_says_something() -> None:
    """Issue 13: "Poor communication." answering a question is a meaning unit (a coder codes it); before,
    every reply under three words was left out, while assent and filler still are."""
    exchanges = [("Poor communication.", True), ("Childcare.", True), ("By bus", True), ("Yes.", False),
                 ("Uh-huh.", False), ("Mm-hmm.", False), ("Not really.", False), ("Don't know", False),
                 ("Okay, sure.", False)]
    text = "".join(f"Interviewer: What stops you?\n\nRespondent: {reply}\n\n" for reply, _ in exchanges)
    turns = find_turns(text)
    answers = [p for p in segment(text, turns) if p.speaker == "Respondent"]
    assert [(p.text, p.codable) for p in answers] == exchanges


def test_short_replies_in_a_focus_group_answer_the_facilitator_and_none_before_a_question() -> None:
    # Each participant answers the facilitator's prompt, not only the first to speak; a reply before
    # anyone has asked anything, and prose outside turns, keep the three-word rule.
    text = ("P1: Hello.\n\nP2: Childcare.\n\nFacilitator: What stops you?\n\nP1: Buses, mostly. They never come."
            "\n\nP2: Childcare.\n")
    passages = segment(text, find_turns(text))
    assert [(p.text, p.codable) for p in passages] == [
        ("Hello.", False), ("Childcare.", False), ("What stops you?", False),
        ("Buses, mostly. They never come.", True), ("Childcare.", True)]
    assert [p.codable for p in segment("Childcare.\n\nDetails")] == [False, False]
