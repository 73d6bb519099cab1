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
    import synth.cli.review as review_cli

    def interrupted(outcome):
        raise KeyboardInterrupt  # lands while printing: the accept is already committed

    monkeypatch.setattr(review_cli, "_say", interrupted)
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
