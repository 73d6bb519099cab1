"""Themes, which passages each holds (memberships), their quotes, and a reviewer's further codings."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import NotFoundError
from ..records import Passage
from ..statuses import LIVE, THEME_STATUSES
from .rows import Coding, MAX_ROW_ID, Membership, ThemeName, ThemeRow, now_iso, _blob, _dumps, _passage, _theme_row


class ThemeTables:
    """The `themes`, `memberships`, `theme_quotes` and `codings` tables (part of `Project`)."""

    db: sqlite3.Connection
    path: Path

    # -- themes ------------------------------------------------------------------------------------

    def create_theme(self, *, label: str, definition: str = "", top_terms: Sequence[str] = (), run_id: int | None = None,
                     status: str = "suggested", parent_id: int | None = None, centroid: np.ndarray | None = None,
                     label_by_human: bool = False, definition_by_human: bool = False, origin: str = "discovered",
                     guid: str | None = None) -> int:
        cur = self.db.execute(
            "INSERT INTO themes (guid, label, definition, top_terms, status, parent_id, centroid, created_run, last_run,"
            " label_by_human, definition_by_human, origin, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (guid or str(uuid.uuid4()).upper(), label, definition, json.dumps(list(top_terms)), status, parent_id,
             _blob(centroid), run_id, run_id, int(label_by_human), int(definition_by_human), origin, now_iso()),
        )
        return cur.lastrowid

    def theme(self, theme_id: int) -> ThemeRow:
        rows = self._themes("WHERE t.id = ?", (theme_id,)) if 0 <= theme_id <= MAX_ROW_ID else []
        if not rows:
            raise NotFoundError(f"theme {theme_id} is not in {self.path}; list the themes with `synth themes {self.path}`")
        return rows[0]

    def themes(self, *, statuses: Sequence[str] = LIVE, sizes: Mapping[int, int] | None = None) -> list[ThemeRow]:
        """Themes of `statuses`, by id; `sizes` when the caller has counted them already."""
        # Sizes of all themes in one aggregate pass, not a counting subquery per theme.
        marks = ",".join("?" * len(statuses))
        sizes = self.theme_sizes() if sizes is None else sizes
        rows = self.db.execute(f"SELECT t.*, 0 AS size FROM themes t WHERE t.status IN ({marks}) ORDER BY t.id",
                               tuple(statuses))
        return [_theme_row(r, sizes.get(r["id"], 0)) for r in rows]

    def _themes(self, where: str, args: tuple) -> list[ThemeRow]:
        rows = self.db.execute(
            "SELECT t.*, (SELECT COUNT(*) FROM memberships m JOIN passages p ON p.id = m.passage_id"
            "  JOIN sources s ON s.id = p.source_id"
            "  WHERE m.theme_id = t.id AND m.placed = 1 AND s.is_current = 1)"
            # a reviewer's further codings count too, once per passage
            " + (SELECT COUNT(*) FROM codings c JOIN passages p ON p.id = c.passage_id"
            "  JOIN sources s ON s.id = p.source_id WHERE c.theme_id = t.id AND s.is_current = 1"
            "  AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.passage_id = c.passage_id"
            "  AND m.theme_id = t.id AND m.placed = 1)) AS size"
            f" FROM themes t {where} ORDER BY t.id",
            args,
        )
        return [_theme_row(r, r["size"]) for r in rows]

    def theme_substance_counts(self) -> dict[int, dict[str, tuple[int, int]]]:
        """Per theme, per source kind: (distinct placed passages that are content, not structure (see
        `Passage.substantive`), their distinct current sources); what triangulation counts."""
        return self.theme_list_counts()[1]

    def theme_kind_counts(self) -> dict[int, dict[str, tuple[int, int]]]:
        """Per theme, per source kind: (distinct placed passages, distinct current sources), every
        theme in one aggregate query (the theme list needs counts, not passages)."""
        return self.theme_list_counts()[0]

    def theme_list_counts(self) -> tuple[dict[int, dict[str, tuple[int, int]]], dict[int, dict[str, tuple[int, int]]]]:
        """`theme_kind_counts` and `theme_substance_counts` together, from one pass over the placed
        passages. The pass starts from the current sources and walks covering indexes (sources ->
        passages -> memberships by primary key), never reading a passage's row: at 100,000 passages
        that is ten times faster than joining each membership to its passage."""
        every: dict[int, dict[str, tuple[int, int]]] = {}
        substance: dict[int, dict[str, tuple[int, int]]] = {}
        content = "(p.structure_kind IS NULL OR p.codable = 1)"
        # With no further codings each passage is in at most one theme's count (its membership is
        # unique), so only sources need counting as distinct: a cheaper grouping, the same figures.
        simple = self.db.execute("SELECT 1 FROM codings LIMIT 1").fetchone() is None
        query = (
            f"SELECT m.theme_id, s.kind, COUNT(*), COUNT(DISTINCT s.id), SUM({content}),"
            f" COUNT(DISTINCT CASE WHEN {content} THEN s.id END) FROM sources s"
            " CROSS JOIN passages p ON p.source_id = s.id CROSS JOIN memberships m ON m.passage_id = p.id"
            " WHERE s.is_current = 1 AND m.placed = 1 GROUP BY m.theme_id, s.kind") if simple else (
            "WITH coded (theme_id, kind, passage_id, source_id, content) AS ("
            f" SELECT m.theme_id, s.kind, p.id, s.id, {content} FROM sources s"
            "  CROSS JOIN passages p ON p.source_id = s.id CROSS JOIN memberships m ON m.passage_id = p.id"
            "  WHERE s.is_current = 1 AND m.placed = 1"
            f" UNION ALL SELECT c.theme_id, s.kind, p.id, s.id, {content} FROM codings c"
            "  JOIN passages p ON p.id = c.passage_id JOIN sources s ON s.id = p.source_id WHERE s.is_current = 1)"
            " SELECT theme_id, kind, COUNT(DISTINCT passage_id), COUNT(DISTINCT source_id),"
            " COUNT(DISTINCT CASE WHEN content THEN passage_id END), COUNT(DISTINCT CASE WHEN content THEN source_id END)"
            " FROM coded GROUP BY theme_id, kind")
        for r in self.db.execute(query):
            every.setdefault(r[0], {})[r[1]] = (r[2], r[3])
            if r[4]:
                substance.setdefault(r[0], {})[r[1]] = (r[4], r[5])
        return every, substance

    def theme_sizes(self) -> dict[int, int]:
        """Each theme's size: placed passages of current sources, and a reviewer's further codings
        of others (once per passage), for every theme in one pass (see `theme_list_counts`)."""
        sizes: dict[int, int] = {}
        # Every source current (nothing re-ingested): each passage counts, and the count needs only
        # the memberships index, not a walk through the passages.
        current = ("SELECT theme_id, COUNT(*) FROM memberships m WHERE placed = 1 GROUP BY theme_id"
                   if self.db.execute("SELECT 1 FROM sources WHERE is_current = 0 LIMIT 1").fetchone() is None else
                   "SELECT m.theme_id, COUNT(*) FROM sources s CROSS JOIN passages p ON p.source_id = s.id"
                   " CROSS JOIN memberships m ON m.passage_id = p.id WHERE s.is_current = 1 AND m.placed = 1"
                   " GROUP BY m.theme_id")
        for theme_id, n in self.db.execute(
            current + " UNION ALL SELECT c.theme_id, COUNT(*) FROM codings c JOIN passages p ON p.id = c.passage_id"
            " JOIN sources s ON s.id = p.source_id WHERE s.is_current = 1 AND NOT EXISTS (SELECT 1 FROM memberships m"
            " WHERE m.passage_id = c.passage_id AND m.theme_id = c.theme_id AND m.placed = 1) GROUP BY c.theme_id"
        ):
            sizes[theme_id] = sizes.get(theme_id, 0) + n
        return sizes

    def theme_names(self, *, statuses: Sequence[str] = THEME_STATUSES) -> list[ThemeName]:
        """Id, label and status of themes, without counting their passages (for menus and search hits)."""
        marks = ",".join("?" * len(statuses))
        return [ThemeName(r[0], r[1], r[2]) for r in self.db.execute(
            f"SELECT id, label, status FROM themes WHERE status IN ({marks}) ORDER BY id", tuple(statuses))]

    def theme_centroid(self, theme_id: int) -> np.ndarray | None:
        row = self.db.execute("SELECT centroid FROM themes WHERE id = ?", (theme_id,)).fetchone()
        return None if row is None or row[0] is None else np.frombuffer(row[0], dtype=np.float32)

    def update_theme(self, theme_id: int, *, bump_revision: bool = True, **fields: object) -> None:
        """Set theme columns; JSON-typed columns take Python values. Human edits bump `revision`."""
        allowed = {"label", "definition", "top_terms", "category", "category_confidence", "category_mix",
                   "category_reasons", "status", "label_by_human", "definition_by_human", "category_by_human",
                   "merged_into", "parent_id", "centroid", "last_run"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown theme fields: {sorted(unknown)}")
        values = []
        for key, value in fields.items():
            if key in ("top_terms", "category_mix", "category_reasons"):
                value = _dumps(value)
            elif key == "centroid":
                value = _blob(value)  # type: ignore[arg-type]
            elif isinstance(value, bool):
                value = int(value)
            values.append(value)
        sets = [f"{k} = ?" for k in fields] + ["updated_at = ?"]
        if bump_revision:
            sets.append("revision = revision + 1")
        self.db.execute(f"UPDATE themes SET {', '.join(sets)} WHERE id = ?", (*values, now_iso(), theme_id))

    # -- memberships and quotes ------------------------------------------------------------------

    def memberships(self, *, theme_id: int | None = None, placed: bool | None = None) -> list[Membership]:
        clauses, args = ["s.is_current = 1"], []
        if theme_id is not None:
            clauses.append("m.theme_id = ?")
            args.append(theme_id)
        if placed is not None:
            clauses.append("m.placed = ?")
            args.append(int(placed))
        rows = self.db.execute(
            "SELECT m.* FROM memberships m JOIN passages p ON p.id = m.passage_id JOIN sources s ON s.id = p.source_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY m.theme_id, m.probability DESC, m.passage_id",
            args,
        )
        return [Membership(r["passage_id"], r["theme_id"], r["probability"], bool(r["placed"]), bool(r["by_human"]))
                for r in rows]

    def membership(self, passage_id: int) -> Membership | None:
        r = self.db.execute("SELECT * FROM memberships WHERE passage_id = ?", (passage_id,)).fetchone()
        return Membership(r["passage_id"], r["theme_id"], r["probability"], bool(r["placed"]), bool(r["by_human"])) if r else None

    def set_membership(self, passage_id: int, theme_id: int, *, probability: float, placed: bool, by_human: bool,
                       run_id: int | None = None) -> None:
        self.db.execute(
            "INSERT INTO memberships (passage_id, theme_id, probability, placed, by_human, run_id) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (passage_id) DO UPDATE SET theme_id = excluded.theme_id, probability = excluded.probability,"
            " placed = excluded.placed, by_human = excluded.by_human, run_id = excluded.run_id",
            (passage_id, theme_id, float(probability), int(placed), int(by_human), run_id),
        )

    def set_machine_memberships(self, rows: Sequence[tuple[int, int, float, bool]], *, run_id: int | None) -> None:
        """Discover's placements, (passage id, theme id, probability, placed) each, in one statement."""
        self.db.executemany(
            "INSERT INTO memberships (passage_id, theme_id, probability, placed, by_human, run_id) VALUES (?, ?, ?, ?, 0, ?)"
            " ON CONFLICT (passage_id) DO UPDATE SET theme_id = excluded.theme_id, probability = excluded.probability,"
            " placed = excluded.placed, by_human = 0, run_id = excluded.run_id",
            [(pid, tid, float(p), int(placed), run_id) for pid, tid, p, placed in rows])

    def clear_memberships(self, passage_ids: Sequence[int]) -> None:
        self.db.executemany("DELETE FROM memberships WHERE passage_id = ?", [(pid,) for pid in passage_ids])

    def clear_membership(self, passage_id: int) -> None:
        self.db.execute("DELETE FROM memberships WHERE passage_id = ?", (passage_id,))

    def set_quotes(self, theme_id: int, passage_ids: Sequence[int]) -> None:
        self.db.execute("DELETE FROM theme_quotes WHERE theme_id = ?", (theme_id,))
        self.db.executemany("INSERT INTO theme_quotes VALUES (?, ?, ?)",
                            [(theme_id, rank, pid) for rank, pid in enumerate(passage_ids)])

    def quotes(self, theme_id: int) -> list[Passage]:
        rows = self.db.execute(
            "SELECT p.* FROM theme_quotes q JOIN passages p ON p.id = q.passage_id WHERE q.theme_id = ? ORDER BY q.rank",
            (theme_id,))
        return [_passage(r) for r in rows]

    # -- a reviewer's further codings (multi-coding) -------------------------------------------

    def codings(self, *, theme_id: int | None = None, passage_ids: Sequence[int] | None = None) -> list[Coding]:
        """Codings beyond each passage's primary theme, of current sources; of one theme, or of some passages."""
        clauses, args = ["s.is_current = 1"], []
        if theme_id is not None:
            clauses.append("c.theme_id = ?")
            args.append(theme_id)
        select = ("SELECT c.* FROM codings c JOIN passages p ON p.id = c.passage_id JOIN sources s ON s.id = p.source_id"
                  f" WHERE {' AND '.join(clauses)}")
        if passage_ids is None:
            rows = list(self.db.execute(f"{select} ORDER BY c.passage_id, c.theme_id", args))
        else:
            ids, rows = list(dict.fromkeys(passage_ids)), []
            for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
                chunk = ids[start:start + 900]
                rows += self.db.execute(f"{select} AND c.passage_id IN ({','.join('?' * len(chunk))})",
                                        [*args, *chunk]).fetchall()
            rows.sort(key=lambda r: (r["passage_id"], r["theme_id"]))
        return [Coding(r["passage_id"], r["theme_id"], r["reviewer"], r["at"]) for r in rows]

    def coding(self, passage_id: int, theme_id: int) -> Coding | None:
        r = self.db.execute("SELECT * FROM codings WHERE passage_id = ? AND theme_id = ?",
                            (passage_id, theme_id)).fetchone()
        return Coding(r["passage_id"], r["theme_id"], r["reviewer"], r["at"]) if r else None

    def set_coding(self, passage_id: int, theme_id: int, *, reviewer: str, at: str | None = None) -> None:
        self.db.execute("INSERT OR REPLACE INTO codings VALUES (?, ?, ?, ?)",
                        (passage_id, theme_id, reviewer, at or now_iso()))

    def clear_coding(self, passage_id: int, theme_id: int) -> None:
        self.db.execute("DELETE FROM codings WHERE passage_id = ? AND theme_id = ?", (passage_id, theme_id))
