"""What happens after the partition, read as an analyst would (issue 13, items 2, 4, 5, 6): small
themes are ideas and not strays, labels and definitions come from the theme's own stance, stance
links share a topic of substance, and confidence reflects how much evidence there is."""

from __future__ import annotations

import numpy as np
import pytest

from synth.cluster import Clustering
from synth.refine import bisect, cohesion, unit
from synth.small_themes import held_out_cohesion


def _clustering(labels: np.ndarray, X: np.ndarray) -> Clustering:
    k = int(labels.max()) + 1
    centroids = np.stack([X[labels == j].mean(axis=0) for j in range(k)]).astype(np.float32)
    return Clustering(labels=labels.copy(), nearest=labels.copy(), probability=np.ones(len(labels)),
                      centroids=centroids, stats={})


def test_carve_recurring_leaves_four_unrelated_passages_in_their_theme():
    """Four passages from four sources that share only a little with one another ("warehouse jobs",
    "sofa surfing", "scared to lose the money", "bus fare paid") are no recurring idea. With each
    passage inside its own centre they look tighter than the corpus's themes; held out, they are not."""
    from synth.recurring import carve_recurring

    rng = np.random.default_rng(7)
    common = rng.normal(size=16)
    centres = [common + rng.normal(size=16) for _ in range(4)]
    off = common + rng.normal(size=16)
    X = np.concatenate([centres[0] + rng.normal(size=(24, 16)),
                        off + 1.2 * rng.normal(size=(4, 16)),  # four strays from four sources
                        *(c + rng.normal(size=(24, 16)) for c in centres[1:])]).astype(np.float32)
    labels = np.array([0] * 28 + [1] * 24 + [2] * 24 + [3] * 24)
    groups = np.array(list(range(24)) + [40, 41, 42, 43] + list(range(72)))
    strays = np.arange(24, 28)
    Xu = unit(X)
    themes = [np.flatnonzero(labels == j) for j in range(4)]
    # What made the strays pass before: with themselves in the centre they are as tight as a theme.
    assert cohesion(Xu, strays)[1] >= np.median([cohesion(Xu, t)[1] for t in themes])
    assert held_out_cohesion(Xu, strays) < np.median([held_out_cohesion(Xu, t) for t in themes]) - 0.05
    out, carved = carve_recurring(_clustering(labels, X), X, groups)
    assert carved == 0
    assert (out.labels[strays] == 0).all()


def test_a_single_evaluative_word_is_no_shared_topic():
    """Two sides that share only "effective" (the word that makes one side an enabler) are about
    different things; a noun they share is their topic."""
    from synth.stance import shared_topic

    a_texts = ["The partnership with the council was effective for outreach in Leeds.",
               "Mentors were effective because families trusted them in Bradford.",
               "The drop-in proved effective at reaching carers in Hull."]
    b_texts = ["Referral forms should be shared effective from April, said the provider in York.",
               "Data sharing agreements must be made effective before the pilot in Derby.",
               "Staff should make the new rota effective across Wakefield offices."]
    other = [f"Passage {i} about an unrelated matter such as housing benefit rules." for i in range(40)]
    texts = a_texts + b_texts + other
    groups = np.arange(len(texts))
    a, b = np.arange(0, 3), np.arange(3, 6)
    assert shared_topic(texts, a, b, groups) == ""
    # A shared noun phrase of the two sides is still their topic.
    texts2 = [t + " Shuttle bus." for t in a_texts + b_texts] + other
    assert shared_topic(texts2, a, b, groups) == "shuttle bus"


def _adequacy(passages: int, sources: int, participants: int):
    from synth.evidence import Adequacy

    return Adequacy(passages=passages, sources=sources, participants=participants,
                    sources_by_kind={"interview": sources}, passages_by_kind={"interview": passages},
                    participants_by_kind={"interview": participants}, groups={})


def test_a_handful_of_passages_is_thin_evidence_even_from_five_sources():
    """Five passages, one from each of five interviews (the demo's "Older men"), are a handful: a minor
    concern about adequacy, so that with the usual minor concern about unappraised sources the
    suggestion is moderate, not high. A finding that many passages from five sources carry has none."""
    from synth.confidence import _adequacy_concern

    assert _adequacy_concern(_adequacy(5, 5, 5)).concern == "minor"
    assert "fewer than 8 passages" in _adequacy_concern(_adequacy(5, 5, 5)).explanation
    assert _adequacy_concern(_adequacy(12, 5, 5)).concern == "none"
    assert _adequacy_concern(_adequacy(4, 4, 4)).concern == "moderate"  # unchanged below 5 passages


