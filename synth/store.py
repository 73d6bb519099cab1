"""The project file: one SQLite database that holds everything synth knows about a review.

This module and `synth.caches` (part of `Project`) are the only ones that speak SQL. Every command
opens a `Project`, does its reading, and makes all of its writes inside one `project.transaction()`,
so a failure (or Ctrl-C) leaves the file exactly as it was. Schema changes are small registered
migrations, each applied in one transaction and recorded in `migrations`.

Over 450 lines on purpose: with `caches.py` it is the only module that speaks SQL, so every query
of the project file is here; the read model of issue 12 is to move the read side's queries out.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import interrupts
from .errors import NotFoundError, ProjectBusyError, ProjectError, ProjectReadOnlyError
from .migrations import MIGRATIONS, SCHEMA_VERSION
from .caches import ProjectCaches
from .projectlock import LockBusy, WriterLock, file_state, verified_state
from .records import ExtractedDocument, Passage, PassageSpan, Source

# 'SYNT': marks a SQLite file as a synth project, so we never write into someone else's database.
APPLICATION_ID = 0x53594E54
SQLITE_MAGIC = b"SQLite format 3\x00"

THEME_STATUSES = ("suggested", "accepted", "rejected", "merged", "retired")
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
class SearchRow:
    passage_id: int
    source_id: int
    source_name: str
    source_kind: str
    start_char: int
    end_char: int
    text: str
    speaker: str | None
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


COUNT_CAP = 10_000  # a search counts its matches up to this many ("more than 10,000")
RANK_CAP = 20_000   # a query found in more passages than this is listed in document order, not ranked


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


def _check_is_project(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise ProjectError(path, f"cannot read the project file ({exc.strerror})") from exc
    if head != SQLITE_MAGIC:
        raise ProjectError(path, "not a synth project file (not an SQLite database); name a new or existing .synth file")


# How long a writing command waits for another one (a review action takes well under a second)
# before it gives up with "another synth command is writing this project".
LOCK_WAIT_SECONDS = 3.0

READ_ONLY = "is read-only, so synth cannot save changes to it (reading it still works: themes, log, export, report)"


def describe_sqlite_error(exc: sqlite3.Error) -> str | None:
    """The cause of an SQLite failure that the machine or the file caused (not a bug), in words."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_FULL"):
        return "the disk is full"
    if name.startswith("SQLITE_IOERR"):
        return f"the disk refused to read or write ({exc}: a full disk, a file-size limit or a failing disk)"
    if name.startswith("SQLITE_READONLY"):
        return "the project file or its folder is read-only"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return f"the project file is damaged ({exc})"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "another program keeps the project file locked"
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return f"the project file cannot be opened ({exc})"
    return None


