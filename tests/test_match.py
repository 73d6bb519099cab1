"""match_themes: kept, changed, new, merged, split and gone themes across two discovery runs."""

from __future__ import annotations

import numpy as np
import pytest

from synth.match import MatchReport, PreviousTheme, ThemeMatch, match_themes


def keys(prefix: str, n: int, start: int = 0) -> set[str]:
    return {f"{prefix}{i}" for i in range(start, start + n)}


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float64)
    return v / np.linalg.norm(v)


E1, E2, E3, E4 = (unit(*row) for row in np.eye(4))


def previous(**themes: tuple[set[str], np.ndarray]) -> dict[int, PreviousTheme]:
    return {int(name[1:]): PreviousTheme(frozenset(m), c) for name, (m, c) in themes.items()}


def by_index(report: MatchReport) -> dict[int, ThemeMatch]:
    assert [m.new_index for m in report.matches] == list(range(len(report.matches)))
    return {m.new_index: m for m in report.matches}


def test_identical_run_keeps_every_theme_and_its_id():
    old = previous(t10=(keys("a", 20), E1), t11=(keys("b", 15), E2))
    report = match_themes(old, [keys("b", 15), keys("a", 20)], np.stack([E2, E1]))
    m = by_index(report)
    assert (m[0].old_theme_id, m[0].status) == (11, "kept")
    assert (m[1].old_theme_id, m[1].status) == (10, "kept")
    assert m[0].similarity == pytest.approx(1.0) and m[0].basis == "members"
    assert report.gone == ()


def test_new_sources_add_passages_without_changing_kept_themes():
    old = previous(t1=(keys("a", 20), E1), t2=(keys("b", 20), E2))
    # The re-run sees 30 passages from new sources: added to both themes and a new one.
    new = [keys("a", 20) | keys("x", 10), keys("b", 20) | keys("y", 5), keys("z", 12)]
    report = match_themes(old, new, np.stack([E1, E2, E3]))
    m = by_index(report)
    assert [m[i].status for i in range(3)] == ["kept", "kept", "new"]
    assert [m[i].old_theme_id for i in range(3)] == [1, 2, None]
    assert m[2].split_from is None


def test_theme_that_lost_or_gained_members_is_changed():
    old = previous(t1=(keys("a", 20), E1), t2=(keys("b", 20), E2))
    new = [keys("a", 12) | keys("b", 6, start=14), keys("b", 14)]
    m = by_index(match_themes(old, new, np.stack([E1, E2])))
    assert (m[0].old_theme_id, m[0].status) == (1, "changed")
    assert (m[1].old_theme_id, m[1].status) == (2, "changed")
    assert 0.3 <= m[0].similarity < 0.8


def test_two_old_themes_absorbed_into_one_are_merged():
    old = previous(t1=(keys("a", 20), E1), t2=(keys("b", 12), E2), t3=(keys("c", 15), E3))
    new = [keys("a", 20) | keys("b", 12), keys("c", 15)]
    report = match_themes(old, new, np.stack([E1, E3]))
    m = by_index(report)
    assert (m[0].old_theme_id, m[0].status, m[0].absorbed) == (1, "merged", (2,))
    assert (m[1].old_theme_id, m[1].status) == (3, "kept")
    assert report.gone == ()


def test_theme_with_no_successor_is_gone():
    old = previous(t1=(keys("a", 20), E1), t2=(keys("b", 20), E2))
    # Theme 2's passages are still there but now unplaced, but for five taken in by theme 1.
    new = [keys("a", 20) | keys("b", 5)]
    present = keys("a", 20) | keys("b", 20)
    report = match_themes(old, new, np.stack([E1]), present=present)
    assert by_index(report)[0].status == "kept"
    assert report.gone == (2,)
    # Without `present`, the 15 unplaced passages look removed, and the five look like all of theme 2.
    assert by_index(match_themes(old, new, np.stack([E1])))[0].status == "merged"


def test_removed_sources_do_not_count_against_a_theme():
    old = previous(t1=(keys("a", 20), E1), t2=(keys("b", 20), E2))
    # The source holding a10..a19 was removed; the rest is unchanged.
    new = [keys("a", 10), keys("b", 20)]
    m = by_index(match_themes(old, new, np.stack([E1, E2]), present=keys("a", 10) | keys("b", 20)))
    assert (m[0].old_theme_id, m[0].status) == (1, "kept")


def test_a_split_gives_one_changed_theme_and_one_new_theme_that_says_where_it_came_from():
    old = previous(t7=(keys("a", 40), E1))
    new = [keys("a", 24), keys("a", 16, start=24)]
    m = by_index(match_themes(old, new, np.stack([E1, E2])))
    assert (m[0].old_theme_id, m[0].status) == (7, "changed")
    assert (m[1].old_theme_id, m[1].status, m[1].split_from) == (None, "new", 7)


def test_centroid_fallback_when_no_members_are_shared():
    # The sources were re-segmented: every passage key changed, the ideas did not.
    old = previous(t1=(keys("a", 20), E1), t2=(keys("b", 20), E2))
    near_e2 = unit(0.1, 1.0, 0.0, 0.0)
    new = [keys("p", 20), keys("q", 20), keys("r", 20)]
    report = match_themes(old, new, np.stack([near_e2, E4, E1]))
    m = by_index(report)
    assert (m[0].old_theme_id, m[0].status, m[0].basis) == (2, "changed", "centroid")
    assert (m[2].old_theme_id, m[2].status, m[2].basis) == (1, "changed", "centroid")
    assert (m[1].old_theme_id, m[1].status) == (None, "new")
    assert report.gone == ()


def test_matching_is_one_to_one_and_deterministic():
    old = previous(t1=(keys("a", 20), E1), t2=(keys("a", 20, start=20), E2))
    new = [keys("a", 40)]  # both old themes fit; only one can keep its id, the other merged in
    first = match_themes(old, new, np.stack([E1]))
    assert first == match_themes(dict(reversed(list(old.items()))), new, np.stack([E1]))
    (m,) = first.matches
    assert m.status == "merged" and {m.old_theme_id, *m.absorbed} == {1, 2}


def test_first_run_makes_every_theme_new():
    report = match_themes({}, [keys("a", 5), keys("b", 5)], np.stack([E1, E2]))
    assert [(m.old_theme_id, m.status) for m in report.matches] == [(None, "new"), (None, "new")]
    assert report.gone == ()


def test_no_new_themes_makes_every_old_theme_gone():
    old = previous(t4=(keys("a", 5), E1), t9=(keys("b", 5), E2))
    report = match_themes(old, [], np.zeros((0, 4)))
    assert report.matches == () and report.gone == (4, 9)


def test_centroid_count_must_match_member_sets():
    with pytest.raises(ValueError, match="2 member sets but 1 centroids"):
        match_themes({}, [keys("a", 5), keys("b", 5)], np.stack([E1]))


def test_centroids_from_another_vector_space_are_not_compared():
    import numpy as np

    from synth.match import PreviousTheme, match_themes

    previous = {7: PreviousTheme(members=frozenset(), centroid=np.ones(256) / 16.0),
                8: PreviousTheme(members=frozenset({"a"}), centroid=None)}
    report = match_themes(previous, [{"x", "y"}], np.ones((1, 384)) / np.sqrt(384), present={"x", "y"})
    assert [m.old_theme_id for m in report.matches] == [None]
    assert set(report.gone) == {7, 8}
