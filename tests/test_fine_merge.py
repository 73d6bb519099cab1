"""benchmarks.fine_merge (the over-cluster-then-merge experiment, docs/benchmarks.md "Over-cluster, then
merge") and the pieces of it that ship in synth.merge_near: the merge does what its docstring says, on
small synthetic arrays; the figures are in the docs. The shipped partition on real text (the demo's
community-language idea kept, the CLI option, the warm start): tests/test_partition_choice.py."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

import synth.cluster as cluster
from benchmarks.fine_merge import complete_linkage, merged_fine_themes, neighbour_links, neighbour_merge
from synth.cluster import ClusterParams, cluster_passages


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_complete_linkage_merges_within_the_distance_and_respects_cap_and_floor() -> None:
    # Three centroids close together (pairwise cosine distance < 0.02), one far away.
    C = _unit(np.array([[1.0, 0.0, 0.0], [1.0, 0.1, 0.0], [1.0, 0.0, 0.1], [0.0, 1.0, 0.0]]))
    sizes = np.array([10, 10, 10, 10])
    group = complete_linkage(C, sizes, 0.3)
    assert group[0] == group[1] == group[2] != group[3]
    # Nothing is close enough at a tiny distance: every theme stays its own.
    assert len(set(complete_linkage(C, sizes, 1e-6).tolist())) == 4
    # A cap of 20 passages allows one merge of two of the close three, never all three.
    capped = complete_linkage(C, sizes, 0.3, cap=20)
    assert sorted(np.bincount(capped).tolist()) == [1, 1, 2]
    # A floor above any union's cohesion refuses every merge; one below every union's allows them.
    sums = C * sizes[:, None]  # each fine theme's rows all equal to its centroid: cohesion 1 alone
    assert len(set(complete_linkage(C, sizes, 0.3, sums=sums, floor=0.9999).tolist())) == 4
    assert len(set(complete_linkage(C, sizes, 0.3, sums=sums, floor=0.5).tolist())) == 2


def test_over_clustered_blobs_are_merged_back_and_the_clusterer_restored() -> None:
    rng = np.random.default_rng(0)
    centres = _unit(rng.normal(size=(4, 32)))
    truth = np.repeat(np.arange(4), 60)
    X = _unit(centres[truth] + 0.08 * rng.normal(size=(len(truth), 32)))
    original = cluster.ward_votes
    params = ClusterParams(n_themes=4, min_theme_size=5, place_near=True)
    with merged_fine_themes(factor=3.0, distance=0.3):
        assert cluster.ward_votes is not original
        merged = cluster_passages(X, params=params)
    assert cluster.ward_votes is original  # swapped only inside the block
    # Twelve fine themes asked for, four blobs found again: the merge undoes the over-clustering.
    assert merged.n_themes == 4
    assert adjusted_rand_score(truth, merged.labels) > 0.95
    # Without the merge the same call still gives the plain partition.
    assert cluster_passages(X, params=params).n_themes == 4


def test_interleaved_halves_of_one_blob_merge_by_shared_neighbours_and_a_separate_blob_does_not() -> None:
    rng = np.random.default_rng(1)
    centres = _unit(rng.normal(size=(2, 16)))
    X = _unit(np.repeat(centres, 50, axis=0) + 0.05 * rng.normal(size=(100, 16))).astype(np.float32)
    # Fine themes: blob 0 cut at random into themes 0 and 1 (interleaved), blob 1 is theme 2.
    labels = np.where(np.arange(100) < 50, rng.integers(0, 2, 100), 2)
    links = neighbour_links(X, labels, 3, neighbours=5)
    assert links.sum() == 100 * 5 and links[0, 2] + links[1, 2] == 0
    group = neighbour_merge(links, 0.3)
    assert group[0] == group[1] != group[2]
    # Asking for more crossing than two random halves have keeps all three apart.
    assert len(set(neighbour_merge(links, 0.9).tolist())) == 3


def test_a_merged_theme_looser_than_the_median_is_taken_apart() -> None:
    from benchmarks.fine_merge import _undo_loose

    # Fine themes 0+1 merged into a tight group (same direction), 2+3 into a loose one (orthogonal), 4 alone.
    dirs = np.eye(4)
    own = np.stack([dirs[0] * 10, dirs[0] * 10, dirs[1] * 10, dirs[2] * 10, dirs[3] * 10])  # sums of 10 rows each
    sizes = np.full(5, 10)
    group = np.array([0, 0, 1, 1, 2])
    out = _undo_loose(group, own, sizes)
    assert out[0] == out[1]  # cohesion 1.0: kept
    assert out[2] != out[3]  # cohesion 0.71, below the median (1.0): apart again
    assert len(set(out.tolist())) == 4


def test_near_duplicate_themes_merge_after_the_fact_and_unplaced_passages_stay_unplaced() -> None:
    from benchmarks.fine_merge import merge_near_duplicates
    from synth.cluster import Clustering

    rng = np.random.default_rng(2)
    centres = _unit(rng.normal(size=(4, 32)))
    # Themes 0 and 1 are one tight idea cut in two; themes 2-4 are three looser ideas (the merged theme
    # must be at least as tight as the median theme to stay merged); passage 0 is unplaced.
    noise = np.repeat([0.05, 0.05, 0.15, 0.15, 0.15], 20)[:, None]
    X = _unit(np.repeat(centres[[0, 0, 1, 2, 3]], 20, axis=0) + noise * rng.normal(size=(100, 32)))
    nearest = np.repeat(np.arange(5), 20)
    labels = nearest.copy()
    labels[0] = -1
    base = Clustering(labels, nearest, np.ones(100), np.zeros((5, 32), np.float32), {"min_theme_size": 3})
    merged = merge_near_duplicates(base, X, 0.3)
    assert merged.n_themes == 4
    assert merged.labels[0] == -1 and merged.nearest[0] == merged.labels[1]
    assert len(set(merged.labels[1:40].tolist())) == 1 and merged.labels[40] != merged.labels[1]


def test_a_gathered_idea_is_taken_out_of_the_merged_theme_unless_that_would_empty_it() -> None:
    from synth.merge_near import with_gathered
    from synth.cluster import Clustering

    rng = np.random.default_rng(3)
    X = _unit(rng.normal(size=(30, 16))).astype(np.float32)
    # The merge put passages 0-19 in theme 0 and 20-29 in theme 1; before it, passages 0-3 were unplaced
    # and gathered as theme 2 (first gathered theme: 2), and passages 20-29 all gathered as theme 3.
    # Passages 4-6 were gathered as theme 4 and the merge left them unplaced: left to discover's gathering.
    merged_labels = np.repeat([0, 1], [20, 10])
    merged_labels[4:7] = -1
    merged = Clustering(merged_labels, np.repeat([0, 1], [20, 10]), np.ones(30),
                        np.zeros((2, 16), np.float32), {"min_theme_size": 3})
    gathered_labels = np.r_[[2, 2, 2, 2], [4, 4, 4], np.zeros(13, int), np.full(10, 3)]
    centres = np.zeros((5, 16), np.float32)
    centres[2] = _unit(X[:4].sum(axis=0, keepdims=True))[0]
    gathered = Clustering(gathered_labels, gathered_labels, np.ones(30), centres, {})
    out = with_gathered(merged, gathered, 2, X)
    assert out.n_themes == 3 and out.stats["gathered_before_merge"] == 1
    assert set(out.labels[:4].tolist()) == {2} and set(out.labels[7:20].tolist()) == {0}
    assert (out.labels[4:7] == -1).all()
    assert (out.labels[20:] == 1).all()  # taking all of theme 1 would empty it: left where the merge put it
    expected = _unit(X[7:20].sum(axis=0, keepdims=True))[0]
    assert np.allclose(out.centroids[0], expected, atol=1e-5)  # theme 0's centre without the gathered idea