class Project(ProjectCaches):
    """An open project file. Create with `Project.open(path)`; close with `close()` or `with`.

    Opened for writing (the default) it holds the project's writer lock until closed, so one command
    at a time changes a project; opened with `write=False` it changes nothing, not even SQLite's
    side files where it cannot make them."""

    def __init__(self, path: Path, db: sqlite3.Connection, *, lock: WriterLock | None = None) -> None:
        self.path = path
        self.db = db
        self.writable = lock is not None
        self.created = False  # this open made the file (a failed first command removes it: `discard`)
        self._lock = lock
        self._closed = False

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True, write: bool = True) -> Project:
        """Open `path` to change it (`write=True`: waits up to LOCK_WAIT_SECONDS for another writer,
        integrity-checks the file, applies migrations; `create` makes a missing or empty file a new
        project) or only to read it (`write=False`: never creates, migrates or writes; a missing,
        empty or damaged file is an error)."""
        path = Path(path)
        if path.is_dir():
            raise ProjectError(path, "is a folder, not a project file")
        if not write:
            return cls._open_to_read(path)
        if not path.exists():
            if not create:
                raise ProjectError(path, "no such project file; run `synth ingest` first to create it")
            if not path.parent.exists():
                raise ProjectError(path, f"folder {path.parent} does not exist")
        lock = WriterLock(path)
        try:
            lock.acquire(LOCK_WAIT_SECONDS)
        except LockBusy as busy:
            raise ProjectBusyError(path, busy.pid) from None
        except OSError as exc:
            raise ProjectReadOnlyError(path, f"cannot write in its folder ({exc.strerror}); synth keeps a lock "
                                             "file beside the project while it changes it") from exc
        try:
            return cls._open_to_write(path, create, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_to_write(cls, path: Path, create: bool, lock: WriterLock) -> Project:
        # Looked at only now, under the lock: another command may have just created the file.
        exists = path.exists()
        new = not exists or path.stat().st_size == 0
        if not exists and not create:
            raise ProjectError(path, "no such project file; run `synth ingest` first to create it")
        if new and not create:
            raise ProjectError(path, "is empty (0 bytes), not a synth project; `synth ingest` makes a project")
        if not new:
            _check_is_project(path)
        if exists and not os.access(path, os.W_OK):
            raise ProjectReadOnlyError(path, READ_ONLY)
        if not os.access(path.parent, os.W_OK):
            raise ProjectReadOnlyError(path, f"is in a read-only folder ({path.parent}), where synth cannot save "
                                             "changes (reading it still works: themes, log, export, report)")
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        except sqlite3.Error as exc:
            raise ProjectError(path, describe_sqlite_error(exc) or str(exc)) from exc
        db.row_factory = sqlite3.Row
        project = cls(path, db, lock=lock)
        project.created = not exists
        try:
            project._prepare(new=new)
        except BaseException:
            if project.created:  # e.g. a full disk while writing the schema: leave nothing behind
                project.discard()
            else:
                db.close()
            raise
        return project

    @classmethod
    def _open_to_read(cls, path: Path) -> Project:
        if not path.exists():
            raise ProjectError(path, "no such project file; run `synth ingest` first to create it")
        if path.stat().st_size == 0:
            raise ProjectError(path, "is empty (0 bytes), not a synth project; `synth ingest` makes a project")
        _check_is_project(path)
        uri = path.resolve().as_uri()
        # Where synth may write, a read-write connection with query_only: it cleans up SQLite's
        # side files (-wal, -shm) on closing, as a writer does, and nothing else can change.
        # Elsewhere mode=ro; in a read-only folder, where not even the side files can be made,
        # the file is read as it is (immutable: nothing can be writing there either).
        writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
        modes = ("mode=rw", "mode=ro", "immutable=1") if writable else ("mode=ro", "immutable=1")
        for mode in modes:
            db = sqlite3.connect(f"{uri}?{mode}", uri=True, isolation_level=None, check_same_thread=False, timeout=30)
            db.row_factory = sqlite3.Row
            try:
                db.execute("PRAGMA schema_version").fetchone()
            except sqlite3.Error as exc:
                db.close()
                if mode != "immutable=1" and getattr(exc, "sqlite_errorname", "").startswith(
                        ("SQLITE_READONLY", "SQLITE_CANTOPEN")):
                    continue
                raise ProjectError(path, describe_sqlite_error(exc) or str(exc)) from exc
            project = cls(path, db)
            try:
                db.execute("PRAGMA query_only = ON")
                project._prepare(new=False)
            except BaseException:
                db.close()
                raise
            return project
        raise AssertionError("unreachable")

    def _prepare(self, *, new: bool) -> None:
        db = self.db
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            if (why := describe_sqlite_error(exc)) and not why.startswith("the project file is damaged"):
                raise self._failure(exc, saved=False) from exc
            raise ProjectError(self.path, f"not a synth project file, or a damaged one ({exc})") from exc
        if not new and app_id != APPLICATION_ID:
            raise ProjectError(self.path, "is an SQLite database but not a synth project file; name another file")
        if version > SCHEMA_VERSION:
            raise ProjectError(
                self.path,
                f"was written by a newer synth (schema {version}; this synth knows up to {SCHEMA_VERSION}); upgrade synth to open it",
            )
        if not new:
            self._check_integrity()
        if not self.writable:
            if version < SCHEMA_VERSION:
                raise ProjectError(self.path, f"was written by an earlier synth (schema {version}; this one uses "
                                              f"{SCHEMA_VERSION}); a command that changes the project (e.g. `synth "
                                              "discover`, or opening it in `synth review`) upgrades it first")
            return
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        # Migrations carry numbers given out to work done in parallel, so they may land out of order
        # (9 before 6): apply every one the file has not recorded, not just those above its version.
        applied = self._applied_migrations(version)
        for number, name, apply in MIGRATIONS:
            if number in applied:
                continue
            with self.transaction(is_change=False):
                apply(db)  # type: ignore[operator]
                if number == 1:
                    db.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
                    db.execute("INSERT INTO meta VALUES ('created_at', ?)", (now_iso(),))
                    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute("INSERT INTO migrations VALUES (?, ?, ?)", (number, name, now_iso()))
                version = max(version, number)
                db.execute(f"PRAGMA user_version = {version}")

    def _applied_migrations(self, version: int) -> set[int]:
        if version == 0:
            return set()
        try:
            return {r[0] for r in self.db.execute("SELECT version FROM migrations")}
        except sqlite3.DatabaseError:  # no migrations table: trust user_version
            return set(range(1, version + 1))

    def _check_integrity(self) -> None:
        """Refuse a damaged file before anything is read from or written into it. A command that
        will write runs SQLite's full integrity_check, a reader the quicker quick_check (at 100,000
        passages: about 2.5 s and 1 s, see docs/benchmarks.md); both are skipped when the file is
        exactly as the last synth writer left it (its state is in the lock file)."""
        if verified_state(self.path) == file_state(self.path) is not None:
            return
        pragma = "integrity_check" if self.writable else "quick_check"
        try:
            problems = [row[0] for row in self.db.execute(f"PRAGMA {pragma}(3)")]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
            raise ProjectError(self.path, f"is damaged (SQLite {pragma}: {problems[0]}{more}); synth will not read "
                                          "or change it: restore it from a backup")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # A clean close checkpoints the WAL so the project is again one self-contained file.
        if self.writable:
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
        self.db.close()
        if self._lock is not None:
            # Still under the lock: what this command leaves is verified (checked at open, then
            # changed only by SQLite), so the next command need not check it again.
            self._lock.release(verified=file_state(self.path))

    def discard(self) -> None:
        """Remove a project this command created and then failed to fill (with its side files)."""
        if not self.created or self._closed:
            raise ValueError("discard() is only for a project this open created")
        self._closed = True
        self.db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.release(remove=True)

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, is_change: bool = True) -> Iterator[sqlite3.Connection]:
        """All writes of one command: committed together or not at all (also on Ctrl-C). A failure
        of the disk or the file (full, read-only, damaged) is a ProjectError saying nothing was saved.
        `is_change=False` (schema migrations) keeps a later Ctrl-C from reporting the command's work as saved."""
        if self.db.in_transaction:  # nested use joins the outer transaction
            yield self.db
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc
        try:
            yield self.db
            if interrupts.requested():  # a Ctrl-C that something swallowed still stops the commit
                raise KeyboardInterrupt
            self.db.execute("COMMIT")
        except BaseException as exc:
            if self.db.in_transaction:  # SQLite itself rolls back after some failures (a full disk)
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if isinstance(exc, sqlite3.Error) and describe_sqlite_error(exc):
                raise self._failure(exc) from exc
            raise
        if is_change:
            interrupts.note_saved()

    def _failure(self, exc: sqlite3.Error, *, saved: bool = True) -> BaseException:
        why = describe_sqlite_error(exc)
        if why is None:
            return exc
        cls = ProjectReadOnlyError if why.startswith("the project file or its folder is read-only") else ProjectError
        return cls(self.path, f"nothing was saved: {why}" if saved else why)

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

    def _source(self, row: sqlite3.Row) -> Source:
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

    def theme_substance_counts(self) -> dict[int, dict[str, tuple[int, int]]]:
        """Per theme, per source kind: (distinct placed passages that are content, not structure (see
        `Passage.substantive`), their distinct current sources); what triangulation counts."""
        return self._theme_kind_counts(" AND (p.structure_kind IS NULL OR p.codable = 1)")

    def theme_kind_counts(self) -> dict[int, dict[str, tuple[int, int]]]:
        """Per theme, per source kind: (distinct placed passages, distinct current sources), every
        theme in one aggregate query (the theme list needs counts, not passages)."""
        return self._theme_kind_counts("")

    def _theme_kind_counts(self, passage_filter: str) -> dict[int, dict[str, tuple[int, int]]]:
        out: dict[int, dict[str, tuple[int, int]]] = {}
        for r in self.db.execute(
            "SELECT m.theme_id, s.kind, COUNT(DISTINCT p.id), COUNT(DISTINCT p.source_id)"
            " FROM (SELECT theme_id, passage_id FROM memberships WHERE placed = 1"
            "       UNION ALL SELECT theme_id, passage_id FROM codings) m"
            " JOIN passages p ON p.id = m.passage_id JOIN sources s ON s.id = p.source_id"
            f" WHERE s.is_current = 1{passage_filter} GROUP BY m.theme_id, s.kind"
        ):
            out.setdefault(r[0], {})[r[1]] = (r[2], r[3])
        return out

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
            "themes": one("SELECT COUNT(*) FROM themes WHERE status IN ('suggested', 'accepted')"),
            "runs": one("SELECT COUNT(*) FROM runs"),
            "decisions": one("SELECT COUNT(*) FROM decisions"),
        }

    # -- runs --------------------------------------------------------------------------------------

    def add_run(self, *, started_at: str, seed: int, model_id: str, params: Mapping, stats: Mapping, report: Mapping) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (started_at, finished_at, seed, model_id, params, stats, report) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (started_at, now_iso(), seed, model_id, _dumps(params), _dumps(stats), _dumps(report)),
        )
        return cur.lastrowid

    def latest_run(self) -> dict | None:
        row = self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        out = dict(row)
        for key in ("params", "stats", "report"):
            out[key] = json.loads(out[key])
        return out

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

    def themes(self, *, statuses: Sequence[str] = ("suggested", "accepted")) -> list[ThemeRow]:
        marks = ",".join("?" * len(statuses))
        return self._themes(f"WHERE t.status IN ({marks})", tuple(statuses))

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
        return [
            ThemeRow(
                id=r["id"], guid=r["guid"], label=r["label"], definition=r["definition"],
                top_terms=tuple(json.loads(r["top_terms"])), category=r["category"],
                category_confidence=r["category_confidence"], category_mix=json.loads(r["category_mix"]),
                category_reasons=tuple(json.loads(r["category_reasons"])), status=r["status"],
                label_by_human=bool(r["label_by_human"]), definition_by_human=bool(r["definition_by_human"]),
                category_by_human=bool(r["category_by_human"]), merged_into=r["merged_into"],
                parent_id=r["parent_id"], revision=r["revision"], size=r["size"], updated_at=r["updated_at"],
                origin=r["origin"],
            )
            for r in rows
        ]

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

    # -- stance siblings and label locations (migration 11) ------------------------------------

    def replace_stance_links(self, links: Sequence[tuple[int, int, str, Sequence[str]]], *, run_id: int | None) -> None:
        """Discover's stance siblings, (theme, other theme, shared topic, (stance, other stance)); both directions."""
        self.db.execute("DELETE FROM theme_links WHERE relation = 'stance'")
        rows = []
        for a, b, topic, stances in links:
            rows.append((a, b, topic, _dumps(list(stances)), run_id))
            rows.append((b, a, topic, _dumps(list(stances)[::-1]), run_id))
        self.db.executemany("INSERT OR REPLACE INTO theme_links VALUES (?, ?, 'stance', ?, ?, ?)", rows)

    def stance_links(self, theme_id: int | None = None) -> dict[int, list[dict]]:
        """Per theme, its live stance siblings: {other_id, topic, stance, other_stance}."""
        where, args = ("AND l.theme_id = ?", (theme_id,)) if theme_id is not None else ("", ())
        rows = self.db.execute(
            "SELECT l.* FROM theme_links l JOIN themes a ON a.id = l.theme_id JOIN themes b ON b.id = l.other_id"
            " WHERE l.relation = 'stance' AND a.status IN ('suggested', 'accepted')"
            f" AND b.status IN ('suggested', 'accepted') {where} ORDER BY l.theme_id, l.other_id", args)
        out: dict[int, list[dict]] = {}
        for r in rows:
            stances = json.loads(r["stances"]) or ["", ""]
            out.setdefault(r["theme_id"], []).append({"other_id": r["other_id"], "topic": r["topic"],
                                                      "stance": stances[0], "other_stance": stances[1]})
        return out

    def replace_label_locations(self, theme_id: int, label: str, locations: Sequence[tuple[int, int, int]]) -> None:
        """Where `label` occurs in the theme's passages: (passage id, start, end) in the passage's text."""
        self.db.execute("DELETE FROM label_locations WHERE theme_id = ?", (theme_id,))
        self.db.executemany("INSERT OR REPLACE INTO label_locations VALUES (?, ?, ?, ?, ?)",
                            [(theme_id, pid, start, end, label) for pid, start, end in locations])

    def label_locations(self, theme_id: int) -> tuple[str, list[tuple[int, int, int]]]:
        """The label the stored locations were found for, and the locations (passage id, start, end)."""
        rows = self.db.execute("SELECT * FROM label_locations WHERE theme_id = ? ORDER BY passage_id, start_char",
                               (theme_id,)).fetchall()
        return (rows[0]["label"] if rows else "", [(r["passage_id"], r["start_char"], r["end_char"]) for r in rows])

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

    # -- search ----------------------------------------------------------------------------------

    def search_passages(self, match: str, *, kind: str | None = None, theme_id: int | None = None,
                        codable_only: bool = True, limit: int = 50, offset: int = 0) -> SearchPage:
        """Passages of current sources matching an FTS5 query, best first (bm25), and how many match.

        The matched words come back between MATCH_START and MATCH_END (characters no text holds; see
        `SearchRow.matches`), so callers escape the text themselves and never trust markup from it.
        Two bounds keep every search fast on a large project: the count stops at COUNT_CAP, and a query
        whose words are in more than RANK_CAP passages (a word like "the") lists them in document order,
        as ranking all of them costs more than it tells. Raises `sqlite3.OperationalError` for a query
        FTS5 cannot parse (the caller words it).
        """
        clauses, args = ["passages_fts MATCH ?", "s.is_current = 1"], [match]
        if codable_only:
            clauses.append("p.codable = 1")
        if kind is not None:
            clauses.append("s.kind = ?")
            args.append(kind)
        if theme_id is not None:
            clauses.append(f"p.id IN (SELECT passage_id FROM ({_MEMBERS_OF_THEME}))")
            args += [theme_id, theme_id]
        where = " AND ".join(clauses)
        joins = "FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid JOIN sources s ON s.id = p.source_id"
        total = self.db.execute(f"SELECT COUNT(*) FROM (SELECT 1 {joins} WHERE {where} LIMIT ?)",
                                [*args, COUNT_CAP + 1]).fetchone()[0]
        # The index alone counts its matches in milliseconds (no filters): that decides whether to rank.
        ranked = self.db.execute("SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH ?",
                                 (match,)).fetchone()[0] <= RANK_CAP
        order = "score, p.id" if ranked else "passages_fts.rowid"
        rows = self.db.execute(
            f"SELECT p.id, p.source_id, s.name, s.kind, p.start_char, p.end_char, p.text, p.speaker,"
            f" highlight(passages_fts, 0, ?, ?) AS marked, {'bm25(passages_fts)' if ranked else '0.0'} AS score"
            f" {joins} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [MATCH_START, MATCH_END, *args, limit, offset])
        hits = [SearchRow(passage_id=r[0], source_id=r[1], source_name=r[2], source_kind=r[3], start_char=r[4],
                          end_char=r[5], text=r[6], speaker=r[7], marked=r[8], score=-float(r[9])) for r in rows]
        return SearchPage(total=min(total, COUNT_CAP), more=total > COUNT_CAP, ranked=ranked, rows=hits)

    def current_codable_hashes(self) -> list[tuple[int, str]]:
        """(passage id, text hash) of every codable passage of a current source (semantic search)."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT p.id, p.text_sha256 FROM passages p JOIN sources s ON s.id = p.source_id"
            " WHERE s.is_current = 1 AND p.codable = 1 ORDER BY p.id")]

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

    def _rows_for_ids(self, query: str, ids: Sequence[int]) -> list[sqlite3.Row]:
        """Rows of `query` (with one `IN ({})`) for every id: SQLite limits the number of ? in one
        statement (999 in older builds), so ask in chunks rather than silently keep the first ones."""
        ids = list(dict.fromkeys(ids))
        rows: list[sqlite3.Row] = []
        for start in range(0, len(ids), SQL_CHUNK):
            chunk = ids[start:start + SQL_CHUNK]
            rows += self.db.execute(query.format(",".join("?" * len(chunk))), chunk).fetchall()
        return rows

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
        return [Decision(r["id"], r["at"], r["reviewer"], r["action"], r["theme_id"], r["passage_id"],
                         json.loads(r["before"]), json.loads(r["after"]), r["undoes"]) for r in rows]

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


# Passage ids coded to theme ? (bound twice): its placed members, with their probability, and a
# reviewer's further codings, which count as certain.
_MEMBERS_OF_THEME = ("SELECT passage_id, probability FROM memberships WHERE theme_id = ? AND placed = 1"
                     " UNION ALL SELECT passage_id, 1.0 FROM codings WHERE theme_id = ?")


def _passage(r: sqlite3.Row) -> Passage:
    return Passage(id=r["id"], source_id=r["source_id"], start_char=r["start_char"], end_char=r["end_char"],
                   text=r["text"], speaker=r["speaker"], codable=bool(r["codable"]), text_sha256=r["text_sha256"],
                   structure_kind=r["structure_kind"], structure_reason=r["structure_reason"],
                   section_heading=r["section_heading"])


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

