"""Search and building themes from passages (issue 14, items 1-2): the FTS5 index, `synth search`,
`synth theme create` / `add`, multi-coding (one primary theme plus a reviewer's further codings),
undo, merge, exports, and a real ingest + discover keeping it all."""

from __future__ import annotations

import csv
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from synth.errors import NotFoundError, SynthError
from synth.export import EXPORTS
from synth.export.assignments import COLUMNS
from synth.export.refi import PROJECT_NS
from synth.review import actions, coding
from synth.search import search, similar
from synth.store import Project
from synth.summary import list_entries
from review_fixture import Built, build_review_project, discover_corpus, members


def snapshot(path: Path) -> dict:
    """Everything a review action may touch, to check that a refused one changed nothing."""
    db = sqlite3.connect(path)
    out = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
           for t in ("themes", "memberships", "codings", "decisions", "theme_quotes")}
    db.close()
    return out


def coded_to(project: Project, theme_id: int) -> set[int]:
    return {pid for pid, _, _ in project.theme_members(theme_id)}


# --- search ----------------------------------------------------------------------------------------

def test_search_words_phrases_prefixes_and_operators(project: Project, built: Built) -> None:
    ids = lambda q, **kw: {h.passage_id for h in search(project, q, **kw).hits}  # noqa: E731
    text = built.text
    assert ids("staff") == {p for p, t in text.items() if "staff" in t.lower().replace("staffing", "")}
    assert ids("train*") == {p for p, t in text.items() if "train" in t.lower()}
    assert ids('"peer mentors"') == {p for p, t in text.items() if "peer mentors" in t}
    assert ids("staff OR funding") == ids("staff") | ids("funding")
    assert ids("staff NOT shortages") == ids("staff") - ids("shortages")
    assert ids("staff AND training") == ids("staff") & ids("training")
    assert ids("staff", kind="survey") == {p for p in ids("staff") if built.sources["survey-answers"] ==
                                           project.passage(p).source_id}
    a = built.themes["A"]
    assert ids("staff", theme_id=a) == ids("staff") & members(project, a)


def test_search_hits_say_where_the_match_is_and_what_the_passage_is(project: Project, built: Built) -> None:
    hit = next(h for h in search(project, "shortages").hits)
    assert hit.text[hit.matches[0][0]:hit.matches[0][1]].lower() == "shortages"
    source = project.source(hit.source_id)
    assert source.text[hit.start_char:hit.end_char] == hit.text
    assert "".join(piece for piece, _ in hit.segments()) == hit.text
    assert hit.theme_id == built.themes["A"] and hit.theme_label == "Staffing" and hit.category == "barrier"
    data = hit.as_json()
    start, end = data["matches"][0]
    assert source.text[start:end].lower() == "shortages"


def test_hostile_text_with_marker_characters_gets_no_false_highlights(tmp_path: Path) -> None:
    built = build_review_project(tmp_path / "r.synth")
    with Project.open(built.path, create=False) as project:
        with project.transaction():  # a passage holding the private-use marker characters
            pid = built.passages["B"][0]
            project.db.execute("UPDATE passages SET text = ? WHERE id = ?", ("odd \ue000training\ue001 text", pid))
        hit = next(h for h in search(project, "odd").hits)
        assert hit.matches == () and hit.segments() == [(hit.text, False)]


@pytest.mark.parametrize("query, says", [
    ('"unclosed', "unterminated string"),
    ("AND", 'syntax error near "AND"'),
    ("foo:bar", "cannot search for 'foo' followed by ':'"),
    ("   ", "the search is empty"),
])
def test_a_query_fts5_cannot_read_gets_one_line_saying_why(project: Project, query: str, says: str) -> None:
    with pytest.raises(SynthError) as err:
        search(project, query)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_the_index_follows_ingest_in_the_same_transaction(tmp_path: Path, synth) -> None:
    p = tmp_path / "s.synth"
    (tmp_path / "a.txt").write_text("Childcare costs stopped many parents from taking the job offers.\n", encoding="utf-8")
    synth.ok("ingest", p, tmp_path / "a.txt", "--kind", "interview")
    assert "1 passage match 'childcare'" in synth.ok("search", p, "childcare")
    (tmp_path / "b.txt").write_text("Affordable childcare near the jobcentre made all the difference.\n", encoding="utf-8")
    synth.ok("ingest", p, tmp_path / "b.txt", "--kind", "interview")
    out = json.loads(synth.ok("search", p, "childcare", "--json"))
    assert out["total"] == 2 and {h["source"] for h in out["hits"]} == {"a.txt", "b.txt"}
    # A changed file is a new version: only the current version's passages are found.
    (tmp_path / "a.txt").write_text("Transport was the main problem for rural parents.\n", encoding="utf-8")
    synth.ok("ingest", p, tmp_path / "a.txt", "--kind", "interview")
    assert json.loads(synth.ok("search", p, "childcare", "--json"))["total"] == 1
    assert json.loads(synth.ok("search", p, "rural", "--json"))["total"] == 1
    with Project.open(p, create=False) as project:  # the index agrees with the passages table (raises if not)
        project.db.execute("INSERT INTO passages_fts (passages_fts, rank) VALUES ('integrity-check', 1)")


