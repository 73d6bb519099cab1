"""Speaker turns in a transcript: which spans of the text each speaker said.

A turn starts at a speaker label at the start of a line ("Interviewer:", "R:", "P12:", "Participant 3:",
"Amina Begum:") and runs to the next label. A turn covers only the words (label excluded, whitespace
trimmed), so `text[turn.start_char:turn.end_char]` is exactly what the speaker said.

Literature has line-initial colons too ("Note:", "Source:", "Background:"), so deciding that a text *is*
a transcript asks for more than labels: several turns, at least two speakers who each speak more than
once, and labelled turns covering most of the text (`looks_like_transcript`). Labels that name roles
("Interviewer:" and "Respondent:", "Facilitator:" and "Participant 3:", "Q:" and "A:") need only one
exchange: a one-question interview, or a focus group where each participant speaks once, is still a
transcript, and its questions must stay context (read as prose, they repeat across files and became
themes of their own, issue 13's transcript proxy).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from synth.records import Turn

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_LABEL_LINE = re.compile(
    rf"""
    ^[ \t]*
    (?:[\[(]?{_TIME}[\])]?[ \t]+)?                  # "[00:01:02] Interviewer:"
    (?:\*\*|__)?                                    # Markdown bold: "**Interviewer:**"
    (?P<label>[^\W\d_][^:\n\r*_]{{0,48}}?)
    (?:[ \t]*[\[(]{_TIME}[\])])?                    # "Interviewer (00:01:02):"
    [ \t]*(?:\*\*|__)?[ \t]*:(?:\*\*|__)?
    (?=[ \t\r\n]|\Z)
    """,
    re.MULTILINE | re.VERBOSE,
)

_ROLE_WORDS = (
    "interviewer|interviewee|int|moderator|facilitator|researcher|respondent|participant|speaker|"
    "claimant|customer"
)
# "Participant 3", "Speaker1", "Respondent #2", "Interviewer B"; a letter needs a separator ("Researchers" is no label).
_SUFFIX = r"(?:[ \t]*[#-]?[ \t]*\d{1,3}|(?:[ \t]+|[ \t]*[#-][ \t]*)[A-Za-z])?"
_PAREN = r"(?:[ \t]*\([^()\n]{1,30}\))?"
_ROLE = re.compile(rf"(?:{_ROLE_WORDS}){_SUFFIX}{_PAREN}", re.IGNORECASE)
# Single letters and coded participants are case-sensitive: "I:", "Q:", "R:", "A:", "P1:", "R2:", "I1:".
_CODE = re.compile(rf"(?:[IQRA]|[IRP]\d{{1,3}}){_PAREN}")
_INTERVIEWER = re.compile(
    rf"(?:interviewer|int|moderator|facilitator|researcher){_SUFFIX}|[iq]\d{{0,3}}", re.IGNORECASE
)

_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'’.\-]*(?:['’.\-][^\W\d_]*)*\.?")
_PARTICLES = frozenset({"al", "bin", "binti", "da", "de", "del", "della", "der", "di", "du", "el", "la",
                        "le", "ibn", "van", "von"})
# Words that start "Heading: ..." lines in reports and transcript headers, never speakers.
_NOT_SPEAKERS = frozenset("""
    claimants customers interviewees interviewers participants researchers respondents speakers
    abstract action actions address age agenda aim aims also annex answer appendix apologies area article
    attendees author authors background bcc box but caption case category caution cc chapter chart code
    comment comments conclusion conclusions consent contact contents context copyright date dates definition
    details documents duration e-mail email ethnicity example examples fax fig fig. figure finding findings
    format from gender graph however id important interview introduction isbn job key keywords language
    length licence license link location method methodology methods minutes mobile mode n.b. nb no note
    notes now objective objectives organisation organization outcome outcomes overall overview part phone
    please present programme program project ps published purpose question quote re recommendation
    recommendations recording ref reference references region remember response responses result results
    role section sector site source sources status step subject summary table tel telephone theme then
    therefore tip title to total transcript transcriber update updated updates url venue version warning
    web website www yes
