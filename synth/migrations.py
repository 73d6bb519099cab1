"""The project file's schema, as small registered migrations.

Each migration is a function applied in one transaction by `Project.open`, then recorded in the
`migrations` table and in SQLite's `user_version`. Append new ones; never edit a released one.
"""

from __future__ import annotations

import sqlite3

def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run statements one by one: `executescript` would commit and break the migration's transaction."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement[:60]!r}")


def _migration_1_initial(db: sqlite3.Connection) -> None:
    _run_script(db, 
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('literature', 'interview', 'survey')),
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            text TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            is_current INTEGER NOT NULL DEFAULT 1,
            supersedes_id INTEGER REFERENCES sources(id),
            notes TEXT NOT NULL DEFAULT '[]',
            ingested_at TEXT NOT NULL,
            UNIQUE (name, version)
        );
        CREATE TABLE source_metadata (
            source_id INTEGER NOT NULL REFERENCES sources(id),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (source_id, key)
        );
        CREATE TABLE passages (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            seq INTEGER NOT NULL,
            start_char INTEGER NOT NULL,
            end_char INTEGER NOT NULL,
            text TEXT NOT NULL,
            speaker TEXT,
            codable INTEGER NOT NULL,
            text_sha256 TEXT NOT NULL,
            CHECK (end_char > start_char)
        );
        CREATE INDEX passages_source ON passages (source_id, seq);
        CREATE INDEX passages_text ON passages (text_sha256);
        CREATE TABLE embeddings (
            model_id TEXT NOT NULL,
            text_sha256 TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (model_id, text_sha256)
        ) WITHOUT ROWID;
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            seed INTEGER NOT NULL,
            model_id TEXT NOT NULL,
            params TEXT NOT NULL,
            stats TEXT NOT NULL,
            report TEXT NOT NULL
        );
        CREATE TABLE themes (
            id INTEGER PRIMARY KEY,
            guid TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL,
            definition TEXT NOT NULL DEFAULT '',
            top_terms TEXT NOT NULL DEFAULT '[]',
            category TEXT,
            category_confidence REAL,
            category_mix TEXT NOT NULL DEFAULT '{}',
            category_reasons TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL DEFAULT 'suggested'
                CHECK (status IN ('suggested', 'accepted', 'rejected', 'merged', 'retired')),
            label_by_human INTEGER NOT NULL DEFAULT 0,
            definition_by_human INTEGER NOT NULL DEFAULT 0,
            category_by_human INTEGER NOT NULL DEFAULT 0,
            merged_into INTEGER REFERENCES themes(id),
            parent_id INTEGER REFERENCES themes(id),
            centroid BLOB,
            created_run INTEGER REFERENCES runs(id),
            last_run INTEGER REFERENCES runs(id),
            revision INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE memberships (
            passage_id INTEGER PRIMARY KEY REFERENCES passages(id),
            theme_id INTEGER NOT NULL REFERENCES themes(id),
            probability REAL NOT NULL,
            placed INTEGER NOT NULL,
            by_human INTEGER NOT NULL DEFAULT 0,
            run_id INTEGER REFERENCES runs(id)
        );
        CREATE INDEX memberships_theme ON memberships (theme_id, placed);
        CREATE TABLE theme_quotes (
            theme_id INTEGER NOT NULL REFERENCES themes(id),
            rank INTEGER NOT NULL,
            passage_id INTEGER NOT NULL REFERENCES passages(id),
            PRIMARY KEY (theme_id, rank)
        );
        CREATE TABLE passage_categories (
            passage_id INTEGER PRIMARY KEY REFERENCES passages(id),
            category TEXT NOT NULL,
            barrier REAL NOT NULL,
            enabler REAL NOT NULL,
            practice REAL NOT NULL,
            context REAL NOT NULL,
            cues TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            action TEXT NOT NULL,
            theme_id INTEGER,
            passage_id INTEGER,
            before TEXT NOT NULL DEFAULT '{}',
            after TEXT NOT NULL DEFAULT '{}',
            undoes INTEGER REFERENCES decisions(id)
        );
        -- The decision log is append-only: the database itself refuses edits and deletions.
        CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
            BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
        CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
            BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
        """
    )


def _migration_2_theme_origin(db: sqlite3.Connection) -> None:
    # Where a theme came from: a clustering run, an imported codebook (a deductive seed for
    # `discover --codebook`), or a reviewer's split or merge.
    db.execute("ALTER TABLE themes ADD COLUMN origin TEXT NOT NULL DEFAULT 'discovered'"
               " CHECK (origin IN ('discovered', 'codebook', 'split', 'merge'))")


def _migration_3_category_provenance(db: sqlite3.Connection) -> None:
    # What computed a passage's category (model and categoriser version), so a re-run reuses the
    # categories of unchanged passages instead of scoring every passage again.
    db.execute("ALTER TABLE passage_categories ADD COLUMN made_by TEXT NOT NULL DEFAULT ''")


def _migration_4_passage_terms(db: sqlite3.Connection) -> None:
    # Each text's lemmas and written forms, kept per lemmatising pipeline (see
    # synth.nlp.pipeline_fingerprint), so a re-run lemmatises only new or changed passages.
    # Both columns hold words joined by the unit separator U+001F; an empty form means "as the lemma".
    db.execute("""
        CREATE TABLE passage_terms (
            pipeline TEXT NOT NULL,
            text_sha256 TEXT NOT NULL,
            lemmas TEXT NOT NULL,
            forms TEXT NOT NULL,
            PRIMARY KEY (pipeline, text_sha256)
        ) WITHOUT ROWID
    """)


def _migration_5_source_hash_index(db: sqlite3.Connection) -> None:
    # Ingest asks, for every file, whether a current source has its SHA-256 (an unchanged file is
    # skipped). Without an index each question read the whole sources table, texts included:
    # 15 ms a file at 100,000 sources.
    db.execute("CREATE INDEX sources_sha256 ON sources (sha256, is_current)")


def _migration_6_passage_structure(db: sqlite3.Connection) -> None:
    # Structure is not content (synth.structure): each passage's structure kind and reason, and the
    # heading it sits under. Existing passages are classified here, as ingest now classifies new
    # ones, so an existing project needs no re-ingest: structure becomes not codable, except where
    # a reviewer placed the passage by hand (that counts as including it). Memberships are left as
    # they are: the next discover takes machine-placed structure out of suggested themes.
    from .structure import Span, annotate, is_table_row  # pure Python: no model, no spaCy

    for column in ("structure_kind", "structure_reason", "section_heading"):
        db.execute(f"ALTER TABLE passages ADD COLUMN {column} TEXT")
    placed_by_hand = {r[0] for r in db.execute("SELECT passage_id FROM memberships WHERE by_human = 1 AND placed = 1")}
    updates = []
    for source_id, path, text in db.execute("SELECT id, path, text FROM sources ORDER BY id").fetchall():
        rows = db.execute("SELECT id, text, speaker, codable FROM passages WHERE source_id = ? ORDER BY seq",
                          (source_id,)).fetchall()
        # Turns are not stored: a passage with a speaker was in a turn; one in a turn that is not
        # codable is an interviewer's turn or too short, and is left alone either way.
        spans = [Span(r[1], in_turn=r[2] is not None, classify=r[2] is None or bool(r[3])) for r in rows]
        for (pid, _, _, codable), note in zip(rows, annotate(text, spans, table_row=is_table_row(path))):
            if note.kind or note.section_heading:
                keep = bool(codable) and (note.kind is None or pid in placed_by_hand)
                updates.append((note.kind, note.reason, note.section_heading, int(keep), pid))
    db.executemany("UPDATE passages SET structure_kind = ?, structure_reason = ?, section_heading = ?, codable = ?"
                   " WHERE id = ?", updates)
def _migration_8_reviewer_categories_and_validation(db: sqlite3.Connection) -> None:
    # What reviewers teach and measure (issue 14):
    # - passage_reviews: the category a reviewer set for a passage. Never written by discover;
    #   it wins over every suggestion.
    # - passage_learned: the category that the project's learned model suggests (synth/learn.py),
    #   written by each discover, with the corrected examples nearest to the passage as reasons.
    #   The machine's own category stays in passage_categories (a cache keyed by model and code).
    # - validation_*: blind samples for measuring agreement. An item keeps what synth suggested when
    #   it was drawn (theme, category), so the agreement reported is with what the reviewer did not see.
    _run_script(db,
        """
        CREATE TABLE passage_reviews (
            passage_id INTEGER PRIMARY KEY REFERENCES passages(id),
            category TEXT NOT NULL CHECK (category IN ('barrier', 'enabler', 'practice', 'context')),
            reviewer TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE TABLE passage_learned (
            passage_id INTEGER PRIMARY KEY REFERENCES passages(id),
            category TEXT NOT NULL,
            scores TEXT NOT NULL DEFAULT '{}',
            reasons TEXT NOT NULL DEFAULT '[]',
            run_id INTEGER REFERENCES runs(id)
        );
        CREATE TABLE validation_samples (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            seed INTEGER NOT NULL,
            size INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            run_id INTEGER REFERENCES runs(id)
        );
        CREATE TABLE validation_items (
            id INTEGER PRIMARY KEY,
            sample_id INTEGER NOT NULL REFERENCES validation_samples(id),
            rank INTEGER NOT NULL,
            passage_id INTEGER NOT NULL REFERENCES passages(id),
            stratum TEXT NOT NULL,
            machine_theme_id INTEGER REFERENCES themes(id),
            machine_category TEXT,
            UNIQUE (sample_id, passage_id)
        );
        CREATE TABLE validation_codes (
            item_id INTEGER NOT NULL REFERENCES validation_items(id),
            reviewer TEXT NOT NULL,
            theme_id INTEGER REFERENCES themes(id),
            category TEXT NOT NULL CHECK (category IN ('barrier', 'enabler', 'practice', 'context')),
            at TEXT NOT NULL,
            PRIMARY KEY (item_id, reviewer)
        );
        """
    )


def _migration_9_evidence_appraisal(db: sqlite3.Connection) -> None:
    # What a reviewer states about the evidence (GRADE-CERQual, synth.evidence): an appraisal of
    # each source's methodological quality, the review's scope, and a confidence per theme. Kept in
    # their own tables, which discover never writes, so a re-run cannot overwrite them. Appraisals
    # are keyed by source name, so a new version of a file keeps its appraisal.
    _run_script(db, """
        CREATE TABLE source_appraisals (
            source_name TEXT PRIMARY KEY,
            quality TEXT NOT NULL CHECK (quality IN ('high', 'moderate', 'low')),
            note TEXT NOT NULL DEFAULT '',
            reviewer TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE TABLE review_scope (
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (field, value)
        );
        CREATE TABLE theme_confidence (
            theme_id INTEGER PRIMARY KEY REFERENCES themes(id),
            level TEXT NOT NULL CHECK (level IN ('high', 'moderate', 'low', 'very low')),
            reason TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            at TEXT NOT NULL
        );
    """)


def _migration_7_search_and_codings(db: sqlite3.Connection) -> None:
    # Full-text search: an external-content FTS5 index over passages.text (the text is stored once,
    # in passages), kept in step by triggers, so every write path -- ingest today, anything later --
    # is indexed in the same transaction that writes the passage, and a rolled-back ingest leaves no
    # stray index rows. 'rebuild' fills it from the passages already there. The 2- and 3-letter
    # prefix indexes keep `word*` queries fast on large projects.
    _run_script(db, """
        CREATE VIRTUAL TABLE passages_fts USING fts5(
            text, content='passages', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3');
        CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN
            INSERT INTO passages_fts (rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN
            INSERT INTO passages_fts (passages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER passages_fts_update AFTER UPDATE OF text ON passages BEGIN
            INSERT INTO passages_fts (passages_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO passages_fts (rowid, text) VALUES (new.id, new.text);
        END;
        INSERT INTO passages_fts (passages_fts) VALUES ('rebuild');
    """)
    # Multi-coding: `memberships` stays each passage's ONE primary theme (discover's suggestion, or
    # where a reviewer placed it); `codings` holds a reviewer's further codes of the same passage,
    # as any QDA package allows. Discover never writes this table, so re-runs keep every coding.
    _run_script(db, """
        CREATE TABLE codings (
            passage_id INTEGER NOT NULL REFERENCES passages(id),
            theme_id INTEGER NOT NULL REFERENCES themes(id),
            reviewer TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (passage_id, theme_id)
        ) WITHOUT ROWID;
        CREATE INDEX codings_theme ON codings (theme_id, passage_id);
    """)
    # A theme a reviewer builds from passages has origin 'reviewer'. Migration 2 limited origin with
    # a CHECK; SQLite cannot alter a column, and rebuilding `themes` (referenced by four tables) is
    # far riskier than widening the CHECK in place, which SQLite documents as safe for loosening a
    # constraint ("Making Other Kinds Of Table Schema Changes", sqlite.org/lang_altertable.html):
    # edit the stored CREATE statement and bump the schema version, all in this transaction.
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'themes'").fetchone()[0]
    old = "'split', 'merge'))"
    if old not in sql:
        raise ValueError("migration 7: the themes table's origin CHECK is not the one migration 2 made")
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("PRAGMA writable_schema = ON")
    try:
        db.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'themes'",
                   (sql.replace(old, "'split', 'merge', 'reviewer'))"),))
        db.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        db.execute("PRAGMA writable_schema = OFF")


def _migration_10_read_indexes(db: sqlite3.Connection) -> None:
    # The review app's pages ask the decision log for live memos and for a reviewer's last decision
    # not undone ("is there a decision that undoes this one?"), and a theme's history; without these
    # indexes each is a scan of the whole log per row, which grows with every decision.
    _run_script(db, """
        CREATE INDEX decisions_undoes ON decisions (undoes);
        CREATE INDEX decisions_theme ON decisions (theme_id);
        CREATE INDEX decisions_action ON decisions (action, passage_id);
    """)
    # Counting a theme list's passages by kind (and which are content rather than structure), and
    # listing the unplaced passages in source order, walk sources -> passages -> memberships; with
    # this index neither reads a passage's row (its text) except for the page it shows.
    db.execute("CREATE INDEX passages_source_content ON passages (source_id, codable, seq, structure_kind)")


# (version, name, function): append only; never edit a released migration.
MIGRATIONS: tuple[tuple[int, str, object], ...] = (
    (1, "initial schema", _migration_1_initial),
    (2, "theme origin", _migration_2_theme_origin),
    (3, "category provenance", _migration_3_category_provenance),
    (4, "passage terms cache", _migration_4_passage_terms),
    (5, "source hash index", _migration_5_source_hash_index),
    (6, "passage structure", _migration_6_passage_structure),
    (7, "passage search and multi-coding", _migration_7_search_and_codings),
    (8, "reviewer categories and validation", _migration_8_reviewer_categories_and_validation),
    (9, "evidence appraisal: source appraisals, review scope, theme confidence", _migration_9_evidence_appraisal),
    (10, "decision log indexes for the read model", _migration_10_read_indexes),
)
SCHEMA_VERSION = max(number for number, _, _ in MIGRATIONS)  # numbers may land out of order (9 before 6)