def test_migration_7_indexes_an_existing_project(tmp_path: Path) -> None:
    """A project written before search existed (schema 6 and older) is indexed when this synth opens it."""
    from synth.migrations import MIGRATIONS
    from synth.store import APPLICATION_ID

    path = tmp_path / "old.synth"
    db = sqlite3.connect(path, isolation_level=None)
    for number, _, apply in MIGRATIONS:
        if number < 7:
            apply(db)
    db.execute("CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    db.executemany("INSERT INTO migrations VALUES (?, ?, 'then')", [(n, name) for n, name, _ in MIGRATIONS if n < 7])
    text = "Induction for new advisers helped. The bus was late."
    db.execute("INSERT INTO sources (name, kind, path, sha256, text, ingested_at) VALUES ('s', 'interview', 's.txt', 'x', ?, 'then')",
               (text,))
    db.execute("INSERT INTO passages (source_id, seq, start_char, end_char, text, codable, text_sha256)"
               " VALUES (1, 0, 0, 33, ?, 1, 'h1')", (text[:33],))
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {max(n for n, _, _ in MIGRATIONS if n < 7)}")
    db.close()
    with Project.open(path, create=False) as project:
        assert [h.text for h in search(project, "induction").hits] == [text[:33]]
        assert search(project, "bus").total == 0  # not a passage
        assert project.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with project.transaction():
            tid = project.create_theme(label="made by hand", origin="reviewer")  # the widened origin check
        assert project.theme(tid).origin == "reviewer"
        with pytest.raises(sqlite3.IntegrityError):
            project.create_theme(label="bad", origin="nonsense")  # the check still holds


def test_semantic_search_with_the_real_model_and_more_like_this(tmp_path: Path, synth) -> None:
    p = discover_corpus(synth, tmp_path / "e.synth")
    out = json.loads(synth.ok("search", p, "the grant money came too late", "--semantic", "--json", "--limit", "6"))
    assert out["mode"] == "semantic" and len(out["hits"]) == 6
    top3 = [h["source"] for h in out["hits"][:3]]
    assert top3.count("funding.txt") >= 2, top3  # no exact ranks: BLAS may differ; the right topic dominates
    assert out["hits"][0]["score"] > out["hits"][-1]["score"]
    like = out["hits"][0]["passage_id"]
    near = json.loads(synth.ok("search", p, "--like", like, "--json", "--limit", "3"))
    assert like not in [h["passage_id"] for h in near["hits"]]
    assert [h["source"] for h in near["hits"]].count("funding.txt") >= 2
    r = synth("search", p, "--like", "99999")
    assert r.exit_code == 1 and "passage 99999 is not in" in r.output


# --- building themes: actions ----------------------------------------------------------------------

def test_create_theme_codes_unplaced_passages_as_primary_and_placed_ones_as_further_codings(
        project: Project, built: Built) -> None:
    unplaced, in_b = built.passages["None"][0], built.passages["B"][0]
    out = coding.create_theme(project, "  Kind   advisers ", [unplaced, in_b], reviewer="alice", category="enabler",
                              definition="Advisers who listened.")
    (tid,) = out.created
    theme = project.theme(tid)
    assert (theme.label, theme.status, theme.origin, theme.category) == ("Kind advisers", "accepted", "reviewer", "enabler")
    assert theme.label_by_human and theme.definition_by_human and theme.category_by_human
    assert project.membership(unplaced).theme_id == tid and project.membership(unplaced).by_human
    assert project.membership(in_b).theme_id == built.themes["B"]  # its primary theme is kept …
    assert project.coding(in_b, tid) is not None                   # … and it is coded here as well
    assert coded_to(project, tid) == {unplaced, in_b} and theme.size == 2
    assert in_b in coded_to(project, built.themes["B"])
    assert project.theme_centroid(tid) is not None
    d = project.decisions()[-1]
    assert (d.action, d.reviewer, d.theme_id) == ("create", "alice", tid)
    assert d.before["themes"] == {str(tid): None} and d.after["codings"][f"{in_b}:{tid}"]["reviewer"] == "alice"
    assert "theme {} created".format(tid) in actions.describe(d)
    # The themes list counts the coding; the primary theme keeps its own count.
    sizes = {e.id: e.size for e in list_entries(project)}
    assert sizes[tid] == 2 and sizes[built.themes["B"]] == len(built.passages["B"])


def test_add_to_theme_and_undo_and_remove_a_further_coding(project: Project, built: Built) -> None:
    a, b = built.themes["A"], built.themes["B"]
    pid = built.passages["B"][1]
    coding.add_to_theme(project, a, [pid], reviewer="alice")
    assert pid in coded_to(project, a) and project.membership(pid).theme_id == b
    actions.undo(project, reviewer="alice")
    assert project.coding(pid, a) is None and pid not in coded_to(project, a)
    coding.add_to_theme(project, a, [pid], reviewer="alice")
    actions.remove(project, [pid], theme_id=a, reviewer="alice")  # takes away the further coding only
    assert project.coding(pid, a) is None and project.membership(pid).theme_id == b
    actions.undo(project, reviewer="alice")
    assert project.coding(pid, a) is not None
    with pytest.raises(SynthError, match="already coded to theme"):
        coding.add_to_theme(project, a, [pid], reviewer="alice")
    with pytest.raises(SynthError, match="already coded to theme"):
        coding.add_to_theme(project, b, [pid], reviewer="alice")


def test_undo_of_create_retires_the_theme_and_restores_every_passage(project: Project, built: Built) -> None:
    unplaced, in_b = built.passages["None"][0], built.passages["B"][0]
    before = project.membership(unplaced)
    (tid,) = coding.create_theme(project, "Kindness", [unplaced, in_b], reviewer="alice").created
    actions.undo(project, reviewer="alice")
    assert project.theme(tid).status == "retired"
    assert project.membership(unplaced) == before and project.codings() == []


@pytest.mark.parametrize("label, ids, category, says", [
    ("", "P", None, "the new label is empty"),
    ("   ", "P", None, "the new label is empty"),
    ("Fine", "999999", None, "passage 999999 is not in"),
    ("Fine", "P,abc", None, "passage id 'abc' is not a whole number"),
    ("Fine", "", None, "choose at least one passage"),
    ("Fine", "P", "obstacle", "category 'obstacle' is not one of barrier, enabler, practice, context"),
    ("x" * 201, "P", None, "keep it under 200"),
])
def test_bad_input_to_create_changes_nothing(synth, built: Built, label, ids, category, says) -> None:
    before = snapshot(built.path)
    ids = ids.replace("P", str(built.passages["None"][0]))
    args = ["theme", "create", built.path, "--label", label, "--passages", ids]
    if category:
        args += ["--category", category]
    r = synth(*args)
    assert r.exit_code == 1 and says in r.output and r.output.strip().count("\n") == 0, r.output
    assert snapshot(built.path) == before


def test_bad_input_to_add_changes_nothing(synth, built: Built) -> None:
    before = snapshot(built.path)
    ok = built.passages["None"][0]
    for args, says in [((999, "--passages", ok), "theme 999 is not in"),
                       ((built.themes["A"], "--passages", f"{ok},424242"), "passage 424242 is not in"),
                       ((built.themes["A"], "--passages", built.passages["A1"][0]), "already coded to theme")]:
        r = synth("theme", "add", built.path, *args)
        assert r.exit_code == 1 and says in r.output, r.output
    actions.reject(Project.open(built.path, create=False), built.themes["C"], reviewer="x")
    before = snapshot(built.path)
    r = synth("theme", "add", built.path, built.themes["C"], "--passages", ok)
    assert r.exit_code == 1 and "it is rejected" in r.output
    assert snapshot(built.path) == before


def test_cli_create_add_search_and_log(synth, built: Built) -> None:
    u = built.passages["None"]
    out = synth.ok("theme", "create", built.path, "--label", "Everyday kindness", "--passages", f"{u[0]},{u[1]}",
                   "--category", "enabler", "--definition", "Small kindnesses.", "--reviewer", "alice")
    assert out.startswith("created theme") and "from 2 passages" in out
    with Project.open(built.path, create=False) as project:
        tid = max(t.id for t in project.themes())
    out = synth.ok("theme", "add", built.path, tid, "--passages", str(built.passages["B"][0]), "--reviewer", "alice")
    assert f"coded passage {built.passages['B'][0]} to theme {tid}" in out
    hits = json.loads(synth.ok("search", built.path, "kind", "--json"))["hits"]
    assert hits and hits[0]["theme_id"] == tid
    hits = json.loads(synth.ok("search", built.path, "induction", "--json", "--theme", str(tid)))["hits"]
    assert [h["passage_id"] for h in hits] == [built.passages["B"][0]]
    assert hits[0]["theme_id"] == built.themes["B"] and hits[0]["also_coded"] == [{"theme_id": tid,
                                                                                  "theme_label": "Everyday kindness"}]
    text = synth.ok("search", built.path, "kind")
    assert "»kind«" in text and "Everyday kindness" in text
    log = synth.ok("log", built.path)
    assert "create" in log and "code" in log
    r = synth("search", built.path, "x", "--kind", "blog")
    assert r.exit_code == 2


def test_merge_carries_further_codings_to_the_target(project: Project, built: Built) -> None:
    a, b, c = built.themes["A"], built.themes["B"], built.themes["C"]
    pid = built.passages["B"][0]
    coding.add_to_theme(project, c, [pid], reviewer="alice")
    actions.merge(project, a, [c], reviewer="alice")
    assert project.coding(pid, c) is None and project.coding(pid, a) is not None
    assert pid in coded_to(project, a) and project.membership(pid).theme_id == b
    actions.undo(project, reviewer="alice")
    assert project.coding(pid, c) is not None and project.coding(pid, a) is None


# --- exports -----------------------------------------------------------------------------------------

def test_exports_keep_one_primary_row_and_carry_every_coding(project: Project, built: Built, tmp_path: Path) -> None:
    a = built.themes["A"]
    for t in built.themes.values():
        actions.accept(project, t, reviewer="alice")
    pid = built.passages["B"][0]
    coding.add_to_theme(project, a, [pid], reviewer="alice")
    EXPORTS["assignments"](project, tmp_path / "a.csv", {})
    with (tmp_path / "a.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    assert [r["theme_id"] for r in rows if int(r["passage_id"]) == pid] == [str(built.themes["B"])]
    EXPORTS["project"](project, tmp_path / "p.qdpx", {})
    with zipfile.ZipFile(tmp_path / "p.qdpx") as zf:
        root = etree.fromstring(zf.read("project.qde"))
    P = f"{{{PROJECT_NS}}}"
    guid = {c.get("name"): c.get("guid") for c in root.iter(f"{P}Code")}
    source = project.passage(pid)
    refs = [sel.find(f"{P}Coding/{P}CodeRef").get("targetGUID") for sel in root.iter(f"{P}PlainTextSelection")
            if sel.get("startPosition") == str(source.start_char) and sel.get("endPosition") == str(source.end_char)]
    assert sorted(refs) == sorted([guid["Staffing"], guid["Training"]])
    EXPORTS["codebook"](project, tmp_path / "c.json", {})
    book = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    sizes = {c["name"]: c["passages"] for g in book["groups"] for c in g["codes"]}
    assert sizes["Staffing"] == len(members(project, a)) + 1  # the codebook counts the further coding


# --- the real pipeline keeps reviewer codings ---------------------------------------------------------

@pytest.mark.slow
def test_discover_keeps_reviewer_themes_and_codings(synth, tmp_path: Path) -> None:
    p = discover_corpus(synth, tmp_path / "e2e.synth")
    hits = json.loads(synth.ok("search", p, "staff", "--json"))["hits"]
    placed = [h["passage_id"] for h in hits if h["theme_id"] is not None][:3]
    assert len(placed) >= 2
    synth.ok("theme", "create", p, "--label", "Staff wellbeing", "--passages", ",".join(map(str, placed)),
             "--category", "barrier", "--reviewer", "e2e")
    with Project.open(p, create=False) as project:
        tid = max(t.id for t in project.themes())
        primaries = {pid: project.membership(pid).theme_id for pid in placed}
        codings = project.codings()
    # A new source, then discover again: the new passage is searchable, the reviewer's work stays.
    corpus = p.parent / "corpus"  # where discover_corpus wrote the three interviews
    (corpus / "wellbeing.txt").write_text("Staff burnout grew as caseloads rose; several advisers went on sick leave.\n",
                                          encoding="utf-8")
    synth.ok("ingest", p, corpus, "--kind", "interview")
    assert json.loads(synth.ok("search", p, "burnout", "--json"))["total"] == 1
    synth.ok("discover", p, "--seed", "7")
    with Project.open(p, create=False) as project:
        theme = project.theme(tid)
        assert (theme.status, theme.label, theme.category, theme.origin) == ("accepted", "Staff wellbeing", "barrier",
                                                                               "reviewer")
        assert project.codings() == codings
        assert set(placed) <= coded_to(project, tid)
        for pid, t in primaries.items():
            m = project.membership(pid)
            assert m.placed and (m.theme_id == t or m.theme_id == tid)


def test_split_gives_each_further_coding_to_the_part_that_fits(project: Project, built: Built) -> None:
    a = built.themes["A"]
    in_b, in_c = built.passages["B"][0], built.passages["C"][0]  # a training and a funding passage
    coding.add_to_theme(project, a, [in_b, in_c], reviewer="alice")
    parts = actions.split(project, a, k=2, reviewer="alice").created
    assert project.codings(theme_id=a) == []
    carried = {c.passage_id: c.theme_id for c in project.codings()}
    assert set(carried) == {in_b, in_c} and set(carried.values()) <= set(parts)
    assert project.membership(in_b).theme_id == built.themes["B"]
    actions.undo(project, reviewer="alice")
    assert {c.passage_id for c in project.codings(theme_id=a)} == {in_b, in_c}
    assert all(c.theme_id == a for c in project.codings())


def test_huge_result_sets_are_counted_to_a_cap_and_listed_in_order(project: Project, built: Built,
                                                                   monkeypatch) -> None:
    import synth.store as store

    everything = search(project, "the OR a OR to OR we OR was OR of")
    assert everything.ranked and not everything.more
    monkeypatch.setattr(store.fulltext, "COUNT_CAP", 3)
    monkeypatch.setattr(store.fulltext, "RANK_CAP", 4)
    capped = search(project, "the OR a OR to OR we OR was OR of")
    assert capped.more and capped.total == 3 and not capped.ranked
    ids = [h.passage_id for h in capped.hits]
    assert ids == sorted(ids) and set(ids) == {h.passage_id for h in everything.hits}


def test_codings_of_a_long_source_are_all_read(tmp_path: Path) -> None:
    """The source view asks for the codings of all its passages at once: more than SQLite's 999
    parameters for a long source."""
    from review_fixture import build_big_project
    theme, source = build_big_project(tmp_path / "big.synth", sources=1, per_source=1200, placed=1200)
    with Project.open(tmp_path / "big.synth", create=False) as project:
        ids = [p.id for p in project.passages(source_id=source)]
        other = next(t.id for t in project.themes() if t.id != theme)
        coding.add_to_theme(project, other, [ids[5], ids[1100]], reviewer="alice")
        assert {c.passage_id for c in project.codings(passage_ids=ids)} == {ids[5], ids[1100]}


def test_search_output_is_terminal_safe(tmp_path: Path, synth) -> None:
    p = tmp_path / "t.synth"
    (tmp_path / "evil.txt").write_text("The advisers helped a lot \x1b[2J and then \u202e reversed text here.\n",
                                       encoding="utf-8")
    synth.ok("ingest", p, tmp_path / "evil.txt", "--kind", "interview")
    out = synth.ok("search", p, "advisers")
    assert "\x1b" not in out and "\u202e" not in out and "\\x1b[2J" in out
    assert "\u202e" not in synth.ok("search", p, "advisers", "--json")
