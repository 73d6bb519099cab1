"""The project file: one SQLite database that holds everything synth knows about a review.

This module and `synth.caches` (part of `Project`) are the only ones that speak SQL. Every command
opens a `Project`, does its reading, and makes all of its writes inside one `project.transaction()`,
so a failure (or Ctrl-C) leaves the file exactly as it was. Schema changes are small registered
migrations, each applied in one transaction and recorded in `migrations`.

This package and `synth.caches` are the only places that speak SQL. `Project` is one class made
of a family per group of tables (`sources`, `themes`, `fulltext`, `review`, `reads`, and the caches);
the rows it reads back are in `rows`. Opening, migrating and transactions are here.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .. import interrupts
from ..errors import ProjectBusyError, ProjectError, ProjectReadOnlyError
from ..migrations import MIGRATIONS, SCHEMA_VERSION  # noqa: F401 (SCHEMA_VERSION re-exported)
from ..caches import ProjectCaches
from ..projectlock import LockBusy, WriterLock, file_state, verified_state
from ..scratch import remove_stale
from ..statuses import LIVE, THEME_STATUSES  # noqa: F401 (re-exported)
from .fulltext import COUNT_CAP, RANK_CAP, SearchTables  # noqa: F401 (re-exported)
from .reads import ReadTables
from .review import ReviewTables
from .rows import (MATCH_END, MATCH_START, MAX_ROW_ID, SQL_CHUNK, Coding, Decision, Membership,  # noqa: F401
                   PassageAt, SearchPage, SearchRow, ThemeName, ThemeRow, now_iso)
from .sources import SourceTables
from .themes import ThemeTables

# 'SYNT': marks a SQLite file as a synth project, so we never write into someone else's database.
APPLICATION_ID = 0x53594E54
SQLITE_MAGIC = b"SQLite format 3\x00"


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


class Project(SourceTables, ThemeTables, SearchTables, ReviewTables, ReadTables, ProjectCaches):
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
        remove_stale(path)  # scratch files a killed run left beside it, held by no live process
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
        # A clean close checkpoints the WAL so the project is again one self-contained file. Without
        # waiting for readers: a long read (the review app's background relearn holds one for seconds)
        # would hold up every command's close by the busy timeout; with one under way the WAL is copied
        # as far as it can be, and a later close empties it.
        if self.writable:
            try:
                self.db.execute("PRAGMA busy_timeout = 0")
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

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees the project as it was at the first one (a read transaction: SQLite's
        WAL keeps that state for this connection while others commit), so a long computation over
        several tables never mixes two states. Writes nothing; inside a transaction, joins it."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")  # a read: nothing to keep

    def _failure(self, exc: sqlite3.Error, *, saved: bool = True) -> BaseException:
        why = describe_sqlite_error(exc)
        if why is None:
            return exc
        cls = ProjectReadOnlyError if why.startswith("the project file or its folder is read-only") else ProjectError
        return cls(self.path, f"nothing was saved: {why}" if saved else why)

    def _rows_for_ids(self, query: str, ids: Sequence[int]) -> list[sqlite3.Row]:
        """Rows of `query` (with one `IN ({})`) for every id: SQLite limits the number of ? in one
        statement (999 in older builds), so ask in chunks rather than silently keep the first ones."""
        ids = list(dict.fromkeys(ids))
        rows: list[sqlite3.Row] = []
        for start in range(0, len(ids), SQL_CHUNK):
            chunk = ids[start:start + SQL_CHUNK]
            rows += self.db.execute(query.format(",".join("?" * len(chunk))), chunk).fetchall()
        return rows
