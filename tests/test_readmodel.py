"""The read model (synth.readmodel) and the status vocabulary (synth.statuses), on real project files:
one table of statuses and moves for actions, CLI and pages; each reader's answers equal to the plain
ones they replace; the report reads the decision log once; the paged SQL queries of the review
pages give what the old whole-project walks gave."""

from __future__ import annotations

import re

import httpx
import numpy as np
import pytest

from synth import statuses
from synth.errors import SynthError
from synth.readmodel import ReadModel
from synth.vectors import unit
from synth.report.build import gather
from synth.review import actions
from synth.review.app import create_app
from synth.store import Project
from review_fixture import Built

BASE = "http://127.0.0.1"


def test_every_move_of_the_table_is_what_the_actions_allow(built: Built) -> None:
    """For every status and every move, the action succeeds exactly when the table lists the move."""
    theme = built.themes["A"]
    for start in statuses.THEME_STATUSES:
        for move in statuses.TRANSITIONS.values():
            with Project.open(built.path, create=False) as p, p.transaction():
                p.update_theme(theme, status=start)
            with Project.open(built.path, create=False) as p:
                allowed = move in statuses.transitions_from(start)
                if allowed:
                    actions.set_status(p, theme, move.action, reviewer="t")
                    assert p.theme(theme).status == move.to
                else:
                    with pytest.raises(SynthError):
                        actions.set_status(p, theme, move.action, reviewer="t")
                    assert p.theme(theme).status == start


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_theme_page_shows_the_buttons_of_the_table(built: Built, anyio_backend) -> None:
    theme = built.themes["B"]
    app = create_app(built.path, reviewer="t")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        for start in statuses.THEME_STATUSES:
            with Project.open(built.path, create=False) as p, p.transaction():
                p.update_theme(theme, status=start)
            html = (await client.get(f"/themes/{theme}")).text
            shown = set(re.findall(r'id="(accept|reject|restore)-button"', html))
            assert shown == {m.action for m in statuses.transitions_from(start)}, start


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_theme_list_names_the_reviewable_statuses_from_the_table(built: Built, anyio_backend,
                                                                           monkeypatch) -> None:
    # The status filter's default option spells out what it lists; it must come from the one table
    # (a reordered table shows reordered), not from a list written into the template.
    monkeypatch.setattr(statuses, "REVIEWABLE", tuple(reversed(statuses.REVIEWABLE)))
    app = create_app(built.path, reviewer="t")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        html = (await client.get("/")).text
    option = re.search(r'<option value="review"[^>]*>([^<]*)</option>', html)
    assert option and option.group(1) == ", ".join(statuses.REVIEWABLE), html[:2000]


def test_the_cli_offers_the_vocabulary(synth) -> None:
    out = synth.ok("themes", "--help")
    for status in statuses.THEME_STATUSES:
        assert status in out


def test_the_read_model_reads_the_decision_log_once_per_report(built: Built, monkeypatch) -> None:
    with Project.open(built.path, create=False) as p:
        for key in ("A", "B", "C"):
            actions.accept(p, built.themes[key], reviewer="t")
        actions.memo(p, "note on a passage", passage_id=built.passages["A1"][0], reviewer="t")
    calls = []
    original = Project.decisions

    def counted(self, **kwargs):
        calls.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(Project, "decisions", counted)
    with Project.open(built.path, create=False, write=False) as p:
        report = gather(p)
    assert len(calls) == 1
    assert len(report.summaries) == 3 and any(report.passage_memos.values())


def test_unplaced_passages_in_sql_equal_the_walk_over_the_project(built: Built) -> None:
    with Project.open(built.path, create=False) as p:
        # a coded passage is placed; a rejected theme's passages are unplaced
        actions.reject(p, built.themes["C"], reviewer="t")
        with p.transaction():
            p.set_coding(built.passages["None"][1], built.themes["A"], reviewer="t")
        live = {t.id for t in p.themes()}
        placed = {m.passage_id for m in p.memberships(placed=True) if m.theme_id in live}
        placed |= {c.passage_id for c in p.codings() if c.theme_id in live}
        expected = [q.id for q in p.passages(codable_only=True) if q.id not in placed]
        total, page = p.unplaced_passages(limit=1000)
        assert total == len(expected) and [q.id for q in page] == expected
        total, second = p.unplaced_passages(limit=2, offset=2)
        assert [q.id for q in second] == expected[2:4]
        assert set(built.passages["C"]) <= set(expected)


