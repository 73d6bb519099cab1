"""Review actions (synth.review.actions) and their CLI commands, on real project files.

The projects here are built directly through the `Project` API (sources, passages at exact offsets,
embeddings, themes, memberships), so these tests do not depend on clustering. One end-to-end test
runs the real `synth ingest` + `synth discover` and checks that review decisions survive a re-run.

The project they act on is tests/review_fixture.py's (the `built` and `project` fixtures of conftest.py).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from review_fixture import Built, discover_corpus, members
from synth.errors import ConflictError, NotFoundError, SynthError
from synth.review import actions
from synth.store import Project

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


def test_a_reviewers_category_reads_the_stored_cues_back(project: Project, built: Built) -> None:
    """Issue 12 item 2, the review side: the vote a review action makes reads each passage's stored
    cue matches back (it once built them with no cues), so the theme's reasons name the cues as a
    discover run's do."""
    from synth.cue_match import CueMatch

    practice = {"barrier": 0.1, "enabler": 0.1, "practice": 0.7, "context": 0.1}
    with project.transaction():
        for pid in built.passages["A2"]:
            start = built.text[pid].index("hire") if "hire" in built.text[pid] else 0
            cue = CueMatch(phrase=built.text[pid][start:start + 4], category="practice", start_char=start,
                           end_char=start + 4, negated=False, lemma="hire")
            project.set_passage_category(pid, "practice", practice, [cue.to_dict()])
    actions.recategorise(project, built.themes["A"], "practice", reviewer="t")
    reasons = project.theme(built.themes["A"]).category_reasons
    assert any(r.startswith('practice cues: "hire" ×') for r in reasons), reasons


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

@pytest.mark.slow
def test_decisions_survive_a_rerun_of_discover(synth, tmp_path: Path) -> None:
    p = discover_corpus(synth, tmp_path / "e2e.synth")
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
