"""Review actions from the command line: all-or-nothing multi-id actions, a truthful Ctrl-C message,
reviewer-set categories that explain themselves, readable refusals, and split's options.

Issue 12, items 8, 9 and 11, and the UX list.
"""

from __future__ import annotations

import pytest

from export_fixture import build_review_project
from synth.review import actions
from synth.store import Project


@pytest.fixture
def built(tmp_path):
    return build_review_project(tmp_path / "review.synth")


def _state(path):
    with Project.open(path, create=False) as project:
        return ([(t.id, t.status, t.revision) for t in project.themes(statuses=("suggested", "accepted", "rejected",
                                                                                "merged", "retired"))],
                len(project.decisions()))


# --- item 9 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["accept", "reject", "restore"])
def test_a_bad_id_among_good_ones_changes_nothing(built, synth, command):
    t = built.theme_ids
    good = {"accept": ["Local labour market", "Childcare"], "reject": ["Local labour market", "Language barriers"],
            "restore": ["Childcare"]}[command]
    before = _state(built.path)
    result = synth("theme", command, built.path, *[str(t[g]) for g in good], "99999", "--reviewer", "ana")
    assert result.exit_code == 1
    assert "theme 99999 is not in" in result.output and "nothing was changed" in result.output
    assert "Traceback" not in result.output
    assert _state(built.path) == before


def test_a_theme_that_cannot_take_the_action_among_good_ones_changes_nothing(built, synth):
    t = built.theme_ids
    before = _state(built.path)
    # 'Language barriers' is already accepted: the whole command is refused, the suggested one too
    result = synth("theme", "accept", built.path, str(t["Local labour market"]), str(t["Language barriers"]))
    assert result.exit_code == 1 and "already accepted" in result.output
    assert _state(built.path) == before
    out = synth.ok("theme", "accept", built.path, str(t["Local labour market"]), str(t["Childcare"]))
    assert out.count("accepted theme") == 2


def test_huge_ids_are_not_found_not_a_crash(built, synth):
    result = synth("theme", "accept", built.path, str(2**64))
    assert result.exit_code == 1 and f"theme {2**64} is not in" in result.output


# --- item 8 ---------------------------------------------------------------------------------------

def test_ctrl_c_after_the_commit_says_the_change_was_saved(built, synth, monkeypatch):
    import synth.cli.theme as theme_cli

    def interrupted(outcome):
        raise KeyboardInterrupt  # lands while printing: the accept is already committed

    monkeypatch.setattr(theme_cli, "_say", interrupted)
    tid = built.theme_ids["Local labour market"]
    result = synth("theme", "accept", built.path, str(tid))
    assert result.exit_code == 130
    assert "as it was before" not in result.output
    assert "saved its changes" in result.output
    with Project.open(built.path, create=False) as project:
        assert project.theme(tid).status == "accepted"