def test_memos_and_undo_in_sql_equal_the_walk_over_the_log(built: Built) -> None:
    pid = built.passages["A1"][0]
    with Project.open(built.path, create=False) as p:
        actions.memo(p, "first", passage_id=pid, reviewer="ann")
        actions.memo(p, "on the theme", theme_id=built.themes["A"], reviewer="ann")
        actions.memo(p, "second", passage_id=pid, reviewer="bob")
        actions.undo(p, reviewer="bob")  # bob's memo is undone
        log = p.decisions()
        undone = {d.undoes for d in log if d.undoes is not None}
        walk = [d for d in log if d.action == "memo" and d.id not in undone]
        assert [d.id for d in p.live_memos()] == [d.id for d in walk]
        assert [d.after["memo"] for d in p.live_memos(passage_ids=[pid])] == ["first"]
        assert [d.after["memo"] for d in p.live_memos(theme_id=built.themes["A"])] == ["on the theme"]
        assert p.latest_undoable("bob") is None  # his only decision is undone
        assert p.latest_undoable("ann").after["memo"] == "on the theme"
        assert [d.id for d in ReadModel(p).memos()] == [d.id for d in walk]


def test_nearest_themes_are_the_closest_centroids(built: Built) -> None:
    with Project.open(built.path, create=False, write=False) as p:
        model = ReadModel(p)
        live = model.live()
        passages = p.passages(codable_only=True)
        nearest = model.space.nearest_themes(passages, live, 2)
        vectors = model.space.vectors(q.text_sha256 for q in passages)
        centroids = {t: p.theme_centroid(t) for t in live}
        for q in passages:
            v = unit(vectors[q.text_sha256], np.float64)
            sims = {t: float(v @ unit(c, np.float64)) for t, c in centroids.items()}
            got = nearest[q.id]
            assert len(got) == 2 and got[0][1] >= got[1][1]
            assert abs(got[0][1] - max(sims.values())) < 1e-5  # the best similarity, whatever the tie order
        # group B's passages are nearest to theme B (their vectors point the same way, by a wide margin)
        for pid in built.passages["B"]:
            assert nearest[pid][0][0].id == built.themes["B"]


def test_the_read_model_is_one_read_of_the_themes(built: Built) -> None:
    with Project.open(built.path, create=False, write=False) as p:
        model = ReadModel(p)
        assert [t.id for t in model.themes()] == [t.id for t in p.themes()]
        assert model.all_themes is model.all_themes  # read once
        assert set(model.colours) == {t.id for t in p.themes()}
        first = model.summary(model.theme(built.themes["A"]))
        assert model.summary(model.theme(built.themes["A"])) is first  # memoised
        assert np.isclose(np.linalg.norm(unit(np.array([3.0, 4.0]))), 1.0)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_counts_kept_between_requests_follow_a_change_made_elsewhere(built: Built, anyio_backend) -> None:
    """The app keeps whole-project counts between requests; a change made by another program (the
    CLI, another reviewer's app) must show on the next page all the same."""
    app = create_app(built.path, reviewer="t")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        def size_listed(html: str) -> int:
            row = re.search(rf'data-theme="{built.themes["A"]}".*?data-label="Size">(\d+)<', html, re.S)
            return int(row.group(1))

        before = (await client.get("/unplaced")).text
        total = int(re.search(r"Unplaced passages \((\d+)\)", before).group(1))
        size_before = size_listed((await client.get("/")).text)
        with Project.open(built.path, create=False) as p:  # another program takes two passages out of theme A
            actions.remove(p, built.passages["A1"][:2], reviewer="cli", theme_id=built.themes["A"])
            size_a = p.theme(built.themes["A"]).size
        after = (await client.get("/unplaced")).text
        assert int(re.search(r"Unplaced passages \((\d+)\)", after).group(1)) == total + 2
        assert size_listed((await client.get("/")).text) == size_a == size_before - 2


def test_theme_sizes_in_one_pass_equal_each_themes_own_count(built: Built) -> None:
    """All themes' sizes come from one aggregate (two ways: with and without further codings); each
    must equal the theme's own count, which reads its members one by one."""
    with Project.open(built.path, create=False) as p:
        def check() -> None:
            every = {t.id: t.size for t in p.themes(statuses=statuses.THEME_STATUSES)}
            assert every == {t: p.theme(t).size for t in every}
            counts = p.theme_list_counts()[0]
            assert {t: sum(n for n, _ in kinds.values()) for t, kinds in counts.items()} == \
                {t: n for t, n in every.items() if n}

        check()
        with p.transaction():  # a further coding: into another theme, and into its own (counted once)
            p.set_coding(built.passages["A1"][0], built.themes["B"], reviewer="t")
            p.set_coding(built.passages["B"][0], built.themes["B"], reviewer="t")
        check()
