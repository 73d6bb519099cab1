"""The transcript proxy's bookkeeping (benchmarks/transcripts.py): coded spans point at exactly the
answer written, and a span takes the theme of the placed passage that overlaps it most."""

from __future__ import annotations

from benchmarks.transcripts import CodedSpan, _write_transcript, span_themes
from synth.records import Passage


def _passage(pid: int, start: int, end: int) -> Passage:
    return Passage(id=pid, source_id=1, start_char=start, end_char=end, text="", speaker="Respondent",
                   codable=True, text_sha256="")


def test_spans_are_the_answers_as_written(tmp_path):
    turns = [("Interviewer", "What stops you?", None), ("Respondent", "Childcare, mostly.", "childcare"),
             ("Interviewer", "And then?", None), ("Respondent", "The bus.", "transport")]
    spans = _write_transcript(tmp_path, "r.txt", turns)
    text = (tmp_path / "r.txt").read_text(encoding="utf-8")
    assert [(text[s.start:s.end], s.code) for s in spans] == [("Childcare, mostly.", "childcare"),
                                                            ("The bus.", "transport")]


def test_a_span_takes_the_theme_of_the_placed_passage_overlapping_it_most():
    spans = [CodedSpan("r.txt", 10, 50, "a"), CodedSpan("r.txt", 60, 70, "b"), CodedSpan("s.txt", 0, 5, "c")]
    passages = [_passage(1, 0, 20), _passage(2, 20, 50), _passage(3, 55, 75), _passage(4, 0, 5)]
    theme_of = {1: 7, 2: 8}  # passages 3 and 4 are unplaced; s.txt has no passage at all
    file_of = {1: "r.txt"}
    assert span_themes(spans, passages, file_of, theme_of) == [8, -1, -1]
