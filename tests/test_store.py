"""The project file: creation, refusal of foreign or newer files, all-or-nothing writes, append-only log."""

import sqlite3

import numpy as np
import pytest

from synth.errors import ProjectError
from synth.records import ExtractedDocument, PassageSpan, PassageTerms
from synth.migrations import MIGRATIONS
from synth.store import APPLICATION_ID, SCHEMA_VERSION, Project


def _doc(name="a.txt", text="Alpha beta gamma. Delta epsilon.", sha="s1"):
    return ExtractedDocument(name=name, path=f"/x/{name}", kind="literature", text=text, sha256=sha,
                             metadata={"area": "North"})


def _spans(text):
    first = text.index(".") + 1
    return [PassageSpan(0, first, text[:first]), PassageSpan(first + 1, len(text), text[first + 1:])]


def test_new_project_has_schema_and_marks(tmp_path):
    path = tmp_path / "r.synth"
    with Project.open(path) as project:
        assert project.counts()["sources"] == 0
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    from synth.migrations import MIGRATIONS

    assert [r[0] for r in db.execute("SELECT version FROM migrations")] == [m[0] for m in MIGRATIONS]


def test_reopen_keeps_sources_and_metadata(tmp_path):
    path = tmp_path / "r.synth"
    doc = _doc()
    with Project.open(path) as project, project.transaction():
        project.add_source(doc, _spans(doc.text), ["h1", "h2"])
    with Project.open(path, create=False) as project:
        (source,) = project.sources()
        assert source.metadata == {"area": "North"}
        passages = project.passages()
        assert [source.text[p.start_char:p.end_char] for p in passages] == [p.text for p in passages]


def test_changed_source_becomes_new_version(tmp_path):
    with Project.open(tmp_path / "r.synth") as project, project.transaction():
        project.add_source(_doc(), _spans(_doc().text), ["h1", "h2"])
        text2 = "Alpha beta gamma. Zeta eta."
        source, _ = project.add_source(_doc(text=text2, sha="s2"), _spans(text2), ["h1", "h3"])
        assert source.version == 2
        assert [s.version for s in project.sources()] == [2]
        assert len(project.sources(current_only=False)) == 2


@pytest.mark.parametrize("content", [b"just some text\n", b"%PDF-1.4 not a database"])
def test_refuses_a_file_that_is_not_a_project(tmp_path, content):
    path = tmp_path / "notes.synth"
    path.write_bytes(content)
    with pytest.raises(ProjectError, match="not a synth project file"):
        Project.open(path)
    assert path.read_bytes() == content


def test_refuses_another_programs_sqlite_database(tmp_path):
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(ProjectError, match="not a synth project"):
        Project.open(path)
    assert path.read_bytes() == before


