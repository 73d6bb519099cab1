"""Cut source texts into meaning units (passages) for qualitative coding.

A passage never crosses a speaker turn or a paragraph. Inside a paragraph, sentences (spaCy's
rule-based sentencizer) are grouped greedily up to `max_chars`. Every passage is an exact slice of
the source text: `text[p.start_char:p.end_char] == p.text`, trimmed of surrounding whitespace.

Paragraphs, as extracted text actually arrives:
- blank lines separate paragraphs;
- inside a blank-line block each line is its own paragraph (many reports are one paragraph per
  line, headings and bullets are one line each), except where a line evidently goes on in the
  next one: it ends mid-sentence and the next starts in lower case ("...the design, delivery and
  operation" / page break / "of the national roll-out"), or the block is hard-wrapped prose (all
  lines at most ~120 characters and this line at least 60% of the longest);
- a turn no longer than `max_chars` without a blank line stays whole, and so does such a text
  without turns if none of its lines is longer than ~120 characters: a short answer is one
  meaning unit even when typed on several lines, while a short page with one paragraph per line
  is still cut at its lines.

A passage is codable when it has at least MIN_WORDS words; in a transcript, a whole reply given after
the interviewer has asked something is codable with fewer when it holds a content word ("Childcare.",
"Poor communication"), not when it is assent or filler ("Yes.", "Mm-hmm.", "Not really").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from itertools import islice

from synth.nlp import sentence_pipeline
from synth.records import PassageSpan, Turn

# The line boundaries of str.splitlines(); all of them are whitespace to str.isspace(), so trimming
# and line splitting agree on what is blank.
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_BULLET = re.compile(r"(?:[-*•·‣◦▪–—]|\d{1,3}[.)]|[ivxlcIVXLC]{1,5}[.)]|[A-Za-z][.)])(?:\s|$)")
# Han and kana are written without spaces: count each character as a word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]*[^\W\d_{_CJK}][^\W_{_CJK}]*(?:['’][^\W_{_CJK}]+)*")
_OPEN_END = ",-–—(/&"

MIN_WORDS = 3  # fewer word-like tokens than this ("Yes.", "Details", "Page 12") is not codable
HARD_LIMIT_FACTOR = 3  # a sentence longer than this many max_chars is split at whitespace
FRAGMENT_FACTOR = 0.25  # a last piece shorter than this share of max_chars joins the one before...
MERGED_FACTOR = 1.25  # ...if the two together are no longer than this many max_chars
_WRAP_WIDTH = (40, 120)  # longest-line range of hard-wrapped prose
_WRAP_FILL = 0.6  # a wrapped line is at least this share of the longest line in its block
_BATCH_SIZE = 256


def segment(
    text: str,
    turns: Sequence[Turn] = (),
    *,
    max_chars: int = 600,
    code_interviewer: bool = False,
) -> list[PassageSpan]:
    """Passages of one text, in order. With turns, only text inside a turn is segmented."""
    return segment_many([(text, turns)], max_chars=max_chars, code_interviewer=code_interviewer)[0]


def segment_many(
    docs: Sequence[tuple[str, Sequence[Turn]]],
    *,
    max_chars: int = 600,
    code_interviewer: bool = False,
) -> list[list[PassageSpan]]:
    """`segment` for many texts at once; sentence splitting runs batched through `nlp.pipe`."""
    if not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"max_chars={max_chars!r}: must be a positive number of characters, e.g. 600")
    # Plan first, so that only paragraphs too long to stay whole go through spaCy, in one pipe.
    plans: list[list[tuple[int, int, str | None, bool, bool, bool]]] = []
    long_paragraphs: list[str] = []
    for text, turns in docs:
        plan = []
        for start, end, speaker, role_codable, answers in _units(text, turns, code_interviewer):
            paragraphs = _paragraphs(text, start, end, max_chars, whole_turn=bool(turns))
            for p_start, p_end in paragraphs:
                needs_sentences = p_end - p_start > max_chars
                if needs_sentences:
                    long_paragraphs.append(text[p_start:p_end])
                plan.append((p_start, p_end, speaker, role_codable, needs_sentences,
                             answers and len(paragraphs) == 1))
        plans.append(plan)

    # Short paragraphs stay whole, so a table of short answers is cut without loading spaCy.
    sentenced = sentence_pipeline().pipe(long_paragraphs, batch_size=_BATCH_SIZE) if long_paragraphs else []
    sentence_starts = iter([[s.start_char for s in doc.sents] for doc in sentenced])
    results: list[list[PassageSpan]] = []
    for (text, _), plan in zip(docs, plans):
        passages = []
        for p_start, p_end, speaker, role_codable, needs_sentences, whole_answer in plan:
            if needs_sentences:
                starts = [p_start + s for s in next(sentence_starts)]
                pieces = _group_sentences(text, p_start, p_end, starts, max_chars)
            else:
                pieces = [(p_start, p_end)]
            for start, end in pieces:
                start, end = _trim(text, start, end)
                if start < end:
                    piece = text[start:end]
                    codable = role_codable and (_has_words(piece, MIN_WORDS)
                                                or whole_answer and is_short_answer(piece))
                    passages.append(PassageSpan(start, end, piece, speaker, codable))
        results.append(passages)
    return results


def _units(
    text: str, turns: Sequence[Turn], code_interviewer: bool
) -> list[tuple[int, int, str | None, bool, bool]]:
    """(start, end, speaker, codable by role, answers a question: comes after an interviewer's turn) of
    the spans to segment: each turn, or the whole text."""
    if not turns:
        return [(0, len(text), None, True, False)]
    ordered = sorted(turns, key=lambda t: (t.start_char, t.end_char))
    previous_end = 0
    for turn in ordered:
        if not 0 <= turn.start_char <= turn.end_char <= len(text):
            raise ValueError(
                f"turn of {turn.speaker!r} at {turn.start_char}-{turn.end_char}: outside the text "
                f"(0-{len(text)}); turns must satisfy 0 <= start_char <= end_char <= len(text)"
            )
        if turn.start_char < previous_end:
            raise ValueError(
                f"turn of {turn.speaker!r} at {turn.start_char}-{turn.end_char}: overlaps the turn "
                f"before it, which ends at {previous_end}; turns must not overlap"
            )
        previous_end = turn.end_char
    # A turn after the interviewer's first one answers a question (in a focus group each participant
    # answers the facilitator's prompt, not only the first to speak).
    first_question = next((i for i, t in enumerate(ordered) if t.is_interviewer), len(ordered))
    return [(t.start_char, t.end_char, t.speaker, code_interviewer or not t.is_interviewer,
             not t.is_interviewer and i > first_question)
            for i, t in enumerate(ordered)]


def _paragraphs(
    text: str, start: int, end: int, max_chars: int, whole_turn: bool
) -> list[tuple[int, int]]:
    """Trimmed paragraph spans of text[start:end], a turn or not (see the module docstring)."""
    start, end = _trim(text, start, end)
    if start >= end:
        return []
    # Non-blank lines as (start, end, follows a blank line), trimmed.
    lines: list[tuple[int, int, bool]] = []
    line_start = start
    blank_before = False
    for match in _LINE_BREAK.finditer(text, start, end):
        blank_before = _add_line(text, line_start, match.start(), blank_before, lines)
        line_start = match.end()
    _add_line(text, line_start, end, blank_before, lines)

    if len(lines) == 1 or (
        end - start <= max_chars
        and not any(blank for _, _, blank in lines)
        and (whole_turn or all(b - a <= _WRAP_WIDTH[1] for a, b, _ in lines))
    ):
        return [(start, end)]

    # Block = run of lines without a blank line between; its longest line tells wrapped prose.
    widths: list[int] = []
    for line_start, line_end, blank in lines:
        if blank or not widths:
            widths.append(0)
        widths[-1] = max(widths[-1], line_end - line_start)

    paragraphs: list[list[int]] = []
    block = -1
    for line_start, line_end, blank in lines:
        if blank or block < 0:
            block += 1
        width = widths[block]
        join = False
        if paragraphs:
            previous_start, previous_end = paragraphs[-1][2], paragraphs[-1][1]
            join = _continues(text, previous_end, line_start) or (
                not blank
                and _WRAP_WIDTH[0] <= width <= _WRAP_WIDTH[1]
                and previous_end - previous_start >= _WRAP_FILL * width
                and not _BULLET.match(text, line_start, line_end)
            )
        if join:
            paragraphs[-1][1] = line_end
            paragraphs[-1][2] = line_start
        else:
            paragraphs.append([line_start, line_end, line_start])  # start, end, start of last line
    return [(p_start, p_end) for p_start, p_end, _ in paragraphs]


def _add_line(
    text: str, start: int, end: int, blank_before: bool, lines: list[tuple[int, int, bool]]
) -> bool:
    """Append the trimmed line if it is not blank; return whether a blank line now precedes the next."""
    start, end = _trim(text, start, end)
    if start >= end:
        return bool(lines)  # a blank line before the first line does not separate anything
    lines.append((start, end, blank_before))
    return False


def _continues(text: str, previous_end: int, next_start: int) -> bool:
    """Whether a line ending at previous_end runs on into the line starting at next_start."""
    last = text[previous_end - 1]
    return text[next_start].islower() and (last.isalnum() or last in _OPEN_END)


def _group_sentences(
    text: str, start: int, end: int, sentence_starts: list[int], max_chars: int
) -> list[tuple[int, int]]:
    """Greedy groups of whole sentences of text[start:end], each at most max_chars where possible."""
    cuts = sorted({s for s in sentence_starts if start < s < end})
    bounds = [start, *cuts, end]
    hard_limit = HARD_LIMIT_FACTOR * max_chars
    groups: list[list[int]] = []
    open_group = False  # whether the last group may take more sentences
    for s_start, s_end in zip(bounds, bounds[1:]):
        s_start, s_end = _trim(text, s_start, s_end)
        if s_start >= s_end:
            continue
        if open_group and s_end - groups[-1][0] <= max_chars:
            groups[-1][1] = s_end
        elif s_end - s_start > hard_limit:
            groups.extend([a, b] for a, b in _split_at_whitespace(text, s_start, s_end, max_chars))
            open_group = False
        else:
            groups.append([s_start, s_end])
            open_group = s_end - s_start <= max_chars
    if len(groups) >= 2:
        (prev_start, _), (last_start, last_end) = groups[-2], groups[-1]
        tiny = last_end - last_start < FRAGMENT_FACTOR * max_chars
        if tiny and last_end - prev_start <= MERGED_FACTOR * max_chars:
            groups[-2][1] = last_end
            groups.pop()
    return [(a, b) for a, b in groups]


def _split_at_whitespace(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Pieces of at most max_chars, cut at the last whitespace that fits (mid-word only if none)."""
    pieces = []
    while end - start > max_chars:
        cut = start + max_chars
        while cut > start and not text[cut].isspace():
            cut -= 1
        if cut == start:  # no whitespace: cut mid-word, but not between a letter and its accent
            cut = start + max_chars
            while cut > start + 1 and unicodedata.combining(text[cut]):
                cut -= 1
        pieces.append((start, cut))
        start, _ = _trim(text, cut, end)
    if start < end:
        pieces.append((start, end))
    return pieces


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """start/end moved inwards past whitespace (as str.strip() sees it)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _has_words(text: str, n: int) -> bool:
    return len(list(islice(_WORD.finditer(text), n))) >= n


def is_short_answer(text: str) -> bool:
    """Whether a reply of fewer than MIN_WORDS words still says something: it holds a content word
    ("Childcare.", "Poor communication", "By bus") rather than only assent, filler or function words
    ("Yes.", "Mm-hmm.", "Not really", "Don't know"). Only a whole turn that answers the interviewer
    is asked this: the question makes such a reply a meaning unit (issue 13's transcript proxy: 146
    of 1,679 coded answers were one or two words, all dropped before)."""
    words = [w.group().lower().replace("’", "'") for w in _WORD.finditer(text)]
    return 0 < len(words) < MIN_WORDS and any(w not in _not_content() and len(w) > 1 for w in words)


@functools.cache
def _not_content() -> frozenset[str]:
    # Loaded on first use: importing spaCy costs over a second, and most ingests never ask.
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | _ASSENT_AND_FILLER


# Replies that carry no idea of their own; spaCy's stop words cover the function words ("no", "not",
# "really", "nothing", "same").
_ASSENT_AND_FILLER = frozenset("""
    yes yeah yep yup yea aye nope nah ok okay alright mm mmm mhm hmm hm uh huh um er erm ah oh
    right sure exactly definitely absolutely certainly maybe perhaps possibly probably true false correct
    indeed totally agreed agree disagree thanks thank cheers fine good great cool lovely nice pass
    dunno don't know idea unsure depends sometimes always never often
""".split())
