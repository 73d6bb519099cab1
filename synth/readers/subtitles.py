"""WebVTT and SRT captions → a readable transcript ("Name: words" per turn) with its speaker turns.

Timestamps, cue numbers, NOTE/STYLE/REGION blocks and markup are dropped. Speakers come from WebVTT
voice tags (`<v Amira Khan>`) or a "Name:" prefix on a cue; a cue without either continues the
current speaker, and consecutive cues of one speaker merge into one turn.

A damaged timing line (bad digits, "99:99.9", "->", an end before the start) is an error naming its line,
and text blocks without a timing line are kept, with a note. This is why the parser is our own and not
webvtt-py's: webvtt-py (0.6) drops a cue with a broken timing line without a word even in strict mode,
drops SRT cues with bad timings silently, reads SRT's "00:99:99,9" as 01:40:39, names no line numbers in
its errors, and refuses a .vtt without the "WEBVTT" line that real exports often lack.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from synth.errors import InputError
from synth.readers.transcript import speaker_from_label

_STAMP = r"(?:(?P<{0}h>\d{{1,3}}):)?(?P<{0}m>\d{{1,2}}):(?P<{0}s>\d{{1,2}})[.,](?P<{0}f>\d{{1,3}})"
_TIMING = re.compile(rf"^[ \t]*{_STAMP.format('a')}[ \t]*-->[ \t]*{_STAMP.format('b')}(?:[ \t]+.*)?$")
# What a damaged timing line still looks like ("00:01.0 -> 00:02.0", "00:00:01,000 --> "): refused, never
# read as words.
_TIMING_LIKE = re.compile(r"-->|^[ \t]*\d{1,3}:\d{1,2}[\d:.,]*[ \t]*(?:-{1,2}>|[—–]>)[ \t]*\d")
_NON_CUE_BLOCKS = ("WEBVTT", "NOTE", "STYLE", "REGION")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)*[ \t]+([^>]+)>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|</?>|\{\\[^}]*\}")  # HTML-ish cue markup, SRT "{\an8}" overrides
_PREFIX = re.compile(r"^(?:>>[ \t]*)?(?P<label>[^\W\d_][^:]{0,40}?)[ \t]*:[ \t]+")
EXAMPLE_TIMING = "'00:01:02.500 --> 00:01:04.000'"


@dataclass(frozen=True)
class Segment:
    """A piece of one cue said by one speaker (None: no label, continues the current speaker)."""

    start: str
    speaker: str | None
    words: str


def parse_cues(path: Path, text: str) -> tuple[list[Segment], tuple[str, ...]]:
    """The cues of a WebVTT or SRT file, split where the voice changes inside a cue, and notes on what was
    read in an unusual way. A damaged timing line is an `InputError` naming its line: its cue is never
    dropped silently, and its digits never become words."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    segments: list[Segment] = []
    loose: list[int] = []  # first lines of text blocks with no timing line, kept as words
    found_cue = False
    for block in _blocks(lines):
        first = lines[block[0]].strip()
        if not found_cue and first.startswith("WEBVTT") or first.split(" ", 1)[0] in _NON_CUE_BLOCKS[1:]:
            continue  # the WEBVTT header, a NOTE, STYLE or REGION block (none holds what was said)
        timings = [i for i in block if _TIMING_LIKE.search(lines[i])]
        for i in timings:
            _check_timing(path, i + 1, lines[i])
        if not timings:
            if all(lines[i].strip().isdigit() for i in block):
                continue  # an SRT cue number standing alone
            loose.append(block[0] + 1)
            segments.extend(_segments(segments[-1].start if segments else "", "\n".join(lines[i] for i in block)))
            continue
        found_cue = True
        if timings[0] - block[0] > 1:  # only a cue identifier (or SRT number) may come before the timing line
            loose.append(block[0] + 1)
            segments.extend(_segments("", "\n".join(lines[i] for i in range(block[0], timings[0] - 1))))
        for n, i in enumerate(timings):
            end = timings[n + 1] if n + 1 < len(timings) else block[-1] + 1
            payload = lines[i + 1:end]
            if n + 1 < len(timings) and payload and payload[-1].strip().isdigit():
                payload = payload[:-1]  # the next cue's SRT number, with no blank line before it
            start = _TIMING.match(lines[i]).group(0).split("-->")[0].strip()  # type: ignore[union-attr]
            segments.extend(_segments(start, "\n".join(payload)))
    if not found_cue:
        raise InputError(path, "no caption cues found (no '00:00:01.000 --> 00:00:04.000' timing lines): "
                               "is it really a WebVTT/SRT file? Otherwise save the transcript as .txt")
    notes: tuple[str, ...] = ()
    if loose:
        where = ", ".join(str(n) for n in loose[:5]) + (", …" if len(loose) > 5 else "")
        notes = (f"{len(loose)} block(s) of text without a timing line (line {where}) read as part of the cue "
                 "before them",)
    return segments, notes


