"""The read model's queries (synth.readmodel): a page of a large project found and counted in SQL,
walking indexes rather than reading every passage."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..records import Passage
from ..statuses import LIVE
from .rows import Decision, Membership, _decision, _passage


class ReadTables:
    """Pages and counts for the review app and the read model (part of `Project`)."""

    db: sqlite3.Connection
    path: Path

    # -- the read model's queries (synth.readmodel): pages of a large project, in SQL ---------------

    def summary_world(self) -> tuple:
        """What every theme summary depends on beyond its own theme: the latest run, and the sources."""
        return tuple(self.db.execute(
            "SELECT (SELECT MAX(id) FROM runs), (SELECT COUNT(*) FROM sources WHERE is_current = 1),"
            " (SELECT MAX(id) FROM sources), (SELECT COUNT(*) FROM source_metadata)").fetchone())

    def theme_centroids(self, theme_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The centroid of each of `theme_ids` that has one."""
        rows = self._rows_for_ids("SELECT id, centroid FROM themes WHERE id IN ({}) AND centroid IS NOT NULL",
                                  theme_ids)
        return {r[0]: np.frombuffer(r[1], dtype=np.float32) for r in rows}

    def passages_by_id(self, passage_ids: Sequence[int]) -> dict[int, Passage]:
        return {r["id"]: _passage(r) for r in self._rows_for_ids("SELECT * FROM passages WHERE id IN ({})", passage_ids)}

    def memberships_of(self, passage_ids: Sequence[int]) -> dict[int, Membership]:
        """The membership (placed or not) of each of `passage_ids` that has one."""
        return {r["passage_id"]: Membership(r["passage_id"], r["theme_id"], r["probability"], bool(r["placed"]),
                                            bool(r["by_human"]))
                for r in self._rows_for_ids("SELECT * FROM memberships WHERE passage_id IN ({})", passage_ids)}

    def unplaced_passages(self, *, limit: int, offset: int = 0) -> tuple[int, list[Passage]]:
        """(how many, one page of) codable passages of current sources that are in no live theme:
        neither placed in one nor coded to one by a reviewer. In source order."""
        return self.count_unplaced(), self.unplaced_page(limit=limit, offset=offset)

    def count_unplaced(self) -> int:
        return self.db.execute(f"SELECT COUNT(*) {self._unplaced()}").fetchone()[0]

    def unplaced_page(self, *, limit: int, offset: int = 0) -> list[Passage]:
        # Sources in name order, their passages in order (an index each): the page is found without
        # sorting, or reading the text of, the passages before it.
        return [_passage(r) for r in self.db.execute(
            f"SELECT p.* {self._unplaced()} ORDER BY s.name, s.version, p.seq LIMIT ? OFFSET ?", (limit, offset))]

    @staticmethod
    def _unplaced() -> str:
        live = ", ".join(repr(s) for s in LIVE)
        return ("FROM sources s CROSS JOIN passages p ON p.source_id = s.id WHERE s.is_current = 1 AND p.codable = 1"
                 " AND NOT EXISTS (SELECT 1 FROM memberships m JOIN themes t ON t.id = m.theme_id"
                 f"  WHERE m.passage_id = p.id AND m.placed = 1 AND t.status IN ({live}))"
                 " AND NOT EXISTS (SELECT 1 FROM codings c JOIN themes t ON t.id = c.theme_id"
                 f"  WHERE c.passage_id = p.id AND t.status IN ({live}))")

    def live_memos(self, *, theme_id: int | None = None, passage_ids: Sequence[int] | None = None) -> list[Decision]:
        """Memos not undone, oldest first: all, of one theme (on the theme itself), or on some passages."""
        select = ("SELECT * FROM decisions d WHERE action = 'memo'"
                  " AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = d.id)")
        if passage_ids is not None:
            rows = self._rows_for_ids(select + " AND passage_id IN ({})", passage_ids)
        elif theme_id is not None:
            rows = self.db.execute(select + " AND theme_id = ? AND passage_id IS NULL", (theme_id,)).fetchall()
        else:
            rows = self.db.execute(select).fetchall()
        return sorted((_decision(r) for r in rows), key=lambda d: d.id)

    def latest_decision_id(self) -> int | None:
        return self.db.execute("SELECT MAX(id) FROM decisions").fetchone()[0]

    def latest_undoable(self, reviewer: str) -> Decision | None:
        """The reviewer's latest decision that is not an undo and has not been undone."""
        row = self.db.execute(
            "SELECT * FROM decisions d WHERE reviewer = ? AND undoes IS NULL AND action != 'undo'"
            " AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = d.id) ORDER BY id DESC LIMIT 1",
            (reviewer,)).fetchone()
        return _decision(row) if row is not None else None
