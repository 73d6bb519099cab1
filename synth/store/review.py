"""What reviewers and the categoriser record about passages and themes: categories (the machine's, a
reviewer's, learned), the decision log, evidence appraisal and validation samples."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path


from ..errors import NotFoundError
from .rows import Decision, SQL_CHUNK, now_iso, _decision, _dumps


class ReviewTables:
    """The review side's tables (part of `Project`)."""

    db: sqlite3.Connection
    path: Path

    # -- passage categories ----------------------------------------------------------------------

    def set_passage_category(self, passage_id: int, category: str, scores: Mapping[str, float], cues: Sequence[Mapping],
                             made_by: str = "") -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO passage_categories"
            " (passage_id, category, barrier, enabler, practice, context, cues, made_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (passage_id, category, float(scores["barrier"]), float(scores["enabler"]), float(scores["practice"]),
             float(scores["context"]), _dumps(list(cues)), made_by),
        )

    def passage_categories_made_by(self, made_by: str) -> dict[int, tuple[str, dict[str, float], list[dict]]]:
        """Category, scores and cue matches (as stored) of the passages whose category `made_by`
        computed (see discover). The cues come back too: a re-run that reuses a category must give
        the theme the same reasons ("barrier cues: …") as the run that computed it."""
        return {r[0]: (r[1], {"barrier": r[2], "enabler": r[3], "practice": r[4], "context": r[5]}, json.loads(r[6]))
                for r in self.db.execute("SELECT passage_id, category, barrier, enabler, practice, context, cues"
                                         " FROM passage_categories WHERE made_by = ?", (made_by,))}


    def passage_categories(self, passage_ids: Sequence[int] | None = None) -> dict[int, dict]:
        """Categories of all passages, or only of `passage_ids` (a page of a large project)."""
        if passage_ids is None:
            rows = list(self.db.execute("SELECT * FROM passage_categories"))
        else:
            ids = list(dict.fromkeys(passage_ids))
            rows = []
            # SQLite limits the number of ? in one statement (999 in older builds): ask in chunks.
            for start in range(0, len(ids), SQL_CHUNK):
                chunk = ids[start:start + SQL_CHUNK]
                rows += self.db.execute(
                    f"SELECT * FROM passage_categories WHERE passage_id IN ({','.join('?' * len(chunk))})", chunk)
        out = {}
        for r in rows:
            out[r["passage_id"]] = {
                "category": r["category"],
                "scores": {k: r[k] for k in ("barrier", "enabler", "practice", "context")},
                "cues": json.loads(r["cues"]),
            }
        return out

    # -- decision log --------------------------------------------------------------------------------

    def log_decision(self, *, reviewer: str, action: str, theme_id: int | None = None, passage_id: int | None = None,
                     before: Mapping | None = None, after: Mapping | None = None, undoes: int | None = None) -> int:
        cur = self.db.execute(
            "INSERT INTO decisions (at, reviewer, action, theme_id, passage_id, before, after, undoes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now_iso(), reviewer, action, theme_id, passage_id, _dumps(before or {}), _dumps(after or {}), undoes),
        )
        return cur.lastrowid

    def decisions(self, *, theme_id: int | None = None) -> list[Decision]:
        where, args = ("WHERE theme_id = ?", (theme_id,)) if theme_id is not None else ("", ())
        rows = self.db.execute(f"SELECT * FROM decisions {where} ORDER BY id", args)
        return [_decision(r) for r in rows]

    # -- evidence appraisal (migration 9; see synth.evidence) ----------------------------------------
    # Written only by the review actions in synth.review.appraisal, never by discover.

    def source_appraisals(self) -> dict[str, dict]:
        """Each appraised source's name -> {quality, note, reviewer, at}."""
        return {r["source_name"]: {"quality": r["quality"], "note": r["note"], "reviewer": r["reviewer"], "at": r["at"]}
                for r in self.db.execute("SELECT * FROM source_appraisals ORDER BY source_name")}

    def set_source_appraisal(self, source_name: str, state: Mapping | None) -> None:
        """Record (or, with None, withdraw) the appraisal of the source called `source_name`."""
        self.db.execute("DELETE FROM source_appraisals WHERE source_name = ?", (source_name,))
        if state is not None:
            self.db.execute("INSERT INTO source_appraisals VALUES (?, ?, ?, ?, ?)",
                            (source_name, state["quality"], state.get("note", ""), state["reviewer"], state["at"]))

    def review_scope(self) -> dict[str, tuple[str, ...]]:
        """The review's scope: field ('kind' or a metadata field) -> the values the review is about."""
        out: dict[str, list[str]] = {}
        for r in self.db.execute("SELECT field, value FROM review_scope ORDER BY field, value"):
            out.setdefault(r["field"], []).append(r["value"])
        return {k: tuple(v) for k, v in out.items()}

    def set_review_scope(self, scope: Mapping[str, Sequence[str]]) -> None:
        """Replace the whole scope (an empty mapping clears it)."""
        self.db.execute("DELETE FROM review_scope")
        self.db.executemany("INSERT OR IGNORE INTO review_scope VALUES (?, ?)",
                            [(f, v) for f, values in scope.items() for v in values])

    def metadata_fields(self) -> dict[str, set[str]]:
        """Every metadata field of the current sources, with the values it takes."""
        out: dict[str, set[str]] = {}
        for r in self.db.execute("SELECT md.key, md.value FROM source_metadata md JOIN sources s ON s.id = md.source_id"
                                 " WHERE s.is_current = 1"):
            out.setdefault(r[0], set()).add(r[1])
        return out

    def theme_confidences(self) -> dict[int, dict]:
        """Theme id -> the confidence a reviewer set: {level, reason, reviewer, at}."""
        return {r["theme_id"]: {"level": r["level"], "reason": r["reason"], "reviewer": r["reviewer"], "at": r["at"]}
                for r in self.db.execute("SELECT * FROM theme_confidence ORDER BY theme_id")}

    def set_theme_confidence(self, theme_id: int, state: Mapping | None) -> None:
        self.db.execute("DELETE FROM theme_confidence WHERE theme_id = ?", (theme_id,))
        if state is not None:
            self.db.execute("INSERT INTO theme_confidence VALUES (?, ?, ?, ?, ?)",
                            (theme_id, state["level"], state["reason"], state["reviewer"], state["at"]))

    def sources_in_ingest_order(self) -> list[tuple[int, str, str, dict[str, str]]]:
        """(id, name, kind, metadata) of every current source, oldest first (the order they were added)."""
        meta = self.source_metadata()
        return [(r[0], r[1], r[2], meta.get(r[0], {})) for r in self.db.execute(
            "SELECT id, name, kind FROM sources WHERE is_current = 1 ORDER BY ingested_at, id")]

    def placed_passage_sources(self) -> list[tuple[int, int, int]]:
        """(theme id, passage id, source id) of every placed passage of a current source."""
        return [tuple(r) for r in self.db.execute(
            "SELECT m.theme_id, p.id, p.source_id FROM memberships m JOIN passages p ON p.id = m.passage_id"
            " JOIN sources s ON s.id = p.source_id WHERE m.placed = 1 AND s.is_current = 1"
            " ORDER BY m.theme_id, p.id")]
    # -- reviewers' categories, learned suggestions (issue 14) ----------------------------------

    def reviewed_categories(self, passage_ids: Sequence[int] | None = None) -> dict[int, dict]:
        """The category a reviewer set, per passage: {"category", "reviewer", "at"}."""
        if passage_ids is None:
            rows = self.db.execute("SELECT * FROM passage_reviews")
        else:
            rows = self._rows_for_ids("SELECT * FROM passage_reviews WHERE passage_id IN ({})", passage_ids)
        return {r["passage_id"]: {"category": r["category"], "reviewer": r["reviewer"], "at": r["at"]} for r in rows}

    def set_reviewed_category(self, passage_id: int, state: Mapping | None) -> None:
        """Set (or, with None, clear) a reviewer's category for a passage."""
        if state is None:
            self.db.execute("DELETE FROM passage_reviews WHERE passage_id = ?", (passage_id,))
            return
        self.db.execute("INSERT OR REPLACE INTO passage_reviews VALUES (?, ?, ?, ?)",
                        (passage_id, state["category"], state["reviewer"], state["at"]))

    def learned_categories(self, passage_ids: Sequence[int] | None = None) -> dict[int, dict]:
        """The learned model's suggestion per passage: {"category", "scores", "reasons"}."""
        if passage_ids is None:
            rows = self.db.execute("SELECT * FROM passage_learned")
        else:
            rows = self._rows_for_ids("SELECT * FROM passage_learned WHERE passage_id IN ({})", passage_ids)
        return {r["passage_id"]: {"category": r["category"], "scores": json.loads(r["scores"]),
                                  "reasons": json.loads(r["reasons"])} for r in rows}

    def replace_learned_categories(self, rows: Mapping[int, Mapping], run_id: int | None) -> None:
        """The learned suggestions of one run replace the previous run's (none when nothing was learned)."""
        self.db.execute("DELETE FROM passage_learned")
        self.db.executemany("INSERT INTO passage_learned VALUES (?, ?, ?, ?, ?)",
                            [(pid, r["category"], _dumps(r["scores"]), _dumps(list(r["reasons"])), run_id)
                             for pid, r in rows.items()])

    # -- validation samples (issue 14) ------------------------------------------------------------

    def add_validation_sample(self, *, seed: int, created_by: str, run_id: int | None,
                              items: Sequence[Mapping]) -> int:
        cur = self.db.execute("INSERT INTO validation_samples (created_at, seed, size, created_by, run_id)"
                              " VALUES (?, ?, ?, ?, ?)", (now_iso(), seed, len(items), created_by, run_id))
        sample_id = cur.lastrowid
        self.db.executemany(
            "INSERT INTO validation_items (sample_id, rank, passage_id, stratum, machine_theme_id, machine_category)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(sample_id, rank, it["passage_id"], it["stratum"], it["machine_theme_id"], it["machine_category"])
             for rank, it in enumerate(items)])
        return sample_id

    def validation_samples(self) -> list[dict]:
        return [dict(r) for r in self.db.execute("SELECT * FROM validation_samples ORDER BY id")]

    def validation_items(self, sample_id: int) -> list[dict]:
        return [dict(r) for r in self.db.execute("SELECT * FROM validation_items WHERE sample_id = ? ORDER BY rank",
                                                 (sample_id,))]

    def validation_item(self, item_id: int) -> dict:
        row = self.db.execute("SELECT * FROM validation_items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"validation item {item_id} is not in {self.path}")
        return dict(row)

    def validation_codes(self, sample_id: int) -> list[dict]:
        return [dict(r) for r in self.db.execute(
            "SELECT c.* FROM validation_codes c JOIN validation_items i ON i.id = c.item_id"
            " WHERE i.sample_id = ? ORDER BY i.rank, c.reviewer", (sample_id,))]

    def validation_code(self, item_id: int, reviewer: str) -> dict | None:
        row = self.db.execute("SELECT * FROM validation_codes WHERE item_id = ? AND reviewer = ?",
                              (item_id, reviewer)).fetchone()
        return dict(row) if row else None

    def set_validation_code(self, item_id: int, reviewer: str, state: Mapping | None) -> None:
        """Set (or, with None, clear) one reviewer's code for a validation item."""
        if state is None:
            self.db.execute("DELETE FROM validation_codes WHERE item_id = ? AND reviewer = ?", (item_id, reviewer))
            return
        self.db.execute("INSERT OR REPLACE INTO validation_codes VALUES (?, ?, ?, ?, ?)",
                        (item_id, reviewer, state["theme_id"], state["category"], state["at"]))
