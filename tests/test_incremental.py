"""Warm start (issue 13, items 7 and 8): a re-run that adds a few passages extends the stored themes,
keeps every reviewer's decision, and a re-run with nothing new changes nothing."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import DEMO
from synth.incremental import StoredMembership, StoredTheme, WARM_SHARE, warm_start, warm_start_reason
from synth.records import Passage
from synth.store import Project
from test_rerun import HELD_BACK, _demo_without_one_interview


def _state(project_path) -> dict:
    """What a reader of the project sees: themes with label, definition, category and status; every
    membership; every quote list; the stance links."""
    with Project.open(project_path, create=False) as project:
        themes = {t.id: (t.label, t.definition, t.category, t.status, tuple(t.top_terms))
                  for t in project.themes(statuses=("suggested", "accepted", "rejected", "merged", "retired"))}
        members = {(m.passage_id, m.theme_id, round(m.probability, 6), m.placed, m.by_human)
                   for m in project.memberships()}
        quotes = {t: tuple(q.id for q in project.quotes(t)) for t in themes}
        return {"themes": themes, "members": members, "quotes": quotes, "links": project.stance_links()}


def test_a_rerun_with_nothing_new_changes_nothing(tmp_path, synth):
    project_path = tmp_path / "review.synth"
    synth.ok("ingest", project_path, DEMO)
    synth.ok("discover", project_path, "--seed", "42")
    before = _state(project_path)
    out = synth.ok("discover", project_path, "--seed", "7")  # another seed: nothing depends on it
    assert "stored themes extended" in out and "new:" not in out, out
    assert _state(project_path) == before


def test_adding_a_source_extends_the_themes_and_keeps_every_decision(tmp_path, synth):
    corpus, held, full_manifest = _demo_without_one_interview(tmp_path)
    project_path = tmp_path / "review.synth"
    synth.ok("ingest", project_path, corpus)
    synth.ok("discover", project_path)
    with Project.open(project_path, create=False) as project:
        themes = sorted(project.themes(), key=lambda t: (-t.size, t.id))
        members = {t.id: {m.passage_id for m in project.memberships(theme_id=t.id, placed=True)} for t in themes}
    renamed, rejected, target, merged, other = (t.id for t in themes[:5])
    moved = min(members[other])
    synth.ok("theme", "rename", project_path, str(renamed), "Trusted community intermediaries")
    synth.ok("theme", "reject", project_path, str(rejected))
    synth.ok("theme", "merge", project_path, str(target), str(merged))
    synth.ok("theme", "move", project_path, str(moved), str(renamed))
    decided = _state(project_path)

    shutil.move(held, corpus / "interviews" / HELD_BACK)
    (corpus / "interviews" / "sources.csv").write_text(full_manifest, encoding="utf-8")
    synth.ok("ingest", project_path, corpus)
    out = synth.ok("discover", project_path)
    assert "stored themes extended" in out, out

    after = _state(project_path)
    # Every stored placement stands; the new interview's passages joined themes or wait unplaced.
    old_members = {(p, t) for p, t, _, placed, _ in decided["members"] if placed}
    new_members = {(p, t) for p, t, _, placed, _ in after["members"] if placed}
    assert old_members <= new_members
    assert {t: v[:2] + v[3:4] for t, v in after["themes"].items() if t in decided["themes"]} == \
        {t: v[:2] + v[3:4] for t, v in decided["themes"].items()}
    assert after["themes"][renamed][0] == "Trusted community intermediaries"
    assert after["themes"][rejected][3] == "rejected"
    assert after["themes"][merged][3] == "merged"
    assert (moved, renamed) in new_members
    with Project.open(project_path, create=False) as project:
        fresh = [p.id for p in project.passages(codable_only=True) if project.source(p.source_id).name.endswith(HELD_BACK)]
        placed_new = [m for m in project.memberships(placed=True) if m.passage_id in set(fresh)]
        assert fresh and placed_new  # the interview's ideas are the demo's: some of it joins its themes
        run = project.latest_run()
        assert run["params"]["partition"] == "warm"
        assert run["stats"]["warm_start"]["new_passages"] == len(fresh)

    # A full partition on request still keeps what the reviewer decided.
    out = synth.ok("discover", project_path, "--recluster")
    assert "partitioned afresh (asked for (--recluster))" in out, out
    final = _state(project_path)
    assert final["themes"][renamed][0] == "Trusted community intermediaries"
    assert final["themes"][merged][3] == "merged" and final["themes"][rejected][3] == "rejected"
    assert (moved, renamed) in {(p, t) for p, t, _, placed, _ in final["members"] if placed}


def test_a_full_partition_when_much_is_new_or_the_settings_change():
    last = {"id": 3, "params": {"clusterer": "consensus-ward", "min_theme_size": None, "stance": True,
                                "codebook": False}, "stats": {"warm_start": {"since_full": 40}}}
    settings = dict(last["params"])
    assert warm_start_reason(last, settings, same_space=True, recluster=False, changed=60, n=1000) is None
    assert "since the last full partition" in warm_start_reason(last, settings, same_space=True, recluster=False,
                                                                changed=61, n=1000)
    assert WARM_SHARE == 0.10
    assert "min_theme_size" in warm_start_reason(last, {**settings, "min_theme_size": 5}, same_space=True,
                                                 recluster=False, changed=0, n=1000)
    assert "model" in warm_start_reason(last, settings, same_space=False, recluster=False, changed=0, n=1000)
    assert "--recluster" in warm_start_reason(last, settings, same_space=True, recluster=True, changed=0, n=1000)
    assert warm_start_reason(None, settings, same_space=True, recluster=False, changed=0, n=1000) == "first run"


def _passages(n: int) -> list[Passage]:
    return [Passage(id=i + 1, source_id=i + 1, start_char=0, end_char=1, text=str(i), text_sha256=str(i), speaker=None,
                    codable=True) for i in range(n)]


def test_new_passages_join_their_theme_and_a_recurring_new_idea_becomes_a_theme():
    rng = np.random.default_rng(0)
    dim = 32
    centres = rng.normal(size=(4, dim))
    old = np.vstack([centres[j] + 0.3 * rng.normal(size=(30, dim)) for j in range(3)])
    near = centres[0] + 0.1 * rng.normal(size=(2, dim))  # two more passages close to theme 0's idea
    idea = centres[3] + 0.2 * rng.normal(size=(4, dim))   # a new idea in four new sources
    X = np.vstack([old, near, idea]).astype(np.float32)
    passages = _passages(len(X))
    groups = np.array([p.source_id % 12 for p in passages[:90]] + [100, 101, 102, 103, 104, 105])
    themes = [StoredTheme(theme_id=10 + j, label=f"t{j}", definition="", top_terms=(), centroid=None, quotes=())
              for j in range(3)]
    stored = {passages[i].id: StoredMembership(10 + i // 30, 1.0, True) for i in range(90)}
    warm = warm_start(passages, X, groups, themes, stored, removed=0, since_before=0, base_run=1)
    labels = warm.clustering.labels
    assert list(labels[:90]) == [i // 30 for i in range(90)]  # stored places stand
    assert list(labels[90:92]) == [0, 0]
    assert warm.n_new_themes == 1 and set(labels[92:]) == {3}
    assert [m.status for m in warm.matching.matches] == ["kept", "kept", "kept", "new"]
    assert warm.since_full == 6 and warm.new_passages == 6

    one_source = groups.copy()
    one_source[92:] = 100  # the same idea from a single new source is not (yet) a theme
    warm = warm_start(passages, X, one_source, themes, stored, removed=0, since_before=0, base_run=1)
    assert warm.n_new_themes == 0 and (warm.clustering.labels[92:] == -1).all()
    assert (warm.clustering.nearest[92:] >= 0).all()  # unplaced, with a nearest theme recorded


@pytest.mark.parametrize("share", [0.05])
def test_stats_record_the_share_since_the_last_full_partition(share):
    from synth.incremental import stats_of

    X = np.eye(12, dtype=np.float32)[np.arange(40) % 3] + 0.01
    passages = _passages(40)
    themes = [StoredTheme(theme_id=1 + j, label="", definition="", top_terms=(), centroid=None, quotes=()) for j in range(3)]
    stored = {p.id: StoredMembership(1 + i % 3, 1.0, True) for i, p in enumerate(passages[:38])}
    warm = warm_start(passages, X, np.arange(40), themes, stored, removed=1, since_before=5, base_run=7)
    stats = stats_of(warm)
    assert stats["warm_start"] == {"base_run": 7, "since_full": 8, "new_passages": 2, "removed_passages": 1,
                                   "new_themes": 0}