def test_refuses_a_project_from_a_newer_schema(tmp_path):
    path = tmp_path / "r.synth"
    Project.open(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(ProjectError, match="newer synth"):
        Project.open(path)


def test_missing_project_is_not_created_when_not_asked(tmp_path):
    with pytest.raises(ProjectError, match="no such project"):
        Project.open(tmp_path / "nope.synth", create=False)
    assert not (tmp_path / "nope.synth").exists()


def test_failed_transaction_leaves_nothing(tmp_path):
    path = tmp_path / "r.synth"
    with Project.open(path) as project:
        with pytest.raises(RuntimeError):
            with project.transaction():
                project.add_source(_doc(), _spans(_doc().text), ["h1", "h2"])
                raise RuntimeError("boom")
        assert project.counts()["sources"] == 0
        assert project.passages() == []


def test_decision_log_is_append_only(tmp_path):
    with Project.open(tmp_path / "r.synth") as project:
        with project.transaction():
            decision_id = project.log_decision(reviewer="ana", action="rename", theme_id=1,
                                               before={"label": "a"}, after={"label": "b"})
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            project.db.execute("UPDATE decisions SET reviewer = 'x' WHERE id = ?", (decision_id,))
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            project.db.execute("DELETE FROM decisions")
        assert [d.after for d in project.decisions()] == [{"label": "b"}]


def test_embedding_cache_round_trip(tmp_path):
    vector = np.arange(4, dtype=np.float32)
    with Project.open(tmp_path / "r.synth") as project:
        with project.transaction():
            project.store_embeddings("m@1", {"h1": vector})
        got = project.cached_embeddings("m@1", ["h1", "h2"])
        assert list(got) == ["h1"] and np.array_equal(got["h1"], vector)
        assert project.cached_embeddings("other@2", ["h1"]) == {}


def test_unchanged_files_are_found_by_an_index(tmp_path):
    # Ingest asks this once per file; a full scan of the sources table took 15 ms at 100k sources.
    with Project.open(tmp_path / "r.synth") as project:
        asked: list[str] = []
        project.db.set_trace_callback(asked.append)
        assert project.current_source_with_sha("x" * 64) is None
        project.db.set_trace_callback(None)
        (query,) = [q for q in asked if "sha256" in q]  # the query as run, parameters filled in
        plan = " ".join(str(row[-1]) for row in project.db.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert "USING INDEX sources_sha256" in plan, plan


def test_lemma_cache_round_trip(tmp_path):
    terms = {
        "h1": PassageTerms(("barrier", "datum", "barrier"), ("barriers", "data", "barrier")),
        "h2": PassageTerms((), ()),  # a passage of stop words only
        "h3": PassageTerms(("help",), ("help",)),
    }
    with Project.open(tmp_path / "r.synth") as project:
        with project.transaction():
            project.store_passage_terms("pipe-a", terms)
        assert project.cached_passage_terms("pipe-a", ["h1", "h2", "h3", "h4"]) == terms
        with project.transaction():
            project.store_passage_terms("pipe-b", {"h3": terms["h3"]})
        assert project.cached_passage_terms("pipe-a", ["h1"]) == {}  # another pipeline's rows are gone
        assert project.cached_passage_terms("pipe-b", ["h1", "h3"]) == {"h3": terms["h3"]}


def test_human_placements_follow_unchanged_passages_into_a_new_version(tmp_path):
    with Project.open(tmp_path / "r.synth") as project, project.transaction():
        _, (p1, _) = project.add_source(_doc(), _spans(_doc().text), ["h1", "h2"])
        theme = project.create_theme(label="greek letters")
        project.set_membership(p1, theme, probability=1.0, placed=True, by_human=True)
        text2 = "Alpha beta gamma. Zeta eta."
        _, (q1, q2) = project.add_source(_doc(text=text2, sha="s2"), _spans(text2), ["h1", "h3"])
        assert project.membership(q1).theme_id == theme and project.membership(q1).by_human
        assert project.membership(q2) is None


def test_a_version_1_project_is_migrated_in_place(tmp_path):
    from synth.migrations import MIGRATIONS

    path = tmp_path / "old.synth"
    db = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0][2](db)  # build schema 1 exactly as the first release did
    db.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    db.execute("INSERT INTO migrations VALUES (1, 'initial schema', 'then')")
    db.execute("INSERT INTO themes (guid, label, updated_at) VALUES ('G', 'old theme', 'then')")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.close()
    with Project.open(path, create=False) as project:
        (theme,) = project.themes()
        assert (theme.label, theme.origin) == ("old theme", "discovered")
        assert [r[0] for r in project.db.execute("SELECT version FROM migrations")] == [m[0] for m in MIGRATIONS]


def test_no_commit_after_a_swallowed_ctrl_c(tmp_path, monkeypatch):
    from synth import interrupts

    with Project.open(tmp_path / "r.synth") as project:
        monkeypatch.setattr(interrupts, "requested", lambda: True)  # as if SIGINT had been caught and ignored
        with pytest.raises(KeyboardInterrupt):
            with project.transaction():
                project.add_source(_doc(), _spans(_doc().text), ["h1", "h2"])
        monkeypatch.undo()
        assert project.counts()["sources"] == 0


def test_a_ctrl_c_ignored_in_a_destructor_is_recorded_quietly():
    import subprocess
    import sys

    # A plain interpreter (pytest would intercept the unraisable report itself).
    script = """
import gc, signal
from synth import interrupts

class Collected:
    def __del__(self):
        signal.raise_signal(signal.SIGINT)  # arrives while Python runs a destructor

interrupts.install()
Collected()
gc.collect()
print("requested" if interrupts.requested() else "lost")
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "requested"
    assert "Traceback" not in run.stderr, run.stderr


def test_a_migration_that_lands_after_a_higher_numbered_one_is_still_applied(tmp_path):
    # Migration numbers are given out to parallel work: a file may have 9 and not yet 6.
    from synth.migrations import MIGRATIONS

    path = tmp_path / "gap.synth"
    with Project.open(path):
        pass
    db = sqlite3.connect(path, isolation_level=None)
    lower = [n for n, _, _ in MIGRATIONS if 1 < n < SCHEMA_VERSION]
    if not lower:
        pytest.skip("no migration below the newest one to leave out")
    missing = lower[-1]
    db.execute("DELETE FROM migrations WHERE version = ?", (missing,))
    db.close()
    applied = []
    import synth.store as store_module

    original = store_module.MIGRATIONS
    patched = tuple((n, name, (lambda fn, n: lambda d: (applied.append(n), None))(fn, n) if n == missing else fn)
                    for n, name, fn in original)
    store_module.MIGRATIONS = patched
    try:
        with Project.open(path, create=False) as project:
            versions = [r[0] for r in project.db.execute("SELECT version FROM migrations ORDER BY version")]
            user_version = project.db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        store_module.MIGRATIONS = original
    assert applied == [missing]
    assert versions == sorted(n for n, _, _ in MIGRATIONS) and user_version == SCHEMA_VERSION


def test_reviewed_and_learned_categories_of_more_than_900_passages(tmp_path):
    """Every id asked for is answered: the reader must not keep only the first 900 (issue 12 item 3)."""
    from synth.store import Project, now_iso

    with Project.open(tmp_path / "p.synth") as project, project.transaction():
        source_id = project.db.execute(
            "INSERT INTO sources (name, kind, path, sha256, text, ingested_at) VALUES ('s', 'survey', 's', 'x', ?, ?)",
            ("a" * 2500, now_iso())).lastrowid
        ids = [project.db.execute(
            "INSERT INTO passages (source_id, seq, start_char, end_char, text, codable, text_sha256)"
            " VALUES (?, ?, ?, ?, 'a', 1, ?)", (source_id, i, i, i + 1, f"h{i}")).lastrowid for i in range(2500)]
        for pid in ids:
            project.set_reviewed_category(pid, {"category": "barrier", "reviewer": "r", "at": now_iso()})
            project.db.execute("INSERT INTO passage_learned (passage_id, category) VALUES (?, 'enabler')", (pid,))
        assert len(project.reviewed_categories(ids)) == 2500
        assert len(project.learned_categories(ids)) == 2500