""".split())


@dataclass(frozen=True)
class _Label:
    line_start: int      # where the label's line begins (ends the previous turn)
    content_start: int   # just after the colon
    speaker: str


def speaker_from_label(label: str) -> str | None:
    """The speaker a line-initial label names, or None when it is not a speaker label ("Note", "Key findings")."""
    label = " ".join(label.split())
    if not label or len(label) > 40:
        return None
    if _ROLE.fullmatch(label) or _CODE.fullmatch(label):
        return label
    name = re.sub(r"[ \t]*\([^()]{1,30}\)$", "", label)  # "Amina (work coach)" → check "Amina"
    words = name.split()
    if not 1 <= len(words) <= 4 or words[0].casefold() in _NOT_SPEAKERS or name.casefold() in _NOT_SPEAKERS:
        return None
    if not words[0][0].isupper():
        return None
    for word in words:
        if not _NAME_WORD.fullmatch(word):
            return None
        if not word[0].isupper() and word.casefold() not in _PARTICLES:
            return None
    return label


def is_interviewer(speaker: str, interviewers: Iterable[str] = ()) -> bool:
    """True for interviewer labels (Interviewer, I, Q, Int, Moderator, Facilitator, Researcher) and named ones."""
    bare = re.sub(r"[ \t]*\([^()]*\)$", "", " ".join(speaker.split()))
    if _INTERVIEWER.fullmatch(bare):
        return True
    named = {" ".join(n.split()).casefold() for n in interviewers if n.strip()}
    return bare.casefold() in named or " ".join(speaker.split()).casefold() in named


def interviewer_names(metadata: dict[str, str]) -> tuple[str, ...]:
    """Speaker names given as interviewers in metadata (`interviewer` column: names split on , or ;)."""
    value = metadata.get("interviewer", "")
    return tuple(n.strip() for n in re.split(r"[;,]", value) if n.strip())


def _labels(text: str) -> list[_Label]:
    labels: list[_Label] = []
    canonical: dict[str, str] = {}  # "INTERVIEWER" and "Interviewer" are one speaker: keep the first spelling
    for m in _LABEL_LINE.finditer(text):
        speaker = speaker_from_label(m.group("label"))
        if speaker is None:
            continue
        speaker = canonical.setdefault(speaker.casefold(), speaker)
        labels.append(_Label(m.start(), m.end(), speaker))
    return labels


def _spans(text: str, labels: list[_Label]) -> list[tuple[int, int, str]]:
    spans = []
    for i, label in enumerate(labels):
        end = labels[i + 1].line_start if i + 1 < len(labels) else len(text)
        start = label.content_start
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end, label.speaker))
    return spans


def find_turns(text: str, interviewers: Iterable[str] = ()) -> tuple[Turn, ...]:
    """Every labelled turn in `text`, whether or not the text as a whole looks like a transcript."""
    names = tuple(interviewers)
    return tuple(Turn(s, e, who, is_interviewer(who, names)) for s, e, who in _spans(text, _labels(text)))


def looks_like_transcript(text: str) -> bool:
    """Whether `text` is a speaker-labelled transcript rather than prose that happens to hold a few labels."""
    labels = _labels(text)
    spans = _spans(text, labels)
    per_speaker = Counter(who for _, _, who in spans)
    # Labels that name roles, an interviewer's among them, make even one exchange a transcript (a
    # short interview; a focus group where each participant speaks once): names alone do not.
    if not _role_exchange(per_speaker):
        if len(spans) < 4:
            return False
        if sum(1 for n in per_speaker.values() if n >= 2) < 2:
            return False
    # Most of the text must lie in turns: a header is fine, a report with a Q&A appendix is not.
    total = _visible(text)
    covered = _visible(text[labels[0].line_start:])
    if covered < 0.6 * total:
        return False
    # And labels must recur through it: at least a third of the paragraphs after the first label open a turn.
    return _labelled_share(text, labels) >= 1 / 3


def _role_exchange(speakers: Iterable[str]) -> bool:
    """Whether every speaker is named by a role or a participant code ("Interviewer", "Respondent",
    "Facilitator", "Participant 3", "Q", "A", "P1"), at least one asking and one answering."""
    speakers = [" ".join(who.split()) for who in speakers]
    if not all(_ROLE.fullmatch(who) or _CODE.fullmatch(who) for who in speakers):
        return False
    asks = [is_interviewer(who) for who in speakers]
    return any(asks) and not all(asks)


def _visible(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _labelled_share(text: str, labels: list[_Label]) -> float:
    """Share of paragraphs (runs of non-blank lines), from the first label on, that hold a speaker label."""
    starts = {label.line_start for label in labels}
    pos = labels[0].line_start
    blocks = labelled = 0
    in_block = has_label = False
    for line in text[pos:].splitlines(keepends=True):
        if line.strip():
            if not in_block:
                blocks += 1
                in_block, has_label = True, False
            if pos in starts and not has_label:
                labelled += 1
                has_label = True
        else:
            in_block = False
        pos += len(line)
    return labelled / blocks if blocks else 0.0
