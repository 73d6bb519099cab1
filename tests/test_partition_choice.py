"""`synth discover --partition auto|merged|sections` (synth/partition_choice.py, synth/merge_near.py):
auto merges near-duplicate themes on a project of short answers and keeps the section-aware partition
where long literature documents are present (the demo); the choice is recorded and a warm start does
not mix partitions. Real project files, the real bundled model."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from conftest import DEMO, Synth, copy_project
from synth.cluster import ClusterParams, cluster_passages
from synth.merge_near import NearMerge
from synth.partition_choice import choose_partition
from synth.records import Passage
from synth.store import Project

COMMUNITY_LANGUAGES = ("We try to send work coaches who speak community languages",
                       "Just that having work coaches who speak the language",
                       "The work coach at the mosque centre spoke Urdu")


def _write_table(folder: Path, rows: list[str], name: str = "comments.csv") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["comment"])
        writer.writerows([r] for r in rows)


@pytest.fixture(scope="module")
def short_answers(tmp_path_factory) -> tuple[Path, list[str]]:
    """A table of short answers, one row each: the demo's interview and survey passages (no report),
    ingested and discovered with the defaults. Returns the project and the rows."""
    root = tmp_path_factory.mktemp("short")
    fieldwork = root / "fieldwork"
    for part in ("interviews", "survey"):
        (fieldwork / part).mkdir(parents=True)
        for file in (DEMO / part).iterdir():
            (fieldwork / part / file.name).write_bytes(file.read_bytes())
    synth = Synth()
    synth.ok("ingest", root / "fieldwork.synth", fieldwork)
    with Project.open(root / "fieldwork.synth", create=False) as project:
        rows = [p.text for p in project.passages(codable_only=True)]
    _write_table(root / "table", rows)
    path = root / "table.synth"
    synth.ok("ingest", path, root / "table")
    out = synth.ok("discover", path)
    assert "partition: merged (short answers: no interview, no literature source of 6 or more passages)" in out, out
    return path, rows


def test_auto_merges_a_table_of_short_answers(short_answers) -> None:
    path, rows = short_answers
    with Project.open(path, create=False) as project:
        run = project.latest_run()
        kinds = set(project.source_kinds().values())
    assert kinds == {"survey"} and len(rows) > 100
    assert run["params"]["partition_asked"] == "auto" and run["params"]["merged_partition"] is True
    assert run["params"]["embedder"] in ("onnx", "onnx-int8", "pytorch", "static")  # the route, not the partition
    # Fitted finer, then merged: the stats say from how many fine themes.
    assert run["stats"]["merged_from"] > run["stats"]["n_themes_requested"], run["stats"]


def test_auto_keeps_the_section_aware_partition_on_the_demo(tmp_path, synth) -> None:
    path = tmp_path / "demo.synth"
    synth.ok("ingest", path, DEMO)
    with Project.open(path, create=False) as project:
        passages = project.passages(codable_only=True)
        choice = choose_partition("auto", passages, project.source_kinds())
    assert not choice.merged and choice.name == "sections"
    # The two long reports (62 and 47 codable passages) and the 20-passage announcement; not the interviews.
    assert choice.reason.startswith("3 literature sources of at least 8 passages"), choice.reason


def _passages(per_source: dict[int, int]) -> list[Passage]:
    out = []
    for source, count in per_source.items():
        for i in range(count):
            out.append(Passage(len(out) + 1, source, 0, 1, "x", None, True, f"{source}-{i}"))
    return out


def test_the_rule_merges_short_answers_only_and_the_clusterer_must_be_ward() -> None:
    from synth.errors import SynthError

    # 100 passages: minimum theme size 5. A report of 4 passages is short; one of 5 is long.
    short = _passages({1: 4, **{s: 1 for s in range(2, 98)}})
    long = _passages({1: 5, **{s: 1 for s in range(2, 97)}})
    kinds = {1: "literature", **{s: "survey" for s in range(2, 98)}}
    assert len(short) == len(long) == 100
    assert choose_partition("auto", short, kinds).merged
    assert not choose_partition("auto", long, kinds).merged
    # An interview transcript, short or long, keeps the partition as fitted (a trade there, not a gain).
    assert not choose_partition("auto", short, {**kinds, 1: "interview"}).merged
    assert "1 interview transcript:" in choose_partition("auto", short, {**kinds, 1: "interview"}).reason
    # --min-theme-size moves the line with it.
    assert choose_partition("auto", long, kinds, min_theme_size=6).merged
    assert choose_partition("merged", long, kinds).merged
    assert not choose_partition("sections", short, kinds).merged
    assert not choose_partition("auto", short, kinds, clusterer_merges=False).merged
    with pytest.raises(SynthError, match="consensus-ward"):
        choose_partition("merged", short, kinds, clusterer_merges=False)


def test_the_cli_option_chooses_and_refuses(tmp_path, synth, short_answers) -> None:
    path = copy_project(short_answers[0], tmp_path / "table.synth")
    out = synth.ok("discover", path, "--partition", "sections")
    assert "partition: sections (asked for (--partition sections))" in out, out
    with Project.open(path, create=False) as project:
        run = project.latest_run()
    assert run["params"]["partition_asked"] == "sections" and "merged_partition" not in run["params"]
    assert "merged_from" not in run["stats"]
    refused = synth("discover", path, "--partition", "merged", "--clusterer", "consensus-leiden")
    assert refused.exit_code != 0 and "--partition merged is made for the consensus-ward clusterer" in refused.output
    bad = synth("discover", path, "--partition", "finer")
    assert bad.exit_code == 2 and "'finer' is not one of 'auto', 'merged', 'sections'" in bad.output


def test_a_warm_start_keeps_its_partition_and_a_changed_option_repartitions(tmp_path, synth, short_answers) -> None:
    path = copy_project(short_answers[0], tmp_path / "table.synth")
    folder = tmp_path / "more"
    _write_table(folder, ["The work coach found me a course near my house.", "Nobody explained the sanctions to me."],
                 "more.csv")
    synth.ok("ingest", path, folder)
    out = synth.ok("discover", path)  # 2 new rows of 139: the stored merged themes are extended
    assert "stored themes extended" in out and "partition: merged" in out, out
    out = synth.ok("discover", path, "--partition", "sections")
    assert "partitioned afresh (other settings than the last run (merged_partition))" in out, out
    out = synth.ok("discover", path)  # back to auto (merged): the last run was sections, so afresh again
    assert "partitioned afresh (other settings than the last run (merged_partition))" in out, out


def test_the_merged_partition_keeps_a_recurring_idea_gathered_before_the_merge(discovered_demo) -> None:
    """On the demo's real vectors, at x1 and d0.3 the pooled votes place the community-language
    passages (3 interviews) inside a larger theme; gathered from the unmerged partition first, they
    stay a theme of their own."""
    with Project.open(discovered_demo, create=False) as project:
        passages = project.passages(codable_only=True)
        cached = project.cached_embeddings(project.latest_run()["model_id"], [p.text_sha256 for p in passages])
    vectors = np.stack([cached[p.text_sha256] for p in passages])
    groups = np.array([p.source_id for p in passages])
    hits = np.array([p.text.startswith(COMMUNITY_LANGUAGES) for p in passages])
    assert hits.sum() == 3
    # Without the share bound: with it (a quarter of 273 passages) the union that swallows the idea is cut,
    # the passages are left unplaced, and gathering them is discover's own step after carving.
    found = cluster_passages(vectors, group_ids=groups, params=ClusterParams(
        merge=NearMerge(factor=1.0, distance=0.3, place_pooled=False, max_share=None)))
    assert found.stats["gathered_before_merge"] >= 1
    theme = np.bincount(found.labels[hits & (found.labels >= 0)]).argmax()
    members = np.flatnonzero(found.labels == theme)
    ideas = members[hits[members]]
    assert len(ideas) >= 2 and len(set(groups[ideas].tolist())) >= 2
    assert len(ideas) >= 0.5 * len(members), [passages[i].text[:60] for i in members]