def test_a_definition_takes_the_sentence_that_says_the_theme_stance_when_it_is_about_the_theme():
    """In an enabler theme about getting to work, a passage that states the problem (the bus fare
    eats a first wage, no cue word) and then what helped (the fund pays travel, "made the
    difference") is quoted for what helped, as long as that sentence carries the theme's words too."""
    from synth.label_definition import _sentence_with

    text = ("Transport's a big one. A lot of the entry-level jobs are on the outskirts, and the bus fare eats "
            "up a lot of a first wage. We use the support fund to pay the bus fare for the first month, and "
            "that has made the difference between someone taking a job or not.")
    weights = {"bus": 1.0, "fare": 1.0, "wage": 0.8, "outskirts": 0.8, "fund": 0.3}
    assert _sentence_with(text, "shuttle bus", weights=weights, stance="enabler").startswith("We use the support fund")
    # Without a stance the sentence with most of the theme's words is quoted, as before.
    assert _sentence_with(text, "shuttle bus", weights=weights).startswith("A lot of the entry-level jobs")
    # A sentence of the theme's stance that is off the theme's topic does not win.
    off = text.replace("to pay the bus fare for the first month", "for many things")
    assert _sentence_with(off, "shuttle bus", weights=weights, stance="enabler").startswith("A lot of")


def test_a_catch_all_theme_is_split_where_its_halves_are_as_distinct_as_neighbouring_themes():
    """A theme four times the typical size holding two ideas further apart than the theme is from
    its closest neighbour is split, even where the whole corpus is so alike that the corpus-wide
    yardstick (`split_loose`) would keep it whole; one broad idea is not split."""
    from synth.recurring import split_catch_alls

    rng = np.random.default_rng(11)
    d = 16
    e = np.eye(d)
    a, b = e[0], e[1]  # two ideas of one catch-all
    near = unit(a + b + 0.35 * e[2])  # its neighbouring theme sits between them
    far = [e[3] + e[4], e[5] + e[6], e[7] + e[8]]
    noise = 0.08

    def blob(centre, n):
        return centre + noise * rng.normal(size=(n, d))

    X = np.concatenate([blob(a, 20), blob(b, 20), blob(near, 10), *(blob(unit(f), 10) for f in far)]).astype(np.float32)
    labels = np.array([0] * 40 + [1] * 10 + [2] * 10 + [3] * 10 + [4] * 10)
    out, made = split_catch_alls(_clustering(labels, X), X, min_size=5)
    assert made == 1
    assert len(set(out.labels[:20])) == 1 and len(set(out.labels[20:40])) == 1
    assert out.labels[0] != out.labels[20]
    assert out.n_themes == 6
    # The larger half keeps the theme's index.
    X3 = np.concatenate([blob(a, 14), blob(b, 26), X[40:]]).astype(np.float32)
    out, made = split_catch_alls(_clustering(labels, X3), X3, min_size=5)
    assert made == 1 and (out.labels[14:40] == 0).all() and (out.labels[:14] == 5).all()
    # One broad idea of the same size: its halves are closer than its neighbour is; kept whole.
    X2 = X.copy()
    X2[:40] = blob(a, 40)
    _, made = split_catch_alls(_clustering(labels, X2), X2, min_size=5)
    assert made == 0
    # A theme a reviewer holds together is never cut.
    held = np.array([7] * 40 + [-1] * 40)
    _, made = split_catch_alls(_clustering(labels, X), X, min_size=5, held=held)
    assert made == 0


def test_gather_unplaced_leaves_a_group_inside_an_existing_theme_unplaced():
    """At 100k passages most tight groups of unplaced passages were pieces of an existing theme's idea
    (rows sharing one phrase of the theme) that the refits were unsure of: made themes, they were
    near-duplicates nobody would keep. A group whose centre sits as close to a theme's centre as that
    theme's own members do stays unplaced; a group of a new idea beside it is still gathered."""
    from synth.recurring import gather_unplaced

    rng = np.random.default_rng(7)
    common = rng.normal(size=16)  # themes of one corpus resemble each other
    centres = [common + rng.normal(size=16) for _ in range(3)]
    idea = common + rng.normal(size=16)
    X = np.concatenate([*(c + 0.5 * rng.normal(size=(12, 16)) for c in centres),
                        idea + 0.1 * rng.normal(size=(3, 16)),           # a new idea, three sources
                        centres[0] + 0.3 * rng.normal(size=(4, 16)),     # theme 0's idea again, four sources
                        rng.normal(size=(3, 16)) * 3]).astype(np.float32)  # strays
    labels = np.array([0] * 12 + [1] * 12 + [2] * 12 + [-1] * 10)
    base = _clustering(np.where(labels < 0, 0, labels), X)
    clustering = Clustering(labels=labels, nearest=base.nearest, probability=np.where(labels < 0, 0.2, 1.0),
                            centroids=base.centroids, stats={})
    groups = np.array(list(range(36)) + [40, 41, 42] + [50, 51, 52, 53] + [60, 61, 62])
    Xu = unit(X)
    duplicate = np.arange(39, 43)
    # The duplicate group is a recurring group by every other test: tight, four sources ...
    assert held_out_cohesion(Xu, duplicate) > np.median([held_out_cohesion(Xu, np.flatnonzero(labels == j))
                                                         for j in range(3)])
    # ... and its centre sits inside theme 0, the new idea's does not.
    theme0 = np.flatnonzero(labels == 0)
    c0, _ = cohesion(Xu, theme0)
    assert float(cohesion(Xu, duplicate)[0] @ c0) > float(np.quantile(Xu[theme0] @ c0, 0.5))
    out, made = gather_unplaced(clustering, X, groups)
    assert made == 1
    assert len(set(out.labels[36:39])) == 1 and out.labels[36] == 3
    assert (out.labels[39:] == -1).all()  # the duplicate and the strays stay unplaced
    assert out.stats["recurring_inside_themes"] == 1
    assert out.n_themes == 4