def test_ctrl_c_before_the_commit_says_nothing_changed(built, synth, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # lands inside the action's transaction, before its commit

    monkeypatch.setattr(actions, "check_revisions", interrupted)
    before = _state(built.path)
    result = synth("theme", "accept", built.path, str(built.theme_ids["Local labour market"]))
    assert result.exit_code == 130
    assert "Interrupted: the project is as it was before this command." in result.output
    assert _state(built.path) == before


# --- item 11 --------------------------------------------------------------------------------------

def test_recategorise_gives_the_new_categorys_evidence_and_says_who(built, synth):
    tid = built.theme_ids["Trusted community mentors"]  # its passages read as enabler (score 0.7 each)
    with Project.open(built.path, create=False) as project:
        old = project.theme(tid)
    assert old.category == "enabler"
    synth.ok("theme", "recategorise", built.path, str(tid), "barrier", "--reviewer", "ana")
    with Project.open(built.path, create=False) as project:
        theme = project.theme(tid)
    assert theme.category == "barrier" and theme.category_by_human
    assert theme.category_reasons[0] == "category set by reviewer ana"
    assert any("read as barrier" in r for r in theme.category_reasons)
    assert not any("read as enabler" in r for r in theme.category_reasons)
    # confidence is the evidence for barrier (each passage scores 0.1 for it), not the old 0.8
    assert theme.category_confidence == pytest.approx(0.1, abs=0.01)
    # undo restores the old category with its own reasons and confidence
    synth.ok("theme", "undo", built.path, "--reviewer", "ana")
    with Project.open(built.path, create=False) as project:
        back = project.theme(tid)
    assert (back.category, back.category_confidence, back.category_reasons) == (
        old.category, old.category_confidence, old.category_reasons)


# --- UX: readable refusals ----------------------------------------------------------------------------

def test_a_refusal_lists_the_statuses_in_plain_english(built, synth):
    t = built.theme_ids
    synth.ok("theme", "merge", built.path, str(t["Language barriers"]), str(t["Local labour market"]))
    result = synth("theme", "accept", built.path, str(t["Local labour market"]))
    assert result.exit_code == 1
    assert "only a theme that is suggested or rejected can be accepted" in result.output
    assert actions.or_list(["rejected", "merged", "retired"]) == "rejected, merged or retired"


# --- UX: split ------------------------------------------------------------------------------------

@pytest.fixture
def small(tmp_path):
    from review_fixture import build_review_project as build_small
    return build_small(tmp_path / "small.synth")


def test_split_takes_a_short_k_and_names_parts_by_their_own_content(small, synth):
    a = small.themes["A"]
    with Project.open(small.path, create=False) as project:
        parent = project.theme(a)
    out = synth.ok("theme", "split", small.path, str(a), "-k", "2")
    with Project.open(small.path, create=False) as project:
        children = [t for t in project.themes() if t.parent_id == a]
        assert len(children) == 2
        for child in children:
            n = child.size
            sources = len({project.passage(m.passage_id).source_id
                           for m in project.memberships(theme_id=child.id, placed=True)})
            assert "part" not in child.label and child.label != parent.label
            assert f"{n} passages from {sources} sources" in child.definition  # its own counts
            assert child.definition != parent.definition and child.top_terms != parent.top_terms
        assert children[0].label != children[1].label
    assert "split theme" in out


def test_split_by_category_makes_no_one_passage_theme(small, synth):
    a = small.themes["A"]  # three barrier passages (A1) and three practice passages (A2)
    with Project.open(small.path, create=False) as project, project.transaction():
        lone = small.passages["A2"][0]
        project.set_passage_category(lone, "context", {"barrier": 0.1, "enabler": 0.1, "practice": 0.2,
                                                       "context": 0.6}, [])
    synth.ok("theme", "split", small.path, str(a), "--by-category")
    with Project.open(small.path, create=False) as project:
        children = [t for t in project.themes() if t.parent_id == a]
        assert sorted(t.size for t in children) == [2, 4] or sorted(t.size for t in children) == [3, 3]
        assert all(t.size >= 2 for t in children) and sum(t.size for t in children) == 6
        assert {t.category for t in children} == {"barrier", "practice"}


def test_split_by_category_refuses_when_only_one_category_has_two_passages(small, synth):
    a = small.themes["A"]
    with Project.open(small.path, create=False) as project, project.transaction():
        for pid, cat in zip(small.passages["A2"], ("barrier", "barrier", "context")):
            project.set_passage_category(pid, cat, {"barrier": 0.5, "enabler": 0.1, "practice": 0.1,
                                                    "context": 0.3}, [])
    result = synth("theme", "split", small.path, str(a), "--by-category")
    assert result.exit_code == 1 and "one-passage themes" in result.output


# --- UX: themes at 80 columns, and help ---------------------------------------------------------------

@pytest.mark.parametrize("width", [80, 100, 200])
def test_themes_is_readable_at_the_terminal_width(built, synth, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    out = synth.ok("themes", built.path, "--status", "accepted", "--status", "suggested", "--status", "rejected")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width, "\n" + out
    assert "…" not in out, "\n" + out
    for status in ("accepted", "suggested", "rejected"):
        assert f" {status} " in out
    assert "corroborated" in out or "fieldwork only" in out or "literature only" in out


def test_include_suggested_help_names_the_matrix(synth):
    out = synth.ok("export", "--help")
    text = " ".join(out.split())
    assert "codebook, matrix, project" in text


def test_split_help_shows_the_short_k(synth):
    assert "-k, --k" in synth.ok("theme", "split", "--help")
