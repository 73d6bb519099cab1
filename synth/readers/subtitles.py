"""WebVTT and SRT captions → a readable transcript ("Name: words" per turn) with its speaker turns.

Timestamps, cue numbers, NOTE/STYLE/REGION blocks and markup are dropped. Speakers come from WebVTT
voice tags (`<v Amira Khan>`) or a "Name:" prefix on a cue; a cue without either continues the
current speaker, and consecutive cues of one speaker merge into one turn.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from synth.errors import InputError
from synth.readers.transcript import speaker_from_label

_TIMING = re.compile(
    r"^[ \t]*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})[ \t]*-->[ \t]*(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
)
_VOICE = re.compile(r"<v(?:\.[^\s>]*)*[ \t]+([^>]+)>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|</?>|\{\\[^}]*\}")  # HTML-ish cue markup, SRT "{\an8}" overrides
_PREFIX = re.compile(r"^(?:>>[ \t]*)?(?P<label>[^\W\d_][^:]{0,40}?)[ \t]*:[ \t]+")


@dataclass(frozen=True)
class Segment:
    """A piece of one cue said by one speaker (None: no label, continues the current speaker)."""

    start: str
    speaker: str | None
    words: str


def parse_cues(path: Path, text: str) -> list[Segment]:
    """The cues of a WebVTT or SRT file, split where the voice changes inside a cue."""
    segments: list[Segment] = []
    found_cue = False
    for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = block.split("\n")
        timing = next((i for i, line in enumerate(lines) if _TIMING.match(line)), None)
        if timing is None:
            continue  # WEBVTT header, NOTE, STYLE, REGION, or a stray line
        found_cue = True
        start = _TIMING.match(lines[timing]).group("start")  # type: ignore[union-attr]
        segments.extend(_segments(start, "\n".join(lines[timing + 1:])))
    if not found_cue:
        raise InputError(path, "no caption cues found (no '00:00:01.000 --> 00:00:04.000' timing lines): "
                               "is it really a WebVTT/SRT file? Otherwise save the transcript as .txt")
    return segments


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
