"""A transcript's speaker turn as context for its passages, before they are clustered (issue 13).

A long answer is cut into several passages (a passage never runs past `max_chars`), and read alone
each is a few sentences that may name its topic only in the one before ("...and that's the other
thing, it just takes too long"). A coder reads the answer as a whole, and a coded span mostly covers
its answer's passages together. So each codable passage of a speaker turn is moved towards the turn's
codable passages next to it: its unit vector plus `weight` times the mean of its neighbours' (the one
before and the one after, in the same turn), at unit length again. Only neighbours, not the whole
turn: a long monologue drifts from topic to topic, and the passage three paragraphs on is not context.

Measured in docs/benchmarks.md, "Interview transcripts: the turn and the question as context": with
turns whose passages keep one code it lifts NMI and harmonic purity by about 0.07 on the NHS
comments; with turns whose passages change code at chance it costs up to 0.02; the two transcript
proxies have one passage per answer (napire 4 passages in multi-passage turns, nhs 90) and do not move.

Off by default (`synth discover --turn-context 0.25` turns it on): on the demo it moved 21 of 273
passages and the partition around them changed enough to break up a small recurring idea
(`tests/test_demo_themes.py`, flexible appointments), and no measured set shows a gain on real turns.
Passages outside transcripts (no speaker) are left as they are in any case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .records import Passage
from .vectors import UnitRows, unit

# The weight measured: with it, the neighbours' mean counts a quarter as much as the passage itself; at
# 0.5 the gain with one-code turns doubled, and so did the loss with turns that change code.
TURN_WEIGHT = 0.25


def turn_neighbours(codable: Sequence[Passage], every: Sequence[Passage]) -> list[list[int]]:
    """For each of `codable`, the indexes (into `codable`) of the codable passages before and after it in
    the same speaker turn. A turn is a run of a source's passages, in text order, said by one speaker:
    `every` holds the source's other passages (the interviewer's, the uncodable), whose speaker ends a run;
    an uncodable passage of the same speaker inside the run ("Yeah.") does not."""
    index = {p.id: i for i, p in enumerate(codable)}
    by_source: dict[int, list[Passage]] = defaultdict(list)
    for p in every:
        if p.speaker is not None:
            by_source[p.source_id].append(p)
    out: list[list[int]] = [[] for _ in codable]
    for passages in by_source.values():
        passages.sort(key=lambda p: p.start_char)
        run: list[int] = []  # the codable passages of the current turn, in order
        speaker = None
        for p in passages + [None]:
            if p is None or p.speaker != speaker:
                for before, after in zip(run, run[1:]):
                    out[before].append(after)
                    out[after].append(before)
                run, speaker = [], (p.speaker if p is not None else None)
            if p is not None and p.id in index:
                run.append(index[p.id])
    return out


def with_turn_context(units: UnitRows, neighbours: Sequence[Sequence[int]], weight: float = TURN_WEIGHT) -> int:
    """Move each row of `units` towards its turn neighbours' (`turn_neighbours`), in place; the number of
    rows moved. Every row is computed from the rows as they were, so the order does not matter."""
    moved = [i for i, near in enumerate(neighbours) if near]
    if not moved or weight == 0:
        return 0
    rows = units.rows
    new = np.stack([rows[i] + weight * rows[list(neighbours[i])].mean(axis=0) for i in moved])
    rows[moved] = unit(new)
    return len(moved)