def test_a_catch_all_is_split_past_a_distinct_fragment_too_small_to_stand():
    """The demo's 40-passage evaluation theme: its first bisection cuts off six list items of one
    report (distinct, but under the minimum theme size), so the catch-all split stopped there, and
    the two ideas in the other 34 passages stayed one theme. The fragment is set aside, the rest is
    bisected again; the fragment stays in the theme that keeps the index."""
    from synth.recurring import split_catch_alls

    rng = np.random.default_rng(5)
    d = 16
    e = np.eye(d)
    a, b = unit(e[0] + e[2]), unit(e[1] + e[2])  # two ideas of one catch-all
    frag = unit(-(a + b) + 0.5 * e[9])  # three list items, far from both: the first bisection's small half
    near = unit(a + b + 0.3 * e[9] + 0.3 * e[10])  # the neighbouring theme, closer than the two ideas are
    far = [e[3] + e[4], e[5] + e[6], e[7] + e[8]]

    def blob(centre, n):
        return centre + 0.08 * rng.normal(size=(n, d))

    X = np.concatenate([blob(frag, 3), blob(a, 20), blob(b, 17), blob(near, 10),
                        *(blob(unit(f), 10) for f in far)]).astype(np.float32)
    labels = np.array([0] * 40 + [1] * 10 + [2] * 10 + [3] * 10 + [4] * 10)
    # The first bisection cuts off the fragment (3 < the minimum size 5): main stopped there.
    first = bisect(unit(X), np.arange(40))
    assert sorted(np.flatnonzero(first).tolist()) in ([0, 1, 2], list(range(3, 40)))
    out, made = split_catch_alls(_clustering(labels, X), X, min_size=5)
    assert made == 1
    assert len(set(out.labels[3:23])) == 1 and len(set(out.labels[23:40])) == 1
    assert out.labels[3] != out.labels[23]
    assert (out.labels[:3] == 0).all()  # the fragment stays with the theme's index
    assert (out.labels[3:23] == 0).all()  # ... which the larger part keeps
    assert (out.labels[40:] == labels[40:]).all()


@pytest.mark.parametrize("block_rows", [16384, 97])  # one block, and many (as at 10^5 passages and beyond)
def test_dissolving_small_themes_sums_the_rows_once_and_gives_what_re_summing_gave(monkeypatch, block_rows):
    """Each dissolved theme used to re-sum every passage's vector (n x dim each time: hours at 10^7);
    now the sums are made once and only the themes that change are summed again: the same result,
    bit for bit, as re-summing all of them before every step."""
    from synth import small_themes
    from synth.small_themes import centroids_of, dissolve_small
    from synth.vectors import unit

    monkeypatch.setattr(small_themes, "_SUM_ROWS", block_rows)
    rng = np.random.default_rng(11)
    k = 40
    centres = unit(rng.standard_normal((k, 32)))
    sizes = np.r_[rng.integers(2, 12, 15), rng.integers(60, 160, k - 15)]  # 15 small themes, dissolved
    nearest = rng.permutation(np.repeat(np.arange(k), sizes))
    n = len(nearest)
    Y = unit((centres[nearest] + 0.6 * rng.standard_normal((n, 32))).astype(np.float32))
    votes = rng.integers(0, 4, (n, k)).astype(np.int16)

    def re_summing(nearest):  # the loop as it was: every row summed again for each dissolved theme
        alive, nearest, dissolved = np.ones(k, bool), nearest.copy(), 0
        while alive.sum() > 1:
            sizes = np.bincount(nearest, minlength=k)
            small = alive & (sizes < 50)
            if not small.any():
                break
            j = int(np.argmin(np.where(small, sizes, np.iinfo(np.int64).max)))
            alive[j] = False
            dissolved += 1
            moving = np.nonzero(nearest == j)[0]
            if len(moving) == 0:
                continue
            c = unit(centroids_of(Y, nearest, k))
            score = votes[moving].astype(np.float64) + 0.5 * (Y[moving] @ c.T.astype(np.float32))
            score[:, ~alive] = -np.inf
            nearest[moving] = np.argmax(score, axis=1)
        return nearest, dissolved

    expected = re_summing(nearest)
    calls = []
    monkeypatch.setattr(small_themes, "centroids_of", lambda *a: calls.append(1) or centroids_of(*a))
    got = dissolve_small(Y, nearest, votes, k, 50)
    assert expected[1] >= 15 and got[1] == expected[1]
    assert np.array_equal(got[0], expected[0])
    assert len(calls) == 1  # all rows summed once, not once per dissolved theme
