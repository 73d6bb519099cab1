"""Framework matrix, triangulation and transferability over hand-made evidence."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from synth.errors import SynthError
from synth.synthesis import Evidence, framework_matrix, transferability, triangulate


def ev(pid: int, source: str, kind: str, centrality: float = 0.5, start: int = 0, text: str | None = None,
       **metadata: str) -> Evidence:
    text = text or f"passage {pid}"
    return Evidence(pid, source, kind, metadata, start, start + len(text), text, centrality)


# ---------------------------------------------------------------------------- triangulation


def test_literature_and_interviews_corroborate():
    t = triangulate([ev(1, "Smith 2019", "literature"), ev(2, "Smith 2019", "literature"),
                     ev(3, "Interview 04", "interview"), ev(4, "Interview 07", "interview")])
    assert t.label == "corroborated"
    assert dict(t.passages) == {"literature": 2, "interview": 2, "survey": 0}
    assert dict(t.sources) == {"literature": 1, "interview": 2, "survey": 0}
    assert t.explanation == ("corroborated: 2 passages from 1 literature source and fieldwork "
                             "(2 passages from 2 interview sources)")


def test_a_survey_alone_corroborates_the_literature_too():
    assert triangulate([ev(1, "Review", "literature"), ev(2, "Review", "literature"),
                        ev(3, "Survey 2023", "survey"), ev(4, "Survey 2023#2", "survey")]).label == "corroborated"


def test_one_passage_a_side_does_not_corroborate():
    # Issue 13: "corroborated" was given on the strength of one literature passage.
    t = triangulate([ev(1, "Review", "literature"), *(ev(i, f"Interview {i}", "interview") for i in range(2, 7))])
    assert t.label == "fieldwork only"
    assert "the literature has only 1 passage, too few to corroborate (2 needed on each side)" in t.explanation
    t = triangulate([ev(1, "Review", "literature"), ev(2, "Review", "literature"), ev(3, "Survey 2023", "survey")])
    assert t.label == "literature only" and "fieldwork has only 1 passage" in t.explanation
    assert triangulate([ev(1, "Review", "literature"), ev(2, "Survey 2023", "survey")]).label == "thin evidence"


def test_a_sliver_of_the_other_side_does_not_corroborate():
    """The trial of a second review: 3 stray literature lines among 236 survey comments on friendly staff
    made the theme "corroborated". A side must hold a tenth of the theme, or five passages."""
    survey = [ev(i, f"Survey#{i}", "survey") for i in range(10, 246)]
    strays = [ev(i, f"Report {i}", "literature") for i in range(1, 4)]
    t = triangulate([*strays, *survey])
    assert t.label == "fieldwork only"
    assert "the literature has only 3 passages of 239 (1%), too few to corroborate" in t.explanation
    assert triangulate([*strays, *survey[:27]]).label == "corroborated"  # 3 of 30: a tenth
    five = [ev(i, f"Report {i}", "literature") for i in range(1, 6)]
    assert triangulate([*five, *survey]).label == "corroborated"  # five passages stand on their own
    t = triangulate([ev(1, "Interview 1", "interview"), ev(2, "Survey#1", "survey"),
                     *(ev(i, "Report", "literature") for i in range(3, 56))])
    assert t.label == "literature only" and "fieldwork has only 2 passages of 55 (4%)" in t.explanation


def test_structure_is_not_counted_towards_corroboration():
    """Two literature passages of which one is furniture ("Updates to this page") are one passage."""
    furniture = Evidence(2, "Review", "literature", {}, 0, 20, "Updates to this page", 0.9, substantive=False)
    evidence = [ev(1, "Review", "literature"), furniture, ev(3, "Interview 1", "interview"),
                ev(4, "Interview 2", "interview")]
    t = triangulate(evidence)
    assert t.label == "fieldwork only"
    assert t.passages["literature"] == 1 and t.structure == 1
    assert t.explanation.endswith("1 heading or furniture passage not counted")
    included = Evidence(2, "Review", "literature", {}, 0, 20, "A statement a reviewer included", 0.9)
    assert triangulate([*evidence[:1], included, *evidence[2:]]).label == "corroborated"
    only_structure = triangulate([furniture])
    assert only_structure.label == "no evidence" and only_structure.structure == 1


def test_interviews_and_surveys_without_literature_are_new_evidence():
    t = triangulate([ev(1, "Interview 01", "interview"), ev(2, "Survey 2023", "survey")])
    assert t.label == "fieldwork only"
    assert t.fieldwork_passages == 2
    assert t.explanation.startswith("fieldwork only (new evidence): 1 passage from 1 interview source and "
                                    "1 passage from 1 survey source; not found in the literature")


def test_literature_alone_is_not_seen_in_fieldwork_and_a_single_source_is_flagged():
    t = triangulate([ev(1, "Jones 2020", "literature"), ev(2, "Jones 2020", "literature")])
    assert t.label == "literature only"
    assert "not seen in fieldwork" in t.explanation
    assert t.explanation.endswith("a single source, so treat it with caution")


def test_a_passage_listed_twice_counts_once_and_unknown_kinds_are_refused():
    t = triangulate([ev(1, "Interview 01", "interview"), ev(1, "Interview 01", "interview")])
    assert t.passages["interview"] == 1
    assert triangulate([]).label == "no evidence"
    with pytest.raises(SynthError, match="passage 9 .*'blog' is not one of literature, interview, survey"):
        triangulate([ev(9, "Blog", "blog")])


# ---------------------------------------------------------------------------- transferability


def test_a_practice_seen_in_one_place_only_says_so():
    t = transferability([ev(1, "Interview 01", "interview", programme="Into Work", area="Leeds"),
                         ev(2, "Interview 02", "interview", programme="Into Work", area="Leeds")])
    assert t.score == 0.0
    assert t.contexts == ("programme=Into Work · area=Leeds",)
    assert t.explanation.startswith("seen in one place only: programme=Into Work · area=Leeds "
                                    "(2 passages from 2 sources)")


def test_a_practice_seen_in_three_contexts_scores_higher_and_names_them():
    t = transferability([ev(1, "Interview 01", "interview", programme="Into Work", area="Leeds"),
                         ev(2, "Interview 09", "interview", programme="Into Work", area="Bradford"),
                         ev(3, "Survey 2023", "survey", programme="Step Up", area="Leeds"),
                         ev(4, "Survey 2023", "survey", programme="Step Up", area="Leeds")])
    assert t.score == pytest.approx(2 / 3, abs=1e-4)
    assert set(t.contexts) == {"programme=Into Work · area=Leeds", "programme=Into Work · area=Bradford",
                               "programme=Step Up · area=Leeds"}
    assert t.passages_per_context["programme=Step Up · area=Leeds"] == 2
    assert t.sources == 3
    assert t.explanation.startswith("seen in 3 contexts across 3 sources")


def test_partly_recorded_context_joins_the_fuller_one_it_agrees_with():
    # A passage with only the programme recorded is not evidence of a second place.
    t = transferability([ev(1, "Interview 01", "interview", programme="Into Work", area="Leeds"),
                         ev(2, "Interview 02", "interview", programme="Into Work")])
    assert t.score == 0.0 and t.contexts == ("programme=Into Work · area=Leeds",)


def test_sources_stand_in_when_no_context_is_recorded():
    t = transferability([ev(1, "Smith 2019", "literature"), ev(2, "Khan 2021", "literature")],
                        fields=("programme", "area"))
    assert t.score == 0.5
    assert set(t.contexts) == {"source=Smith 2019", "source=Khan 2021"}
    assert "2 passages had no programme or area recorded" in t.explanation
    assert transferability([]).score == 0.0


# ---------------------------------------------------------------------------- framework matrix


THEMES = {
    7: ("Trusted adviser", [
        ev(1, "Interview 01", "interview", 0.40, 10, "She listened.", area="Leeds"),
        ev(2, "Interview 01", "interview", 0.90, 50, "My adviser spoke Urdu, that changed everything.", area="Leeds"),
        ev(3, "Smith 2019", "literature", 0.70, 200, "Continuity of adviser improved retention."),
    ]),
    8: ("Childcare costs", [
        ev(4, "Interview 02", "interview", 0.60, 5, "Nursery fees ate my wages.", area="Bradford"),
        ev(5, "Interview 02", "interview", 0.60, 90, "I could not afford childcare.", area="Bradford"),
    ]),
}


def test_matrix_by_source_counts_passages_and_quotes_the_most_central():
    rows = framework_matrix(THEMES)
    assert [r.theme_id for r in rows] == [7, 8]
    assert [list(r.cells) for r in rows] == [["Interview 01", "Interview 02", "Smith 2019"]] * 2
    adviser = rows[0].cells["Interview 01"]
    assert (adviser.count, adviser.sources, adviser.passage_id) == (2, 1, 2)
    assert adviser.quote == "My adviser spoke Urdu, that changed everything."
    assert adviser.citation == "Interview 01 [50–97]"
    assert rows[0].cells["Interview 02"].count == 0 and rows[0].cells["Interview 02"].quote is None
    assert rows[0].total == 3 and rows[1].total == 2


def test_matrix_ties_go_to_the_lower_passage_id():
    cell = framework_matrix(THEMES)[1].cells["Interview 02"]
    assert cell.passage_id == 4 and cell.citation == "Interview 02 [5–31]"


def test_matrix_by_a_metadata_field_puts_unrecorded_last():
    rows = framework_matrix(THEMES, by="area")
    assert list(rows[0].cells) == ["Bradford", "Leeds", "(not recorded)"]
    assert rows[0].cells["Leeds"].count == 2
    assert rows[0].cells["(not recorded)"].quote == "Continuity of adviser improved retention."
    assert rows[1].cells["Bradford"].count == 2
    by_kind = framework_matrix(THEMES, by="kind")
    assert {k: c.count for k, c in by_kind[0].cells.items()} == {"interview": 2, "literature": 1}


def test_results_serialise_to_plain_json():
    evidence = THEMES[7][1]
    out = json.loads(json.dumps({"tri": asdict(triangulate(evidence)), "transfer": asdict(transferability(evidence)),
                                 "rows": [asdict(r) for r in framework_matrix(THEMES)]}))
    assert out["tri"]["label"] == "fieldwork only"  # one literature passage does not corroborate
    assert out["rows"][0]["cells"]["Interview 01"]["citation"] == "Interview 01 [50–97]"
