"""A warm start offers the passages the machine left unplaced before to the theme now near them, by
the near-placement rule, and never a passage a reviewer took out of a theme (issue 13, item 3)."""

from __future__ import annotations

import shutil

import numpy as np

from synth.incremental import StoredMembership, StoredTheme, warm_start
from synth.records import Passage
from synth.review import actions
from synth.store import Project
from synth.vectors import unit
from test_rerun import HELD_BACK, _demo_without_one_interview


def _passages(n: int) -> list[Passage]:
    return [Passage(id=i + 1, source_id=i + 1, start_char=0, end_char=1, text=str(i), text_sha256=str(i), speaker=None,
                    codable=True) for i in range(n)]


def _three_themes(rng):
    dim = 32
    centres = rng.normal(size=(3, dim))
    members = np.vstack([centres[j] + 0.3 * rng.normal(size=(30, dim)) for j in range(3)])
    return centres, members


def test_earlier_unplaced_passages_near_a_theme_are_placed_when_something_is_new():
    rng = np.random.default_rng(1)
    centres, members = _three_themes(rng)
    core = centres[0] + 0.05 * rng.normal(size=(3, 32))  # at theme 0's centre: nearer than its members
    far = -centres[0] + 0.05 * rng.normal(size=(1, 32))  # opposite theme 0: never near it
    fresh = centres[1] + 0.05 * rng.normal(size=(1, 32))  # one new passage
    X = np.vstack([members, core, far, fresh]).astype(np.float32)
    passages = _passages(len(X))
    themes = [StoredTheme(theme_id=10 + j, label=f"t{j}", definition="", top_terms=(), centroid=None, quotes=(),
                          live=j != 2) for j in range(3)]
    stored = {passages[i].id: StoredMembership(10 + i // 30, 1.0, True) for i in range(90)}
    stored[passages[90].id] = StoredMembership(10, 0.3, False)                 # the machine left it unplaced
    stored[passages[91].id] = StoredMembership(10, 0.3, False, by_human=True)  # a reviewer took it out
    stored[passages[92].id] = StoredMembership(12, 0.3, False)                 # near a rejected theme only
    stored[passages[93].id] = StoredMembership(10, 0.3, False)                 # far from its theme
    X[92] = unit(centres[2] + 0.05 * rng.normal(size=32))
    groups = np.arange(len(X))

    warm = warm_start(passages, X, groups, themes, stored, removed=0, since_before=0, base_run=1)
    labels = warm.clustering.labels
    assert list(labels[:90]) == [i // 30 for i in range(90)]  # stored places stand
    assert labels[90] == 0 and warm.clustering.probability[90] >= 0.5
    assert labels[91] == -1 and labels[92] == -1 and labels[93] == -1
    assert labels[94] == 1  # the new passage joins its theme
    assert warm.clustering.stats["earlier_unplaced_placed"] == 1

    # With nothing new, nothing is offered: a re-run with nothing new changes nothing.
    stored[passages[94].id] = StoredMembership(11, 1.0, True)
    again = warm_start(passages, X, groups, themes, stored, removed=0, since_before=0, base_run=1)
    assert again.clustering.labels[90] == -1 and again.clustering.stats["earlier_unplaced_placed"] == 0


def _central_members(project: Project, theme_id: int, count: int) -> list[int]:
    """The theme's placed machine members closest to its centre (far above its placement floor)."""
    members = [m.passage_id for m in project.memberships(theme_id=theme_id, placed=True) if not m.by_human]
    hashes = [project.passage(pid).text_sha256 for pid in members]
    cached = project.cached_embeddings(project.latest_run()["model_id"], hashes)
    vectors = unit(np.stack([cached[h] for h in hashes]).astype(np.float64))
    centre = unit(vectors.sum(axis=0))
    order = np.argsort(-(vectors @ centre))
    return [members[i] for i in order[:count]]


def test_a_warm_rerun_places_an_earlier_unplaced_passage_and_keeps_a_reviewers_removal(tmp_path, synth):
    corpus, held, full_manifest = _demo_without_one_interview(tmp_path)
    project_path = tmp_path / "review.synth"
    synth.ok("ingest", project_path, corpus)
    synth.ok("discover", project_path)
    with Project.open(project_path, create=False) as project:
        theme = max(project.themes(), key=lambda t: (t.size, -t.id))
        machine_left, reviewer_took = _central_members(project, theme.id, 2)
        run = project.latest_run()["id"]
        # As if the last full partition had left this central passage unplaced (its refits split).
        with project.transaction():
            project.set_membership(machine_left, theme.id, probability=0.3, placed=False, by_human=False, run_id=run)
        actions.remove(project, [reviewer_took], reviewer="alice")

    shutil.move(held, corpus / "interviews" / HELD_BACK)
    (corpus / "interviews" / "sources.csv").write_text(full_manifest, encoding="utf-8")
    synth.ok("ingest", project_path, corpus)
    out = synth.ok("discover", project_path)
    assert "stored themes extended" in out, out

    with Project.open(project_path, create=False) as project:
        placed = project.membership(machine_left)
        assert placed.placed and placed.theme_id == theme.id and not placed.by_human
        assert placed.probability >= 0.5
        kept = project.membership(reviewer_took)
        assert not kept.placed and kept.by_human and kept.theme_id == theme.id
        assert project.latest_run()["stats"]["earlier_unplaced_placed"] >= 1
