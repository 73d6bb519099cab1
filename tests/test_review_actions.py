"""Review actions (synth.review.actions) and their CLI commands, on real project files.

The projects here are built directly through the `Project` API (sources, passages at exact offsets,
embeddings, themes, memberships), so these tests do not depend on clustering. One end-to-end test
runs the real `synth ingest` + `synth discover` and checks that review decisions survive a re-run.

`build_review_project` is also used by test_review_http.py and test_review_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from synth.errors import ConflictError, NotFoundError, SynthError
from synth.records import ExtractedDocument, PassageSpan
from synth.review import actions
from synth.store import Project, now_iso

MODEL_ID = "test-model"
DIM = 8
HOSTILE = 'She wrote <script>alert("pwned")</script> and <img src=x onerror=alert(1)> in the form, &amp; more.'

# (source, group, category, text). Groups: A1/A2 are two halves of theme A (staffing), B training,
# C funding; None is unplaced. A1 and A2 differ in embedding and category, so both kinds of split
# separate them.
PASSAGES = [
    ("interview-alice", "A1", "barrier", "We never had enough caseworkers; the waiting list just grew."),
    ("interview-alice", "B", "enabler", "The induction course gave new advisers real confidence with clients."),
    ("interview-alice", "A2", "practice", "We now recruit peer mentors from people who finished the programme."),
    ("interview-alice", "C", "barrier", "Money from the council arrived six months late, so we paused intake."),
    ("interview-alice", None, "context", "The office is next to the bus station."),
    ("report-2021", "A1", "barrier", "Staff shortages were the most cited obstacle across all sites."),
    ("report-2021", "B", "enabler", "Structured training for frontline staff improved retention."),
    ("report-2021", "C", "barrier", "Delayed grant payments forced providers to cut services mid-year."),
    ("report-2021", "A2", "practice", "Sites that hired former participants as mentors filled vacancies faster."),
    ("survey-answers", "A1", "barrier", "not enough staff to see everyone"),
    ("survey-answers", "B", "enabler", "the training helped me do my job"),
    ("survey-answers", "A2", "practice", "they should hire people who have been through it"),
    ("survey-answers", "C", "barrier", "funding came too late every year"),
    ("survey-answers", None, "enabler", "my adviser was kind and listened"),
    ("hostile-notes", "B", "enabler", HOSTILE),
    ("hostile-notes", None, "context", "Plain closing remark <b>not bold</b>."),
]
KINDS = {"interview-alice": "interview", "report-2021": "literature", "survey-answers": "survey",
         "hostile-notes": "interview"}
META = {"interview-alice": {"programme": "Into Work", "area": "Leeds"}, "report-2021": {"year": "2021"},
        "survey-answers": {"programme": "Into Work"}, "hostile-notes": {"area": "<i>Hull</i>"}}
GROUP_VECTOR = {"A1": (0, 5), "A2": (0, 6), "B": (1,), "C": (2,), None: (1, 3)}


@dataclass
class Built:
    path: Path
    themes: dict[str, int] = field(default_factory=dict)       # "A", "B", "C" -> theme id
    passages: dict[str, list[int]] = field(default_factory=dict)  # group -> passage ids
    sources: dict[str, int] = field(default_factory=dict)      # name -> source id
    text: dict[int, str] = field(default_factory=dict)         # passage id -> text


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _vector(group: str | None, rng: np.random.Generator) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    for i in GROUP_VECTOR[group]:
        v[i] = 1.0 if i < 3 else 0.6
    v += rng.normal(0, 0.03, DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def build_review_project(path: Path) -> Built:
    """A small project as discover would leave it: 3 suggested themes, 3 unplaced passages."""
    built = Built(path)
    rng = np.random.default_rng(0)
    with Project.open(path) as project, project.transaction():
        run_id = project.add_run(started_at=now_iso(), seed=0, model_id=MODEL_ID, params={}, stats={}, report={})
        by_source: dict[str, list[tuple]] = {}
        for row in PASSAGES:
            by_source.setdefault(row[0], []).append(row)
        vectors: dict[str, np.ndarray] = {}
        placed: dict[str, list[tuple[int, float]]] = {}
        for name, rows in by_source.items():
            text, spans = f"Notes: {name}\n\n", []
            for _, group, _, passage in rows:
                spans.append(PassageSpan(len(text), len(text) + len(passage), passage))
                text += passage + "\n\n"
            doc = ExtractedDocument(name=name, path=f"{name}.txt", kind=KINDS[name], text=text, sha256=_sha(text),
                                    metadata=META[name])
            source, ids = project.add_source(doc, spans, [_sha(s.text) for s in spans])
            built.sources[name] = source.id
            for pid, span, (_, group, category, passage) in zip(ids, spans, rows, strict=True):
                assert source.text[span.start_char:span.end_char] == passage
                vectors[_sha(passage)] = _vector(group, rng)
                built.passages.setdefault(str(group), []).append(pid)
                built.text[pid] = passage
                scores = {c: 0.1 for c in ("barrier", "enabler", "practice", "context")}
                scores[category] = 0.7
                project.set_passage_category(pid, category, scores, [])
                placed.setdefault(str(group)[0] if group else "none", []).append((pid, float(rng.uniform(0.6, 0.95))))
        project.store_embeddings(MODEL_ID, vectors)
        specs = {"A": ("Staffing", "barrier", ["staff", "shortage", "recruit"]),
                 "B": ("Training", "enabler", ["training", "induction"]),
                 "C": ("Funding delays", "barrier", ["funding", "late"])}
        for key, (label, category, terms) in specs.items():
            members = placed[key]
            centroid = np.mean([vectors[_sha(built.text[pid])] for pid, _ in members], axis=0)
            theme_id = project.create_theme(label=label, definition=f"Passages about {label.lower()}.",
                                            top_terms=terms, run_id=run_id, centroid=centroid)
            project.update_theme(theme_id, bump_revision=False, category=category, category_confidence=0.62,
                                 category_mix={category: 0.7, "context": 0.3},
                                 category_reasons=[f"most passages read as {category}"])
            for pid, prob in members:
                project.set_membership(pid, theme_id, probability=prob, placed=True, by_human=False, run_id=run_id)
            project.set_quotes(theme_id, [pid for pid, _ in members][:3])
            built.themes[key] = theme_id
        # One unplaced passage remembers its nearest theme (as discover leaves it); the rest have none.
        project.set_membership(built.passages["None"][0], built.themes["B"], probability=0.2, placed=False,
                               by_human=False, run_id=run_id)
    return built


def build_big_project(path: Path, *, sources: int = 50, per_source: int = 100, placed: int = 3000) -> tuple[int, int]:
    """sources × per_source passages; the first `placed` in one theme, the rest unplaced. Returns (theme, source)."""
    rng = np.random.default_rng(1)
    with Project.open(path) as project, project.transaction():
        run_id = project.add_run(started_at=now_iso(), seed=0, model_id=MODEL_ID, params={}, stats={}, report={})
        all_ids, vectors = [], {}
        first_source = None
        for s in range(sources):
            parts = [f"Passage {s}-{i}: the service {'worked' if i % 2 else 'failed'} for person {i}." for i in range(per_source)]
            text, spans = "", []
            for part in parts:
                spans.append(PassageSpan(len(text), len(text) + len(part), part))
                text += part + "\n"
            doc = ExtractedDocument(name=f"doc-{s:03d}", path=f"doc-{s:03d}.txt", kind="interview", text=text,
                                    sha256=_sha(text))
            source, ids = project.add_source(doc, spans, [_sha(p) for p in parts])
            first_source = first_source or source.id
            all_ids += ids
            for part in parts:
                vectors[_sha(part)] = rng.normal(size=DIM).astype(np.float32)
        project.store_embeddings(MODEL_ID, vectors)
        theme_id = project.create_theme(label="Big theme", run_id=run_id, centroid=np.ones(DIM, dtype=np.float32))
        other = project.create_theme(label="Other theme", run_id=run_id, centroid=-np.ones(DIM, dtype=np.float32))
        for pid in all_ids[:placed]:
            project.set_membership(pid, theme_id, probability=0.5, placed=True, by_human=False, run_id=run_id)
        for pid in all_ids[placed:placed + 10]:
            project.set_membership(pid, other, probability=0.5, placed=True, by_human=False, run_id=run_id)
    return theme_id, first_source


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build_review_project(tmp_path / "review.synth")


@pytest.fixture
def project(built: Built):
    with Project.open(built.path, create=False) as p:
        yield p


def members(project: Project, theme_id: int) -> set[int]:
    return {m.passage_id for m in project.memberships(theme_id=theme_id, placed=True)}


# --- the fixture itself ---------------------------------------------------------------------------

def test_fixture_passages_sit_at_their_offsets(project: Project, built: Built) -> None:
    for passage in project.passages():
        assert project.source(passage.source_id).text[passage.start_char:passage.end_char] == passage.text
    assert members(project, built.themes["A"]) == set(built.passages["A1"] + built.passages["A2"])


# --- status --------------------------------------------------------------------------------------

def test_accept_reject_restore_log_before_and_after(project: Project, built: Built) -> None:
    a = built.themes["A"]
    rev = project.theme(a).revision
    out = actions.accept(project, a, reviewer="alice")
    assert project.theme(a).status == "accepted"
    assert project.theme(a).revision == rev + 1
    actions.reject(project, a, reviewer="bob")
    assert project.theme(a).status == "rejected"
    actions.restore(project, a, reviewer="bob")
    assert project.theme(a).status == "suggested"
    log = project.decisions()
    assert [(d.reviewer, d.action) for d in log] == [("alice", "accept"), ("bob", "reject"), ("bob", "restore")]
    assert log[0].id == out.decision_id and log[0].theme_id == a and log[0].at
    assert log[0].before == {"themes": {str(a): {"status": "suggested"}}}
    assert log[0].after == {"themes": {str(a): {"status": "accepted"}}}
    assert log[1].before["themes"][str(a)]["status"] == "accepted"


def test_status_changes_that_make_no_sense_are_refused(project: Project, built: Built) -> None:
    a = built.themes["A"]
    with pytest.raises(SynthError, match="already suggested"):
        actions.restore(project, a, reviewer="r")
    actions.accept(project, a, reviewer="r")
    with pytest.raises(SynthError, match="already accepted"):
        actions.accept(project, a, reviewer="r")
    with pytest.raises(NotFoundError, match="theme 999"):
        actions.accept(project, 999, reviewer="r")
    assert len(project.decisions()) == 1


# --- wording and category --------------------------------------------------------------------------

def test_rename_define_recategorise_mark_fields_as_human(project: Project, built: Built) -> None:
    b = built.themes["B"]
    actions.rename(project, b, "  Training   that sticks ", reviewer="r")
    actions.define(project, b, "Training that staff say changed their practice.", reviewer="r")
    actions.recategorise(project, b, "practice", reviewer="r")
    theme = project.theme(b)
    assert (theme.label, theme.label_by_human) == ("Training that sticks", True)
    assert theme.definition_by_human and theme.definition.startswith("Training that staff")
    assert (theme.category, theme.category_by_human) == ("practice", True)
    rename = project.decisions()[0]
    assert rename.before["themes"][str(b)] == {"label": "Training", "label_by_human": False}
    assert rename.after["themes"][str(b)] == {"label": "Training that sticks", "label_by_human": True}


def test_bad_wording_is_refused_with_a_reason(project: Project, built: Built) -> None:
    with pytest.raises(SynthError, match="empty"):
        actions.rename(project, built.themes["A"], "   ", reviewer="r")
    with pytest.raises(SynthError, match="under 200"):
        actions.rename(project, built.themes["A"], "x" * 201, reviewer="r")
    with pytest.raises(SynthError, match="not one of barrier, enabler, practice, context"):
        actions.recategorise(project, built.themes["A"], "obstacle", reviewer="r")
    assert project.decisions() == []


# --- concurrency ---------------------------------------------------------------------------------

def test_a_stale_revision_is_refused_and_nothing_changes(project: Project, built: Built) -> None:
    a = built.themes["A"]
    seen = project.theme(a).revision
    actions.rename(project, a, "Staff shortages", reviewer="alice", expected={a: seen})
    with pytest.raises(ConflictError, match="This theme was changed by someone else; reload the page"):
        actions.rename(project, a, "Staffing problems", reviewer="bob", expected={a: seen})
    assert project.theme(a).label == "Staff shortages"
    assert [d.reviewer for d in project.decisions()] == ["alice"]


def test_moving_a_passage_makes_both_themes_pages_stale(project: Project, built: Built) -> None:
    a, b = built.themes["A"], built.themes["B"]
    revs = {a: project.theme(a).revision, b: project.theme(b).revision}
    actions.move(project, [built.passages["A1"][0]], b, reviewer="r", expected={a: revs[a]})
    assert project.theme(a).revision == revs[a] + 1 and project.theme(b).revision == revs[b] + 1
    with pytest.raises(ConflictError):
        actions.accept(project, b, reviewer="r", expected={b: revs[b]})


# --- merge and split -------------------------------------------------------------------------------

def test_merge_moves_members_as_human_placements(project: Project, built: Built) -> None:
    a, b, c = built.themes["A"], built.themes["B"], built.themes["C"]
    before_b = members(project, b)
    unplaced = built.passages["None"][0]  # its nearest theme is B
    out = actions.merge(project, a, [b, c], reviewer="r")
    assert members(project, a) == set(built.passages["A1"] + built.passages["A2"]) | before_b | set(built.passages["C"])
    assert all(m.by_human for m in project.memberships(theme_id=a, placed=True) if m.passage_id in before_b)
    assert project.membership(unplaced).theme_id == a and not project.membership(unplaced).placed
    for t in (b, c):
        assert (project.theme(t).status, project.theme(t).merged_into) == ("merged", a)
    d = project.decisions()[-1]
    assert (d.id, d.action, d.theme_id, d.after["merged"]) == (out.decision_id, "merge", a, [b, c])
    assert d.before["themes"][str(b)] == {"status": "suggested", "merged_into": None}


def test_merge_refuses_itself_and_dead_targets(project: Project, built: Built) -> None:
    a, b = built.themes["A"], built.themes["B"]
    with pytest.raises(SynthError, match="into itself"):
        actions.merge(project, a, [a], reviewer="r")
    actions.reject(project, a, reviewer="r")
    with pytest.raises(SynthError, match="rejected; restore it first"):
        actions.merge(project, a, [b], reviewer="r")


def test_split_by_embedding_separates_the_two_halves(project: Project, built: Built) -> None:
    a = built.themes["A"]
    out = actions.split(project, a, k=2, reviewer="r")
    assert len(out.created) == 2
    groups = {frozenset(members(project, t)) for t in out.created}
    assert groups == {frozenset(built.passages["A1"]), frozenset(built.passages["A2"])}
    for t in out.created:
        child = project.theme(t)
        assert child.parent_id == a and child.status == "suggested" and child.label_by_human
        assert child.origin == "split"
        # named by its own passages: its own terms and counts, not "Staffing — part 1 of 2" with the parent's
        assert "part" not in child.label and child.label != "Staffing"
        n = len(members(project, t))
        assert f"{n} passages" in child.definition and child.top_terms != project.theme(a).top_terms
        assert all(m.by_human for m in project.memberships(theme_id=t))
        assert project.theme_centroid(t) is not None and project.quotes(t)
    assert project.theme(a).status == "retired" and members(project, a) == set()
    d = project.decisions()[-1]
    assert d.after["into"] == list(out.created) and d.before["themes"][str(out.created[0])] is None
    assert len({project.theme(t).label for t in out.created}) == 2


def test_split_by_category_names_sub_themes_by_category(project: Project, built: Built) -> None:
    a = built.themes["A"]
    actions.accept(project, a, reviewer="r")
    out = actions.split(project, a, by_category=True, reviewer="r")
    children = {project.theme(t).category: project.theme(t) for t in out.created}
    assert set(children) == {"barrier", "practice"}
    assert members(project, children["barrier"].id) == set(built.passages["A1"])
    assert children["practice"].label.endswith(" — practice") and children["practice"].category_by_human
    assert children["practice"].label != children["barrier"].label.replace("barrier", "practice")
    assert all(c.status == "accepted" for c in children.values())  # an accepted theme's parts stay accepted


def test_split_refuses_what_it_cannot_do(project: Project, built: Built) -> None:
    b = built.themes["B"]
    with pytest.raises(SynthError, match="between 2 and 4"):
        actions.split(project, b, k=9, reviewer="r")
    with pytest.raises(SynthError, match="all passages of theme .* are enabler"):
        actions.split(project, b, by_category=True, reviewer="r")
    with pytest.raises(SynthError, match="either k"):
        actions.split(project, b, reviewer="r")
    assert project.decisions() == []


# --- passages -------------------------------------------------------------------------------------

def test_move_and_remove_are_human_placements(project: Project, built: Built) -> None:
    a, c = built.themes["A"], built.themes["C"]
    p, q = built.passages["A1"][0], built.passages["A1"][1]
    actions.move(project, [p], c, reviewer="r")
    assert (project.membership(p).theme_id, project.membership(p).placed, project.membership(p).by_human) == (c, True, True)
    actions.remove(project, [q], reviewer="r")
    m = project.membership(q)
    assert (m.theme_id, m.placed, m.by_human) == (a, False, True)
    move, remove = project.decisions()
    assert move.before["memberships"][str(p)]["theme_id"] == a and move.after["memberships"][str(p)]["theme_id"] == c
    assert move.passage_id == p and remove.passage_id == q
    with pytest.raises(SynthError, match="not in any theme"):
        actions.remove(project, [q], reviewer="r")
    with pytest.raises(SynthError, match="already in theme"):
        actions.move(project, [p], c, reviewer="r")


def test_unplaced_passage_can_be_placed_and_refuses_double_placing(project: Project, built: Built) -> None:
    lone = built.passages["None"][1]  # no membership row at all
    actions.move(project, [lone], built.themes["B"], reviewer="alice", only_unplaced=True)
    with pytest.raises(ConflictError, match="placed in theme"):
        actions.move(project, [lone], built.themes["C"], reviewer="bob", only_unplaced=True)
    actions.reject(project, built.themes["C"], reviewer="r")
    with pytest.raises(SynthError, match="rejected"):
        actions.move(project, [lone], built.themes["C"], reviewer="r")


def test_memos_on_themes_and_passages(project: Project, built: Built) -> None:
    actions.memo(project, "Check the 2021 report.", theme_id=built.themes["A"], reviewer="r")
    actions.memo(project, "Sarcastic?", passage_id=built.passages["B"][0], reviewer="r")
    assert [m.after["memo"] for m in actions.memos(project)] == ["Check the 2021 report.", "Sarcastic?"]
    assert [m.after["memo"] for m in actions.memos(project, theme_id=built.themes["A"])] == ["Check the 2021 report."]
    with pytest.raises(SynthError, match="exactly one"):
        actions.memo(project, "x", reviewer="r")
    actions.undo(project, reviewer="r")
    assert [m.after["memo"] for m in actions.memos(project)] == ["Check the 2021 report."]


# --- undo -----------------------------------------------------------------------------------------

def test_undo_walks_back_the_reviewers_own_decisions(project: Project, built: Built) -> None:
    a = built.themes["A"]
    actions.rename(project, a, "Staff shortages", reviewer="alice")
    actions.accept(project, a, reviewer="alice")
    out = actions.undo(project, reviewer="alice")
    assert project.theme(a).status == "suggested" and project.theme(a).label == "Staff shortages"
    actions.undo(project, reviewer="alice")
    assert (project.theme(a).label, project.theme(a).label_by_human) == ("Staffing", False)
    with pytest.raises(SynthError, match="nothing left to undo"):
        actions.undo(project, reviewer="alice")
    log = project.decisions()
    assert [d.action for d in log] == ["rename", "accept", "undo", "undo"]
    assert log[2].id == out.decision_id and log[2].undoes == log[1].id and log[3].undoes == log[0].id


def test_undo_split_restores_the_parent_and_retires_the_parts(project: Project, built: Built) -> None:
    a = built.themes["A"]
    before = members(project, a)
    out = actions.split(project, a, k=2, reviewer="r")
    actions.undo(project, reviewer="r")
    assert project.theme(a).status == "suggested" and members(project, a) == before
    assert all(project.theme(t).status == "retired" and members(project, t) == set() for t in out.created)
    assert {m.by_human for m in project.memberships(theme_id=a)} == {False}


def test_undo_merge_and_move(project: Project, built: Built) -> None:
    a, b = built.themes["A"], built.themes["B"]
    snapshot = {m.passage_id: m for m in project.memberships()}
    actions.merge(project, a, [b], reviewer="r")
    actions.move(project, [built.passages["C"][0]], a, reviewer="r")
    actions.undo(project, reviewer="r")
    actions.undo(project, reviewer="r")
    assert {m.passage_id: m for m in project.memberships()} == snapshot
    assert project.theme(b).status == "suggested" and project.theme(b).merged_into is None


def test_undo_never_overwrites_a_later_edit_by_someone_else(project: Project, built: Built) -> None:
    a = built.themes["A"]
    actions.rename(project, a, "Staff shortages", reviewer="alice")
    actions.rename(project, a, "Workforce", reviewer="bob")
    with pytest.raises(ConflictError, match="theme .* has changed since"):
        actions.undo(project, reviewer="alice")
    assert project.theme(a).label == "Workforce"
    actions.undo(project, reviewer="bob")
    actions.undo(project, reviewer="alice")
    assert project.theme(a).label == "Staffing"


def test_undo_is_not_blocked_by_what_a_later_discover_refreshes(project: Project, built: Built) -> None:
    a, b = built.themes["A"], built.themes["B"]
    out = actions.split(project, a, k=2, reviewer="r")
    part = out.created[0]
    actions.merge(project, part, [b], reviewer="r")
    unplaced = built.passages["None"][0]  # merge re-pointed its (machine) nearest-theme link to the target
    # What a re-run of discover may do meanwhile: refresh terms/categories, re-suggest machine links.
    project.update_theme(part, bump_revision=False, top_terms=["new"], category_mix={"barrier": 1.0})
    project.set_membership(unplaced, built.themes["C"], probability=0.1, placed=False, by_human=False)
    actions.undo(project, reviewer="r")
    assert project.theme(b).status == "suggested" and project.membership(unplaced).theme_id == built.themes["C"]
    actions.undo(project, reviewer="r")
    assert project.theme(a).status == "suggested" and project.theme(part).status == "retired"


def test_the_decision_log_cannot_be_edited(project: Project, built: Built) -> None:
    actions.accept(project, built.themes["A"], reviewer="r")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        project.db.execute("DELETE FROM decisions")
    assert "status: 'suggested' → 'accepted'" in actions.describe(project.decisions()[0])


# --- the CLI --------------------------------------------------------------------------------------

def test_cli_theme_commands_and_log(synth, built: Built) -> None:
    p = built.path
    a, b, c = built.themes["A"], built.themes["B"], built.themes["C"]
    assert "accepted theme" in synth.ok("theme", "accept", p, a, "--reviewer", "alice")
    synth.ok("theme", "rename", p, b, "Training that sticks", "--reviewer", "alice")
    synth.ok("theme", "define", p, b, "What staff learnt.", "--reviewer", "alice")
    synth.ok("theme", "recategorise", p, b, "practice", "--reviewer", "alice")
    synth.ok("theme", "move", p, built.passages["C"][0], b, "--reviewer", "alice")
    synth.ok("theme", "remove", p, built.passages["C"][1], "--reviewer", "alice")
    synth.ok("theme", "memo", p, "--theme", a, "Strong theme.", "--reviewer", "alice")
    synth.ok("theme", "memo", p, "--passage", built.passages["B"][0], "Odd one.", "--reviewer", "alice")
    out = synth.ok("theme", "split", p, a, "--k", "2", "--reviewer", "bob")
    assert "split theme" in out
    synth.ok("theme", "merge", p, b, c, "--reviewer", "bob")
    synth.ok("theme", "reject", p, b, "--reviewer", "bob")
    synth.ok("theme", "restore", p, b, "--reviewer", "bob")
    assert "undid decision" in synth.ok("theme", "undo", p, "--reviewer", "bob")
    log = synth.ok("log", p)
    for word in ("accept", "rename", "define", "recategorise", "move", "remove", "memo", "split", "merge",
                 "reject", "restore", "undo", "(undone)", "alice", "bob"):
        assert word in log
    entries = json.loads(synth.ok("log", p, "--json"))
    assert [e["action"] for e in entries][-1] == "undo" and entries[-1]["undoes"] == entries[-2]["id"]
    assert {"at", "reviewer", "before", "after"} <= set(entries[0])
    with Project.open(p, create=False) as project:
        assert project.theme(b).status == "rejected"  # restore was undone
        assert project.theme(a).status == "retired"


def test_cli_errors_are_one_line(synth, built: Built) -> None:
    result = synth("theme", "accept", built.path, 999)
    assert result.exit_code == 1 and "theme 999 is not in" in result.output and "Traceback" not in result.output
    result = synth("theme", "split", built.path, built.themes["A"])
    assert result.exit_code == 2 and "-k N" in result.output and "--by-category" in result.output
    result = synth("theme", "undo", built.path, "--reviewer", "nobody")
    assert result.exit_code == 1 and "nothing left to undo" in result.output


def test_every_review_command_has_help_with_an_example(synth) -> None:
    commands = [("review",), ("log",), ("theme",)] + [("theme", c) for c in (
        "accept", "reject", "restore", "rename", "define", "recategorise", "merge", "split", "move", "remove",
        "memo", "undo")]
    for cmd in commands:
        out = synth.ok(*cmd, "--help")
        assert "Example" in out and "synth " + " ".join(cmd) in out, cmd


# --- a later discover respects decisions (the real pipeline) -----------------------------------------

CORPUS = {
    "staffing.txt": [
        "We never had enough caseworkers to see every client, so the waiting list kept growing.",
        "Staff shortages meant advisers carried caseloads far above the recommended level.",
        "Recruiting experienced advisers was hard because the pay was lower than elsewhere.",
        "Vacancies stayed open for months and the remaining staff were exhausted.",
        "The service lost three caseworkers in one year and could not replace them quickly.",
        "Sickness absence among overstretched staff made the shortage worse every winter.",
    ],
    "training.txt": [
        "The induction course gave new advisers real confidence when working with clients.",
        "Structured training for frontline staff improved how they handled difficult cases.",
        "Shadowing an experienced colleague for two weeks was the most useful training I had.",
        "Regular refresher training kept advisers up to date with benefit rules.",
        "Online training modules let staff learn at their own pace between appointments.",
        "Mentoring from a senior adviser helped new starters settle into the role.",
    ],
    "funding.txt": [
        "Money from the council arrived six months late, so we had to pause new referrals.",
        "Delayed grant payments forced providers to cut services in the middle of the year.",
        "Short funding cycles meant we could never plan more than a few months ahead.",
        "The contract was renewed at the last minute every year, which made staff anxious.",
        "Uncertain funding stopped us from offering permanent contracts to good staff.",
        "When the grant was cut we closed the evening drop-in sessions.",
    ],
}


@pytest.mark.slow
def test_decisions_survive_a_rerun_of_discover(synth, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, paragraphs in CORPUS.items():
        (corpus / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    p = tmp_path / "e2e.synth"
    synth.ok("ingest", p, corpus, "--kind", "interview")
    synth.ok("discover", p, "--seed", "42")
    with Project.open(p, create=False) as project:
        themes = sorted(project.themes(), key=lambda t: -t.size)
        assert len(themes) >= 2 and themes[1].size >= 3, "discover found too few themes in the test corpus"
        kept, split_me = themes[0], themes[1]
        moved = min(members(project, split_me.id))
    r = ("--reviewer", "e2e")
    synth.ok("theme", "accept", p, kept.id, *r)
    synth.ok("theme", "rename", p, kept.id, "Reviewer's name", *r)
    synth.ok("theme", "move", p, moved, kept.id, *r)
    synth.ok("theme", "split", p, split_me.id, "--k", "2", *r)
    with Project.open(p, create=False) as project:
        parts = [t.id for t in project.themes() if t.parent_id == split_me.id]
    synth.ok("theme", "merge", p, parts[0], parts[1], *r)  # fold one part back into the other
    with Project.open(p, create=False) as project:
        before = {t: members(project, t) for t in (kept.id, parts[0])}
        label = project.theme(parts[0]).label
        decisions = len(project.decisions())

    synth.ok("discover", p, "--seed", "7")
    with Project.open(p, create=False) as project:
        theme = project.theme(kept.id)
        assert (theme.status, theme.label) == ("accepted", "Reviewer's name")
        m = project.membership(moved)
        assert (m.theme_id, m.placed, m.by_human) == (kept.id, True, True)
        for t, passages in before.items():  # the accepted theme; the split part with the merged passages
            assert passages <= members(project, t), t
        assert project.theme(parts[0]).status == "suggested" and project.theme(parts[0]).label == label
        assert project.theme(split_me.id).status == "retired"
        assert (project.theme(parts[1]).status, project.theme(parts[1]).merged_into) == ("merged", parts[0])
        assert len(project.decisions()) == decisions  # discover logs nothing as a reviewer
    log = synth.ok("log", p)
    assert "Reviewer's name" in log and "merge" in log and "split" in log