def _blocks(lines: list[str]) -> list[list[int]]:
    """Indexes of the lines of each run of non-blank lines."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        if line.strip():
            current.append(i)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _check_timing(path: Path, number: int, line: str) -> None:
    m = _TIMING.match(line)
    shown = line.strip()[:60]
    if m is None:
        raise InputError(path, f"line {number}: {shown!r} is not a valid cue timing (expected e.g. "
                               f"{EXAMPLE_TIMING}): fix the line, or remove the cue")
    stamps = []
    for side in "ab":
        hours, minutes, seconds = (int(m.group(side + k) or 0) for k in "hms")
        if minutes > 59 or seconds > 59:
            raise InputError(path, f"line {number}: {shown!r} has minutes or seconds over 59 (expected e.g. "
                                   f"{EXAMPLE_TIMING}): fix the line, or remove the cue")
        stamps.append(((hours * 60 + minutes) * 60 + seconds, int(m.group(side + "f").ljust(3, "0"))))
    if stamps[1] < stamps[0]:
        raise InputError(path, f"line {number}: {shown!r} ends before it starts: fix the line, or remove the cue")


def _segments(start: str, payload: str) -> list[Segment]:
    out = []
    voices = list(_VOICE.finditer(payload))
    pieces = [(None, payload[: voices[0].start()] if voices else payload)]
    for i, m in enumerate(voices):
        end = voices[i + 1].start() if i + 1 < len(voices) else len(payload)
        pieces.append((" ".join(m.group(1).split()), payload[m.end():end]))
    for speaker, raw in pieces:
        words = " ".join(html.unescape(_TAG.sub("", raw)).replace("\u00a0", " ").split())
        if words.startswith("- "):
            words = words[2:]
        if speaker is None:
            m = _PREFIX.match(words)
            if m and speaker_from_label(m.group("label")):
                speaker, words = " ".join(m.group("label").split()), words[m.end():]
        if words:
            out.append(Segment(start, speaker, words))
    return out


def captions_to_transcript(segments: list[Segment]) -> tuple[str, list[tuple[int, int, str]]]:
    """Readable text ("Name: words" per turn, blank line between) and the (start, end, speaker) of each turn."""
    merged: list[tuple[str | None, list[str]]] = []
    current: str | None = None
    for seg in segments:
        speaker = seg.speaker or current
        if merged and speaker is not None and merged[-1][0] == speaker:
            merged[-1][1].append(seg.words)
        else:
            merged.append((speaker, [seg.words]))
        current = speaker
    parts: list[str] = []
    turns: list[tuple[int, int, str]] = []
    pos = 0
    for speaker, words in merged:
        body = " ".join(words)
        if parts:
            pos += 2  # the "\n\n" before this part
        prefix = f"{speaker}: " if speaker else ""
        if speaker:
            turns.append((pos + len(prefix), pos + len(prefix) + len(body), speaker))
        parts.append(prefix + body)
        pos += len(prefix) + len(body)
    return "\n\n".join(parts), turns
