"""Re-running discover after adding a source keeps theme ids and the names reviewers gave them."""

from __future__ import annotations

import csv
import shutil

from conftest import DEMO
from synth.store import Project

HELD_BACK = "riverside-employer.txt"


def _demo_without_one_interview(tmp_path):
    corpus = tmp_path / "demo"
    shutil.copytree(DEMO, corpus)
    held = tmp_path / HELD_BACK
    shutil.move(corpus / "interviews" / HELD_BACK, held)
    manifest = corpus / "interviews" / "sources.csv"
    full = manifest.read_text(encoding="utf-8")
    rows = list(csv.reader(full.splitlines()))
    with manifest.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(r for r in rows if r and r[0] != HELD_BACK)
    return corpus, held, full


def test_adding_a_source_keeps_ids_and_human_names(tmp_path, synth):
    corpus, held, full_manifest = _demo_without_one_interview(tmp_path)
    project_path = tmp_path / "review.synth"
    synth.ok("ingest", project_path, corpus)
    synth.ok("discover", project_path, "--seed", "42")
    with Project.open(project_path, create=False) as project:
        before = {t.id: t for t in project.themes()}
        renamed = max(before.values(), key=lambda t: t.size)
        with project.transaction():
            project.update_theme(renamed.id, label="Trusted community intermediaries", label_by_human=True)
            project.log_decision(reviewer="test", action="rename", theme_id=renamed.id,
                                 before={"label": renamed.label}, after={"label": "Trusted community intermediaries"})

    shutil.move(held, corpus / "interviews" / HELD_BACK)
    (corpus / "interviews" / "sources.csv").write_text(full_manifest, encoding="utf-8")
    added = synth.ok("ingest", project_path, corpus)
    assert HELD_BACK in added and "unchanged" in added
    rerun = synth.ok("discover", project_path, "--seed", "42")
    assert "computed" in rerun and "kept" in rerun

    with Project.open(project_path, create=False) as project:
        after = {t.id: t for t in project.themes(statuses=("suggested", "accepted", "retired"))}
        assert after[renamed.id].label == "Trusted community intermediaries"
        assert after[renamed.id].status == "suggested"
        live = {t.id for t in project.themes()}
        kept = [tid for tid in before if tid in live]
        # One new interview among 19 sources should leave most themes where they were.
        assert len(kept) >= 0.7 * len(before), (len(kept), len(before))
        assert [d.action for d in project.decisions()] == ["rename"]
