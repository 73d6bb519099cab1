"""Evidence profiles (GRADE-CERQual), appraisals, scope, reviewer confidence and saturation, on a
hand-built project whose every passage, speaker, category and vector is known (tests/export_fixture.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import file_digest
from export_fixture import MODEL_ID, SOURCES, build_review_project, sha
from synth.errors import NotFoundError, SynthError
from synth.evidence import EvidenceItem, mean_similarity, profile, profiles_for
from synth.review import actions, appraisal
from synth.saturation import guest_steps, saturation
from synth.store import Project


@pytest.fixture
def built(tmp_path):
    return build_review_project(tmp_path / "review.synth")


def _profiles(path):
    with Project.open(path, create=False) as project:
        return profiles_for(project, project.themes())


def _by_label(built, profiles, label):
    return profiles[built.theme_ids[label]]


def test_profile_numbers_of_a_hand_built_theme(built):
    p = _by_label(built, _profiles(built.path), "Language barriers")
    a = p.adequacy
    # interview_01 (P1), smith_2019 (literature), interview_02 (Staff)
    assert (a.passages, a.sources, a.participants) == (3, 3, 2)
    assert a.passages_by_kind == {"interview": 2, "literature": 1}
    assert a.sources_by_kind == {"interview": 2, "literature": 1}
    assert a.participants_by_kind == {"interview": 2}
    assert a.groups == {"area": {"Bradford": 2, "Leeds": 1},
                        "programme": {"Into Work": 2, "Work Programme": 1},
                        "role": {"(not recorded)": 1, "participant": 1, "staff": 1}}
    c = p.coherence
    assert (c.category, c.in_category, c.categorised, c.share_in_category, c.against) == ("barrier", 3, 3, 1.0, 0)
    assert 0.9 < c.similarity <= 1.0  # vectors are one centre plus small noise
    concerns = {comp.name: comp.concern for comp in p.components}
    assert concerns == {"methodological limitations": "minor", "coherence": "none", "adequacy": "moderate",
                        "relevance": "not assessed"}
    assert p.suggested == "moderate" and p.confidence == "moderate" and p.reviewer is None
    assert p.reasons[0] == "moderate: starts at high, 1 level down"
    assert "adequacy: moderate concerns, down 1 level" in p.reasons


def test_similarity_is_the_mean_cosine_to_the_centre():
    same = [np.array([1.0, 0.0]), np.array([2.0, 0.0])]
    assert mean_similarity(same) == pytest.approx(1.0)
    right_angle = [np.array([1.0, 0.0]), np.array([0.0, 1.0])]
    assert mean_similarity(right_angle) == pytest.approx(np.cos(np.pi / 4))
    assert mean_similarity(same[:1]) is None


def test_passages_of_the_opposite_side_cut_against_the_finding(built):
    survey_pid = built.passage_ids[("survey_r17", 0)]
    with Project.open(built.path, create=False) as project, project.transaction():
        project.set_passage_category(survey_pid, "barrier", {"barrier": 0.8, "enabler": 0.1, "practice": 0.05,
                                                             "context": 0.05}, [])
    p = _by_label(built, _profiles(built.path), "Outreach in community venues")
    c = p.coherence
    assert (c.in_category, c.categorised, c.against) == (2, 3, 1)
    assert [q.passage_id for q in c.counter_quotes] == [survey_pid]
    assert c.counter_quotes[0].citation.startswith("survey_r17 [0–")
    assert c.counter_quotes[0].text == SOURCES["survey_r17"][2][0][0]
    assert {comp.name: comp.concern for comp in p.components}["coherence"] == "serious"  # 1 of 3 against
    # A survey row is one participant; an interview's speaker another.
    assert p.adequacy.participants_by_kind == {"interview": 1, "survey": 1}


def test_appraisal_scope_and_reviewer_confidence_change_the_profile_and_are_audited(built):
    with Project.open(built.path, create=False) as project:
        appraisal.appraise(project, "smith_2019.md", "low", "no sampling frame", reviewer="ana")
        appraisal.set_scope(project, {"kind": ("interview",)}, reviewer="ana")
        p = profiles_for(project, [project.theme(built.theme_ids["Language barriers"])])[built.theme_ids["Language barriers"]]
        assert p.limitations.passages_by_quality == {"high": 0, "moderate": 0, "low": 1, "not appraised": 2}
        assert (p.relevance.in_scope, p.relevance.out_of_scope, p.relevance.share_in_scope) == (2, 1, pytest.approx(2 / 3))
        concerns = {comp.name: comp.concern for comp in p.components}
        assert concerns["methodological limitations"] == "moderate"  # a third of the passages from a low source
        assert concerns["relevance"] == "minor"
        assert p.suggested == "low"  # adequacy and limitations each one level down
        tid = built.theme_ids["Language barriers"]
        appraisal.set_confidence(project, tid, "moderate", "Consistent across two areas.", reviewer="ana")
        p = profiles_for(project, [project.theme(tid)])[tid]
        assert (p.confidence, p.suggested, p.reviewer["reason"]) == ("moderate", "low", "Consistent across two areas.")
        log = project.decisions()[-3:]
        assert [d.action for d in log] == ["appraise", "scope", "confidence"]
        assert log[0].after == {"appraisals": {"smith_2019.md": {**project.source_appraisals()["smith_2019.md"]}}}
        assert "source smith_2019.md appraised: not appraised → low (no sampling frame)" == actions.describe(log[0])
        # Undo walks back: confidence, then scope, then the appraisal.
        actions.undo(project, reviewer="ana")
        assert project.theme_confidences() == {}
        actions.undo(project, reviewer="ana")
        assert project.review_scope() == {}
        actions.undo(project, reviewer="ana")
        assert project.source_appraisals() == {}


def test_source_is_found_by_id_name_or_file_name(built):
    with Project.open(built.path, create=False) as project:
        source = project.current_source_by_name("smith_2019.md")
        assert appraisal.find_source(project, str(source.id)).name == "smith_2019.md"
        assert appraisal.find_source(project, "smith_2019.md").id == source.id
        with pytest.raises(NotFoundError, match="smith_2019.md"):
            appraisal.find_source(project, "smith_2091.md")


@pytest.mark.parametrize("args, expected", [
    (("source", "appraise", "{p}", "nobody.txt", "--quality", "high"), "source 'nobody.txt' is not in"),
    (("source", "appraise", "{p}", "smith_2019.md", "--quality", "great"), "great"),
    (("scope", "{p}", "--set", "region=North"), "field 'region' is not recorded"),
    (("scope", "{p}", "--set", "area=Leds"), "area = 'Leds' does not occur"),
    (("scope", "{p}", "--set", "area"), "is not FIELD=VALUE"),
    (("theme", "confidence", "{p}", "999", "--set", "low", "--reason", "x"), "theme 999 is not in"),
    (("theme", "confidence", "{p}", "1", "--set", "low", "--reason", "  "), "reason is empty"),
    (("saturation", "{p}", "--by", "region"), "--by 'region': no source records that field"),
])
def test_bad_input_is_one_line_and_changes_nothing(built, synth, args, expected):
    before = file_digest(built.path)
    result = synth(*[a.format(p=built.path) if isinstance(a, str) else a for a in args])
    assert result.exit_code != 0
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1 or "Usage:" in result.output
    assert file_digest(built.path) == before


def test_empty_project_is_one_line_error(tmp_path, synth):
    path = tmp_path / "empty.synth"
    Project.open(path).close()
    before = file_digest(path)
    for args in (("saturation", path), ("report", path, "-o", tmp_path / "r.html"),
                 ("source", "appraise", path, "x.txt", "--quality", "low"), ("scope", path, "--set", "area=Leeds")):
        result = synth(*args)
        assert result.exit_code == 1, args
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert file_digest(path) == before
    assert not (tmp_path / "r.html").exists()


def test_cli_scope_appraise_confidence_and_themes_json(built, synth):
    p = built.path
    assert "review scope: (none stated)" in synth.ok("scope", p, "--show")
    assert "review scope: kind = interview, survey; role = participant, staff" in synth.ok(
        "scope", p, "--kind", "interview", "--kind", "survey", "--set", "role=participant,staff", "--reviewer", "ana")
    assert "appraised source" in synth.ok("source", "appraise", p, "interview_02.txt", "--quality", "high",
                                          "--note", "Clear sampling", "--reviewer", "ana")
    tid = built.theme_ids["Trusted community mentors"]
    assert "to high" in synth.ok("theme", "confidence", p, tid, "--set", "high", "--reason", "Two kinds agree.")
    data = {d["id"]: d for d in json.loads(synth.ok("themes", p, "--json"))}
    ev = data[tid]["evidence"]
    assert (ev["confidence"], ev["confidence_by"], ev["reviewer"]["reason"]) == ("high", "reviewer", "Two kinds agree.")
    assert ev["adequacy"]["passages"] == data[tid]["size"] == 2
    assert ev["relevance"]["scope"] == {"kind": ["interview", "survey"], "role": ["participant", "staff"]}
    lb = data[built.theme_ids["Language barriers"]]["evidence"]
    assert lb["limitations"]["passages_by_quality"]["high"] == 1  # interview_02
    text = synth.ok("themes", p)
    assert "CERQual" in text and "high (reviewer)" in text
    assert "cleared the review scope" in synth.ok("scope", p, "--clear")
    log = synth.ok("log", p)
    assert "scope" in log and "appraise" in log and "confidence" in log


def test_profile_is_a_pure_function_of_records():
    items = [EvidenceItem(i, f"s{i % 2}", "interview", {"area": "A"}, "R", 0, 5, "hello", "enabler") for i in range(4)]
    p = profile(1, "enabler", items, fields=("area",))
    assert (p.adequacy.sources, p.adequacy.participants, p.coherence.share_in_category) == (2, 2, 1.0)
    assert p.adequacy.groups == {"area": {"A": 4}}
    assert p.coherence.similarity is None  # no vectors given


def test_guest_steps_base_run_threshold():
    steps, reached = guest_steps([3, 2, 1, 1, 0, 0, 0], base=4, run=2, threshold=0.05)
    assert reached == 4 and (steps[0].base_themes, steps[0].new_in_run) == (7, 0)
    steps, reached = guest_steps([5, 0, 0, 0, 1, 0, 0, 0], base=4, run=2, threshold=0.05)
    assert [(s.base, s.new_in_run) for s in steps[:2]] == [(4, 1), (5, 0)] and reached == 5
    assert steps[0].ratio == pytest.approx(0.2)
    _, reached = guest_steps([2, 1, 1, 1, 1, 1], base=4, run=2, threshold=0.05)
    assert reached is None


def test_saturation_on_the_hand_built_project(built):
    with Project.open(built.path, create=False) as project:
        result = saturation(project, by="all", base=1, run=1, runs=50, seed=3)
        again = saturation(project, by="all", base=1, run=1, runs=50, seed=3)
    (curve,) = result.curves
    # ingest order: interview_01 (language, mentors), smith (+outreach), survey, interview_02 (+labour market)
    assert curve.sources == ("interview_01.txt", "smith_2019.md", "survey_r17", "interview_02.txt")
    assert curve.new_per_source == (2, 1, 0, 1) and curve.cumulative == (2, 3, 3, 4) and curve.themes == 4
    assert curve.reached_at == 2  # 3 themes after 2 sources; the 3rd source adds none
    assert result == again  # seeded
    assert curve.mean_cumulative[-1] == pytest.approx(4.0)
    with Project.open(built.path, create=False) as project:
        by_kind = saturation(project, by="kind", runs=10)
    assert {c.group: c.verdict for c in by_kind.curves}["interview"] == (
        "not reached: cannot be judged with 2 sources (a base of 4 and a run of 2 need at least 6)")
    assert curve.found_later == 1  # interview_02's theme came after the point (2) and its run (source 3)
    assert curve.verdict == "reached at 2 of 4 sources in ingest order, but 1 more theme was first found in later sources"


def test_vectors_shape_mismatch_gives_no_similarity(built):
    with Project.open(built.path, create=False) as project, project.transaction():
        pid = built.passage_ids[("interview_01.txt", 1)]
        project.db.execute("DELETE FROM embeddings WHERE text_sha256 = ?", (sha(SOURCES["interview_01.txt"][2][1][0]),))
        project.store_embeddings(MODEL_ID, {sha(SOURCES["interview_01.txt"][2][1][0]): np.ones(4, dtype=np.float32)})
        assert pid
    p = _by_label(built, _profiles(built.path), "Language barriers")
    assert p.coherence.similarity is None
