"""Reviewer decisions survive re-discovery (issue 13 item 8; issue 12 item 10)."""

from __future__ import annotations

from conftest import DEMO
from synth.store import Project


def test_discover_does_not_recreate_a_theme_the_reviewer_merged_away(tmp_path, synth):
    project_path = tmp_path / "review.synth"
    synth.ok("ingest", project_path, DEMO)
    synth.ok("discover", project_path, "--seed", "42")
    with Project.open(project_path, create=False) as project:
        themes = sorted(project.themes(), key=lambda t: (t.size, t.id))
    target, other = themes[0], themes[1]  # the clustering keeps these two apart: it will find both again
    synth.ok("theme", "merge", project_path, str(target.id), str(other.id))

    rerun = synth.ok("discover", project_path, "--seed", "42")
    assert "new:" not in rerun, rerun
    with Project.open(project_path, create=False) as project:
        live = project.themes()
        assert all(t.size > 0 for t in live), [(t.id, t.label, t.size) for t in live]
        assert len(live) == len(themes) - 1
        assert project.theme(other.id).status == "merged"
        assert project.theme(target.id).size >= target.size + other.size
