"""The rows the store reads back (frozen records), and the small conversions every table family shares."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from ..records import Passage

SQL_CHUNK = 900  # ids per IN (...) query: under SQLite's oldest limit on parameters (999)
MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer: a larger id names nothing (and would overflow)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- rows read back --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ThemeRow:
    id: int
    guid: str
    label: str
    definition: str
    top_terms: tuple[str, ...]
    category: str | None
    category_confidence: float | None
    category_mix: dict[str, float]
    category_reasons: tuple[str, ...]
    status: str
    label_by_human: bool
    definition_by_human: bool
    category_by_human: bool
    merged_into: int | None
    parent_id: int | None
    revision: int
    size: int  # placed member passages
    updated_at: str
    origin: str = "discovered"


@dataclass(frozen=True)
class Membership:
    passage_id: int
    theme_id: int
    probability: float
    placed: bool
    by_human: bool


@dataclass(frozen=True)
class ThemeName:
    id: int
    label: str
    status: str


@dataclass(frozen=True)
class Coding:
    """A reviewer's coding of a passage to a theme beyond its primary one (multi-coding)."""

    passage_id: int
    theme_id: int
    reviewer: str
    at: str


# Private-use characters that mark a search match inside a passage's text (see search_passages).
MATCH_START, MATCH_END = "\ue000", "\ue001"


@dataclass(frozen=True)
class PassageAt:
    """A passage where it stands: its source, its offsets in the source's text, and its text."""

    passage_id: int
    source_id: int
    source_name: str
    source_kind: str
    start_char: int
    end_char: int
    text: str
    speaker: str | None


@dataclass(frozen=True)
class SearchRow(PassageAt):
    marked: str   # the text with each match between MATCH_START and MATCH_END
    score: float  # bm25 relevance, higher is better

    def matches(self) -> list[tuple[int, int]]:
        """(start, end) of each matched stretch, as offsets into `text`. A text that itself holds
        the marker characters (a hostile file) gets no highlights rather than wrong ones."""
        if MATCH_START in self.text or MATCH_END in self.text:
            return []
        out, at, start = [], 0, None
        for ch in self.marked:
            if ch == MATCH_START:
                start = at
            elif ch == MATCH_END and start is not None:
                out.append((start, at))
                start = None
            else:
                at += 1
        return out


@dataclass(frozen=True)
class SearchPage:
    total: int   # matches, up to COUNT_CAP
    more: bool   # more than COUNT_CAP match
    ranked: bool  # best first (bm25); else in document order
    rows: list[SearchRow]


@dataclass(frozen=True)
class Decision:
    id: int
    at: str
    reviewer: str
    action: str
    theme_id: int | None
    passage_id: int | None
    before: dict
    after: dict
    undoes: int | None


# Passage ids coded to theme ? (bound twice): its placed members, with their probability, and a
# reviewer's further codings, which count as certain.
_MEMBERS_OF_THEME = ("SELECT passage_id, probability FROM memberships WHERE theme_id = ? AND placed = 1"
                     " UNION ALL SELECT passage_id, 1.0 FROM codings WHERE theme_id = ?")


def _passage(r: sqlite3.Row) -> Passage:
    return Passage(id=r["id"], source_id=r["source_id"], start_char=r["start_char"], end_char=r["end_char"],
                   text=r["text"], speaker=r["speaker"], codable=bool(r["codable"]), text_sha256=r["text_sha256"],
                   structure_kind=r["structure_kind"], structure_reason=r["structure_reason"],
                   section_heading=r["section_heading"])


def _theme_row(r: sqlite3.Row, size: int) -> ThemeRow:
    return ThemeRow(
        id=r["id"], guid=r["guid"], label=r["label"], definition=r["definition"],
        top_terms=tuple(json.loads(r["top_terms"])), category=r["category"],
        category_confidence=r["category_confidence"], category_mix=json.loads(r["category_mix"]),
        category_reasons=tuple(json.loads(r["category_reasons"])), status=r["status"],
        label_by_human=bool(r["label_by_human"]), definition_by_human=bool(r["definition_by_human"]),
        category_by_human=bool(r["category_by_human"]), merged_into=r["merged_into"],
        parent_id=r["parent_id"], revision=r["revision"], size=size, updated_at=r["updated_at"],
        origin=r["origin"],
    )


def _decision(r: sqlite3.Row) -> Decision:
    return Decision(r["id"], r["at"], r["reviewer"], r["action"], r["theme_id"], r["passage_id"],
                    json.loads(r["before"]), json.loads(r["after"]), r["undoes"])


def _dumps(value: object) -> str:
    # Sorted keys: the same state always serialises to the same bytes (byte-identical exports).
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()
