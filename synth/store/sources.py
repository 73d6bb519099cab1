"""Sources, their passages and metadata, and discover's runs: what `synth ingest` writes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path


from ..errors import NotFoundError
from ..records import ExtractedDocument, Passage, PassageSpan, Source
from ..statuses import LIVE
from .rows import MAX_ROW_ID, now_iso, _MEMBERS_OF_THEME, _dumps, _passage


class SourceTables:
    """The `sources`, `source_metadata`, `passages` and `runs` tables (part of `Project`)."""

    db: sqlite3.Connection
    path: Path

    # -- sources and passages ------------------------------------------------------------------

    def current_source_by_name(self, name: str) -> Source | None:
        row = self.db.execute("SELECT * FROM sources WHERE name = ? AND is_current = 1", (name,)).fetchone()
        return self._source(row) if row else None

    def current_source_with_sha(self, sha256: str) -> Source | None:
        row = self.db.execute("SELECT * FROM sources WHERE sha256 = ? AND is_current = 1", (sha256,)).fetchone()
        return self._source(row) if row else None

    def add_source(self, doc: ExtractedDocument, spans: Sequence[PassageSpan], text_hashes: Sequence[str]) -> tuple[Source, list[int]]:
        """Store a source (a new version if one of that name exists) and its passages."""
        previous = self.current_source_by_name(doc.name)
        version = previous.version + 1 if previous else 1
        if previous:
            self.db.execute("UPDATE sources SET is_current = 0 WHERE id = ?", (previous.id,))
        cur = self.db.execute(
            "INSERT INTO sources (name, kind, path, sha256, text, version, is_current, supersedes_id, notes, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            (doc.name, doc.kind, doc.path, doc.sha256, doc.text, version,
             previous.id if previous else None, json.dumps(list(doc.notes)), now_iso()),
        )
        source_id = cur.lastrowid
        self.db.executemany(
            "INSERT INTO source_metadata VALUES (?, ?, ?)",
            [(source_id, k, str(v)) for k, v in sorted(doc.metadata.items())],
        )
        passage_ids = []
        for seq, (span, digest) in enumerate(zip(spans, text_hashes, strict=True)):
            cur = self.db.execute(
                "INSERT INTO passages (source_id, seq, start_char, end_char, text, speaker, codable, text_sha256,"
                " structure_kind, structure_reason, section_heading) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source_id, seq, span.start_char, span.end_char, span.text, span.speaker, int(span.codable), digest,
                 span.structure_kind, span.structure_reason, span.section_heading),
            )
            passage_ids.append(cur.lastrowid)
        if previous:
            self._carry_human_memberships(previous.id, source_id)
        return self.source(source_id), passage_ids

    def _carry_human_memberships(self, old_source_id: int, new_source_id: int) -> None:
        """A new version of a source keeps the human placements of passages whose text is unchanged."""
        rows = self.db.execute(
            "SELECT new.id AS new_id, m.theme_id, m.probability, m.placed FROM memberships m"
            " JOIN passages old ON old.id = m.passage_id AND old.source_id = ?"
            " JOIN passages new ON new.source_id = ? AND new.text_sha256 = old.text_sha256"
            " WHERE m.by_human = 1",
            (old_source_id, new_source_id),
        ).fetchall()
        for row in rows:
            self.db.execute(
                "INSERT OR IGNORE INTO memberships (passage_id, theme_id, probability, placed, by_human) VALUES (?, ?, ?, ?, 1)",
                (row["new_id"], row["theme_id"], row["probability"], row["placed"]),
            )
        # Structure a reviewer included as content (or placed by hand) stays included in the new version.
        self.db.execute(
            "UPDATE passages SET codable = 1 WHERE source_id = ? AND structure_kind IS NOT NULL AND codable = 0 AND ("
            " text_sha256 IN (SELECT text_sha256 FROM passages WHERE source_id = ? AND structure_kind IS NOT NULL"
            "  AND codable = 1)"
            " OR id IN (SELECT passage_id FROM memberships WHERE by_human = 1 AND placed = 1))",
            (new_source_id, old_source_id),
        )

    def replace_source_metadata(self, source_id: int, kind: str, metadata: Mapping[str, str]) -> None:
        """A manifest edit on an unchanged file: new kind and metadata, same passages."""
        self.db.execute("UPDATE sources SET kind = ? WHERE id = ?", (kind, source_id))
        self.db.execute("DELETE FROM source_metadata WHERE source_id = ?", (source_id,))
        self.db.executemany("INSERT INTO source_metadata VALUES (?, ?, ?)",
                            [(source_id, k, str(v)) for k, v in sorted(metadata.items())])

    def source(self, source_id: int) -> Source:
        row = None if not 0 <= source_id <= MAX_ROW_ID else self.db.execute("SELECT * FROM sources WHERE id = ?", (source_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"source {source_id} is not in {self.path}")
        return self._source(row)

    def sources(self, *, current_only: bool = True) -> list[Source]:
        where = "WHERE is_current = 1" if current_only else ""
        return [self._source(r) for r in self.db.execute(f"SELECT * FROM sources {where} ORDER BY name, version")]

    def source_notes(self, source_id: int) -> list[str]:
        return json.loads(self.db.execute("SELECT notes FROM sources WHERE id = ?", (source_id,)).fetchone()[0])

    def sources_by_id(self, source_ids: Sequence[int]) -> dict[int, Source]:
        """The sources of `source_ids` that exist, with their metadata, in two queries (for a page of passages)."""
        meta: dict[int, dict[str, str]] = {}
        for r in self._rows_for_ids("SELECT source_id, key, value FROM source_metadata WHERE source_id IN ({})"
                                    " ORDER BY source_id, key", source_ids):
            meta.setdefault(r[0], {})[r[1]] = r[2]
        return {r["id"]: self._source(r, meta.get(r["id"], {}))
                for r in self._rows_for_ids("SELECT * FROM sources WHERE id IN ({})", source_ids)}

    def _source(self, row: sqlite3.Row, meta: dict[str, str] | None = None) -> Source:
        if meta is None:
            meta = {r["key"]: r["value"] for r in self.db.execute(
                "SELECT key, value FROM source_metadata WHERE source_id = ? ORDER BY key", (row["id"],))}
        return Source(id=row["id"], name=row["name"], kind=row["kind"], path=row["path"], sha256=row["sha256"],
                      text=row["text"], version=row["version"], metadata=meta)

    def theme_evidence_rows(self, theme_id: int, *, with_text: bool = True) -> list[sqlite3.Row]:
        """A theme's placed passages with their source's name and kind, in one query."""
        text = "p.text" if with_text else "'' AS text"  # counts and spread need no text: skip reading it
        return self.db.execute(
            f"WITH members (passage_id, probability) AS ({_MEMBERS_OF_THEME})"
            f" SELECT p.id, p.source_id, p.start_char, p.end_char, {text}, s.name AS source_name,"
            " s.kind AS source_kind, MAX(m.probability) AS probability, p.structure_kind, p.codable,"
            " p.section_heading FROM members m"
            " JOIN passages p ON p.id = m.passage_id JOIN sources s ON s.id = p.source_id"
            " WHERE s.is_current = 1 GROUP BY p.id ORDER BY probability DESC, p.id",
            (theme_id, theme_id),
        ).fetchall()

    def theme_members(self, theme_id: int) -> list[tuple[int, float, bool]]:
        """(passage id, probability, primary?) of every passage coded to the theme: its placed
        members (primary) and a reviewer's further codings (probability 1), current sources only."""
        return [(r[0], r[1], bool(r[2])) for r in self.db.execute(
            "SELECT p.id, MAX(m.probability) AS probability, MAX(m.is_primary) FROM"
            " (SELECT passage_id, probability, 1 AS is_primary FROM memberships WHERE theme_id = ? AND placed = 1"
            "  UNION ALL SELECT passage_id, 1.0, 0 FROM codings WHERE theme_id = ?) m"
            " JOIN passages p ON p.id = m.passage_id JOIN sources s ON s.id = p.source_id"
            " WHERE s.is_current = 1 GROUP BY p.id ORDER BY probability DESC, p.id", (theme_id, theme_id))]

    def metadata_of_theme_sources(self, theme_id: int) -> dict[int, dict[str, str]]:
        """Metadata of the sources a theme's placed passages come from."""
        out: dict[int, dict[str, str]] = {}
        for r in self.db.execute(
            "SELECT md.source_id, md.key, md.value FROM source_metadata md WHERE md.source_id IN"
            f" (SELECT DISTINCT p.source_id FROM ({_MEMBERS_OF_THEME}) m JOIN passages p ON p.id = m.passage_id)"
            " ORDER BY md.source_id, md.key",
            (theme_id, theme_id),
        ):
            out.setdefault(r["source_id"], {})[r["key"]] = r["value"]
        return out

    def source_names(self) -> dict[int, str]:
        return {r[0]: r[1] for r in self.db.execute("SELECT id, name FROM sources")}

    def source_kinds(self) -> dict[int, str]:
        """Each source's kind (literature, interview, survey), without reading its text."""
        return {r[0]: r[1] for r in self.db.execute("SELECT id, kind FROM sources")}

    def source_metadata(self) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {}
        for r in self.db.execute("SELECT source_id, key, value FROM source_metadata ORDER BY source_id, key"):
            out.setdefault(r["source_id"], {})[r["key"]] = r["value"]
        return out

    def passages(self, *, codable_only: bool = False, current_only: bool = True, source_id: int | None = None) -> list[Passage]:
        clauses, args = [], []
        if codable_only:
            clauses.append("p.codable = 1")
        if current_only:
            clauses.append("s.is_current = 1")
        if source_id is not None:
            clauses.append("p.source_id = ?")
            args.append(source_id)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.execute(
            f"SELECT p.* FROM passages p JOIN sources s ON s.id = p.source_id {where} ORDER BY s.name, s.version, p.seq", args)
        return [_passage(r) for r in rows]

    def passage(self, passage_id: int) -> Passage:
        row = None if not 0 <= passage_id <= MAX_ROW_ID else self.db.execute("SELECT * FROM passages WHERE id = ?", (passage_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"passage {passage_id} is not in {self.path}")
        return _passage(row)

    def set_passage_codable(self, passage_id: int, codable: bool) -> None:
        """A reviewer's include (or its undo): whether a structure passage is coded as content."""
        self.db.execute("UPDATE passages SET codable = ? WHERE id = ?", (int(codable), passage_id))

    def clear_machine_memberships_of_uncodable(self) -> int:
        """Drop what discover placed for passages that are no longer codable (structure found by the
        migration, an include undone); a reviewer's placements and accepted themes' members stay."""
        return self.db.execute(
            "DELETE FROM memberships WHERE by_human = 0"
            " AND passage_id IN (SELECT id FROM passages WHERE codable = 0)"
            " AND NOT (placed = 1 AND theme_id IN (SELECT id FROM themes WHERE status = 'accepted'))"
        ).rowcount

    def counts(self) -> dict[str, int]:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "sources": one("SELECT COUNT(*) FROM sources WHERE is_current = 1"),
            "passages": one("SELECT COUNT(*) FROM passages p JOIN sources s ON s.id = p.source_id WHERE s.is_current = 1"),
            "codable": one("SELECT COUNT(*) FROM passages p JOIN sources s ON s.id = p.source_id WHERE s.is_current = 1 AND p.codable = 1"),
            "themes": one(f"SELECT COUNT(*) FROM themes WHERE status IN ({', '.join(repr(s) for s in LIVE)})"),
            "runs": one("SELECT COUNT(*) FROM runs"),
            "decisions": one("SELECT COUNT(*) FROM decisions"),
        }

    def more_codable_than(self, n: int) -> bool:
        """Whether the current sources hold more than n codable passages; reads at most n + 1 of them
        (the review app asks on every decision: `counts` would count them all, and five other tables)."""
        return self.db.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM passages p JOIN sources s ON s.id = p.source_id"
            " WHERE s.is_current = 1 AND p.codable = 1 LIMIT ?)", (n + 1,)).fetchone()[0] > n

    # -- runs --------------------------------------------------------------------------------------

    def add_run(self, *, started_at: str, seed: int, model_id: str, params: Mapping, stats: Mapping, report: Mapping) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (started_at, finished_at, seed, model_id, params, stats, report) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (started_at, now_iso(), seed, model_id, _dumps(params), _dumps(stats), _dumps(report)),
        )
        return cur.lastrowid

    def set_run_report(self, run_id: int, report_json: str) -> None:
        self.db.execute("UPDATE runs SET report = ? WHERE id = ?", (report_json, run_id))

    def latest_run(self) -> dict | None:
        row = self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        out = dict(row)
        for key in ("params", "stats", "report"):
            out[key] = json.loads(out[key])
        return out
