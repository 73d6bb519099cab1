"""A transcript's speaker turn as context (synth/turn_context.py): which passages are a passage's turn
neighbours, read from a real ingest, and how far its vector moves towards theirs."""

from __future__ import annotations

import numpy as np

from synth.ingest import ingest
from synth.store import Project
from synth.turn_context import turn_neighbours, with_turn_context
from synth.vectors import UnitRows, unit

INTERVIEW = """Interviewer: What made it hard to keep the job?

Respondent: The buses from the estate stop running before the late shift ends, so I could not get home.

The only other way was a taxi, and that took most of what I earned that evening.

In the end I asked for earlier shifts and the manager said there were none.

Interviewer: Did anything help?

Respondent: Yes.

Respondent: My sister started looking after the children on the days I worked.
"""

REPORT = """Transport in the evening

Evening bus services were withdrawn from three estates in the study area during the pilot.

Several participants said that the withdrawal made late shifts impossible without a car.
"""


def _passages(tmp_path):
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "interview-1.txt").write_text(INTERVIEW, encoding="utf-8")
    (folder / "report.txt").write_text(REPORT, encoding="utf-8")
    with Project.open(tmp_path / "p.synth", create=True) as project:
        ingest(project, [folder])
    with Project.open(tmp_path / "p.synth", write=False) as project:
        return project.passages(codable_only=True), project.passages()


def _starting(codable, words: str) -> int:
    return next(i for i, p in enumerate(codable) if p.text.startswith(words))


def test_a_long_answers_passages_are_neighbours_and_nothing_else_is(tmp_path):
    codable, every = _passages(tmp_path)
    near = turn_neighbours(codable, every)
    buses, taxi, shifts = (_starting(codable, w) for w in ("The buses", "The only other way", "In the end"))
    sister = _starting(codable, "My sister")
    assert near[buses] == [taxi]
    assert sorted(near[taxi]) == sorted([buses, shifts])
    assert near[shifts] == [taxi]  # the interviewer's question ends the turn
    assert near[sister] == []  # a turn of its own, after another question
    report = [i for i, p in enumerate(codable) if p.speaker is None]
    assert len(report) >= 2 and all(near[i] == [] for i in report)  # literature: paragraphs are not turns


def test_rows_move_towards_their_neighbours_and_others_stay_bit_for_bit():
    rng = np.random.default_rng(0)
    original = unit(rng.normal(size=(5, 8)).astype(np.float32))
    units = UnitRows(original.copy())
    near = [[1], [0, 2], [1], [], []]
    assert with_turn_context(units, near, 0.25) == 3
    expected_middle = unit(original[1] + 0.25 * (original[0] + original[2]) / 2)
    np.testing.assert_allclose(units.rows[1], expected_middle, rtol=1e-6)  # from the rows as they were
    np.testing.assert_allclose(units.rows[0], unit(original[0] + 0.25 * original[1]), rtol=1e-6)
    assert original[0] @ original[1] < units.rows[0] @ original[1]
    np.testing.assert_array_equal(units.rows[3:], original[3:])
    np.testing.assert_allclose(np.linalg.norm(units.rows, axis=1), 1, rtol=1e-6)


def test_no_weight_or_no_neighbours_moves_nothing():
    rows = unit(np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32))
    units = UnitRows(rows.copy())
    assert with_turn_context(units, [[1], [0], []], 0) == 0
    assert with_turn_context(units, [[], [], []]) == 0
    np.testing.assert_array_equal(units.rows, rows)


def _interview(k: int) -> str:
    return f"""Interviewer: What made it hard to keep the job, person {k}?

Respondent: The buses from the estate stop running before the late shift ends, so getting home was a problem.

The only other way was a taxi, and that took most of what I earned on those evenings at the depot.

In the end I asked the manager for earlier shifts, and was told that there were none to give me.

Interviewer: Did anything help with the children?

Respondent: My sister started looking after the children on the days I worked, which made a difference.

Later the school opened a breakfast club, so I could drop them off before eight and still be on time.
"""


def test_discover_moves_turn_neighbours_only_when_asked_and_a_change_repartitions(tmp_path):
    from synth.discover import discover

    folder = tmp_path / "interviews"
    folder.mkdir()
    for k in range(4):
        (folder / f"interview-{k}.txt").write_text(_interview(k), encoding="utf-8")
    path = tmp_path / "p.synth"
    with Project.open(path, create=True) as project:
        ingest(project, [folder])
    with Project.open(path) as project:
        off = discover(project)
    with Project.open(path) as project:
        on = discover(project, turn_context=0.25)
    with Project.open(path) as project:
        again = discover(project, turn_context=0.25)
    assert off.turn_context == 0 and off.passages == 20
    assert on.turn_context == 20  # every answer here is two or three passages long
    assert on.partition == "full" and "turn_context" in on.partition_reason
    assert again.partition == "warm"  # the same setting, nothing new: the stored themes stand
