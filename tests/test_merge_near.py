"""The bound on a merged theme's share of the passages (synth.merge_near, `NearMerge.max_share`):
complete linkage cut again at a too-large union's own top merges. On random centroids and on the
demo's real vectors with the bundled model."""

from __future__ import annotations

import numpy as np
import pytest

from synth.cluster import ClusterParams, cluster_passages
from synth.merge_near import NearMerge, complete_linkage
from synth.store import Project


def _centroids(rng: np.random.Generator, k: int) -> np.ndarray:
    C = rng.normal(size=(k, 6)) + 2 * rng.normal(size=6)  # a common direction: many pairs within reach
    return C / np.linalg.norm(C, axis=1, keepdims=True)


@pytest.mark.parametrize("seed", range(40))
def test_the_bound_only_cuts_unions_that_hold_too_many_passages(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 40))
    C, sizes = _centroids(rng, k), rng.integers(1, 60, size=k)
    distance, most = float(rng.uniform(0.05, 0.8)), float(rng.uniform(30, 300))
    free = complete_linkage(C, distance)
    assert np.array_equal(complete_linkage(C, distance, sizes, np.inf), free)  # no bound: scipy's cut
    bounded = complete_linkage(C, distance, sizes, most)
    held = np.bincount(bounded, weights=sizes)
    for g in range(len(held)):
        rows = np.flatnonzero(bounded == g)
        assert held[g] <= most or len(rows) == 1  # a single fine theme is never split
        assert len(set(free[rows].tolist())) == 1  # the bound only cuts, never joins
    for g in np.unique(free):  # a union within the bound is kept whole
        rows = np.flatnonzero(free == g)
        if sizes[rows].sum() <= most:
            assert len(set(bounded[rows].tolist())) == 1


def test_a_too_large_union_is_cut_at_its_loosest_merge() -> None:
    """Two tight pairs joined by a looser merge: bounded below the four's size, the union falls apart
    into the two pairs, not into single themes; numbered by first row, as unbounded."""
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.8, 0.6, 0.0])
    C = np.stack([a, a + [0, 0.05, 0], b, b + [0, 0, 0.05]])
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    sizes = np.array([10, 10, 10, 10])
    assert complete_linkage(C, 0.4, sizes).tolist() == [0, 0, 0, 0]
    assert complete_linkage(C, 0.4, sizes, most=39).tolist() == [0, 0, 1, 1]
    assert complete_linkage(C, 0.4, sizes, most=19).tolist() == [0, 1, 2, 3]


def test_on_the_demo_no_merged_theme_exceeds_the_share(discovered_demo) -> None:
    """The demo's real vectors, merged at a loose distance so that one union would hold most of the
    passages: with the bound, every merged group holds at most its share, the run says how many unions
    the bound cut, and without it the same run cuts none."""
    with Project.open(discovered_demo, create=False) as project:
        passages = project.passages(codable_only=True)
        cached = project.cached_embeddings(project.latest_run()["model_id"], [p.text_sha256 for p in passages])
    vectors = np.stack([cached[p.text_sha256] for p in passages])
    groups = np.array([p.source_id for p in passages])
    loose = cluster_passages(vectors, group_ids=groups,
                             params=ClusterParams(merge=NearMerge(distance=0.9, max_share=None)))
    assert loose.stats["cut_by_share"] == 0
    assert loose.stats["largest_merge"] > 0.25 * len(passages)
    bounded = cluster_passages(vectors, group_ids=groups,
                               params=ClusterParams(merge=NearMerge(distance=0.9, max_share=0.25)))
    assert bounded.stats["cut_by_share"] >= 1
    assert bounded.stats["largest_merge"] <= 0.25 * len(passages)
    assert bounded.n_themes > loose.n_themes
