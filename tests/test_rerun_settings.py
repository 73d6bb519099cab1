"""Re-running discover with another setting replaces the suggestions it owns and leaves none empty.

A setting that changes the partition (a larger --min-theme-size, another --clusterer, --no-stance)
partitions afresh; an earlier suggestion whose passages all went into another theme used to stay
listed with size 0 (in `synth themes`, the app, exports and the report). A theme a reviewer touched
stays, empty or not (issue 13 item 8).
"""

from __future__ import annotations

import json

import pytest

from conftest import copy_project
from synth.store import Project


def _themes(synth, path) -> dict[int, dict]:
    listed = json.loads(synth.ok("themes", path, "--json"))
    return {t["id"]: t for t in (listed if isinstance(listed, list) else listed["themes"])}


@pytest.mark.slow
def test_a_larger_min_theme_size_retires_the_emptied_suggestions_and_keeps_the_reviewers(
        tmp_path, synth, discovered_demo):
    path = copy_project(discovered_demo, tmp_path / "demo.synth")
    before = _themes(synth, path)
    assert len(before) >= 10, before
    smallest = sorted(before, key=lambda t: (before[t]["size"], t))
    accepted, renamed, merged, target = smallest[:4]
    synth.ok("theme", "accept", path, accepted)
    synth.ok("theme", "rename", path, renamed, "Reviewer's own name")
    synth.ok("theme", "merge", path, target, merged)
    kept_members = before[accepted]["size"]

    out = synth.ok("discover", path, "--min-theme-size", "60")

    after = _themes(synth, path)
    touched = {accepted, renamed, target}
    empty = sorted(t for t, row in after.items() if row["size"] == 0 and t not in touched)
    assert not empty, f"empty suggested themes left behind: {empty}\n{out}"
    assert "retired (left empty)" in out, out
    assert touched <= set(after), (touched, sorted(after))
    assert after[accepted]["status"] == "accepted" and after[accepted]["size"] == kept_members
    assert after[renamed]["label"] == "Reviewer's own name"
    assert len(after) < len(before)  # most of the small suggestions were absorbed by the large themes
    with Project.open(path, create=False) as project:
        assert project.theme(merged).status == "merged"  # the reviewer's merge stays; not re-created
        retired = {t.id for t in project.themes(statuses=("retired",))}
        assert retired and not retired & touched
        assert all(project.theme(t).size == 0 for t in retired)
        # Nothing the reviewer decided was rewritten by the run.
        assert [d.action for d in project.decisions()] == ["accept", "rename", "merge"]


@pytest.mark.slow
@pytest.mark.parametrize("setting", [("--clusterer", "consensus-leiden"), ("--no-stance",)])
def test_another_partitioning_setting_leaves_no_empty_suggestion(tmp_path, synth, discovered_demo, setting):
    path = copy_project(discovered_demo, tmp_path / "demo.synth")
    synth.ok("discover", path, *setting)
    after = _themes(synth, path)
    assert after and not [t for t, row in after.items() if row["size"] == 0], after
