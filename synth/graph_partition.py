"""Themes as communities of a nearest-neighbour graph: Leiden, with its resolution set by the number
of themes wanted and consensus over seeds (`synth.cluster`'s partition with `synth discover --clusterer
consensus-leiden`).

Why a graph: on every dev set a k-nearest-neighbour graph partitioned by modularity recovers the
coders' themes better than Ward + spherical k-means at the same number of themes (docs/benchmarks.md,
"Theme discovery on the dev sets"): a theme may be any shape along the manifold the neighbours trace,
not a ball around a centroid. Leiden (Traag, Waltman & van Eck 2019) rather than Louvain because
its communities are guaranteed connected; igraph's C implementation takes about a second at 4,000
passages.

- `graph_edges`: the fit set's symmetric k-NN graph, weighted by cosine similarity (negative
  similarities dropped). Neighbours come from `synth.consensus_votes`' blocked search, so a passage's
  neighbours are other sources' passages first, as in its smoothing step.
- `resolution_for`: the modularity resolution whose partition has the wanted number of themes of at
  least the minimum size, by bisection in log space (the number grows with the resolution).
- `consensus`: one partition from several seeded runs (Lancichinetti & Fortunato 2012): every edge
  is reweighted by the share of runs that keep its ends together and the graph is partitioned again;
  edges no run kept are dropped. This is what makes the themes repeat from seed to seed.
- `propagate`: passages outside the fit set take the label their fit-set neighbours carry most
  weight for.

igraph draws from Python's `random` API; each run gets its own `random.Random(seed)`, installed for
the call under a lock, so one seed gives one partition whatever else runs in the process.
"""

from __future__ import annotations

import random
import threading

import numpy as np

_RNG_LOCK = threading.Lock()
_BISECT_STEPS = 12
_CONSENSUS_ROUNDS = 3
_CONSENSUS_RUNS = 5  # runs per round after the first: they converge fast on the reweighted graph
_RESOLUTION_RANGE = (0.05, 64.0)


def graph_edges(near: np.ndarray, sims: np.ndarray, fit_position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undirected weighted edges (pairs of fit-set positions, weights) of the fit set's k-NN graph.

    near/sims: each passage's neighbours (fit-set positions) and cosine similarities; fit_position:
    the fit set's rows in them. An edge found from both ends keeps the larger weight (the same value).
    """
    own = np.arange(len(fit_position)).repeat(near.shape[1])
    cols = near[fit_position].ravel()
    w = sims[fit_position].ravel().astype(np.float64)
    keep = (w > 0) & (own != cols)
    a, b = np.minimum(own[keep], cols[keep]), np.maximum(own[keep], cols[keep])
    key = a.astype(np.int64) * len(fit_position) + b
    order = np.lexsort((-w[keep], key))
    key, first = np.unique(key[order], return_index=True)
    pairs = np.column_stack([a[order][first], b[order][first]])
    return pairs, w[keep][order][first]


def as_graph(n: int, pairs: np.ndarray, weights: np.ndarray):
    """The igraph graph of the edges: built once and reused by every run on it (building it costs as
    much as a Leiden run)."""
    import igraph as ig

    return ig.Graph(n=n, edges=pairs.tolist(), edge_attrs={"weight": weights.tolist()})


def leiden(n: int, pairs: np.ndarray, weights: np.ndarray, resolution: float, seed: int,
           initial: np.ndarray | None = None, graph=None) -> np.ndarray:
    """Community per node (0..c-1) of a Leiden run on the weighted graph, optimising modularity;
    `graph`, when given, is `as_graph(n, pairs, weights)` built beforehand."""
    import igraph as ig

    graph = graph if graph is not None else as_graph(n, pairs, weights)
    with _RNG_LOCK:
        ig.set_random_number_generator(random.Random(seed))
        try:
            found = graph.community_leiden(objective_function="modularity", weights="weight",
                                           resolution=resolution, n_iterations=-1,
                                           initial_membership=None if initial is None else initial.tolist())
        finally:
            ig.set_random_number_generator(random)
    return _compact(np.asarray(found.membership, np.int64))


def _compact(labels: np.ndarray) -> np.ndarray:
    _, out = np.unique(labels, return_inverse=True)
    return out.reshape(-1).astype(np.int64)


def _themes(labels: np.ndarray, min_size: int) -> tuple[int, bool]:
    """Communities of at least min_size, and whether the partition has shattered (most passages in
    smaller ones): the count rises with the resolution, then falls as communities shatter."""
    sizes = np.bincount(labels)
    big = sizes >= min_size
    return int(big.sum()), bool(sizes[~big].sum() > len(labels) / 2)


def resolution_for(n: int, pairs: np.ndarray, weights: np.ndarray, k: int, min_size: int, seed: int,
                   graph=None) -> float:
    """The resolution whose partition has about k communities of at least min_size members, by
    bisection in log space on the rising side of the count."""
    graph = graph if graph is not None else as_graph(n, pairs, weights)
    low, high = np.log(_RESOLUTION_RANGE[0]), np.log(_RESOLUTION_RANGE[1])
    best, best_gap = float(np.exp((low + high) / 2)), np.inf
    for _ in range(_BISECT_STEPS):
        middle = (low + high) / 2
        found, shattered = _themes(leiden(n, pairs, weights, float(np.exp(middle)), seed, graph=graph), min_size)
        gap = abs(found - k) if not shattered else np.inf
        if gap < best_gap:
            best, best_gap = float(np.exp(middle)), gap
        if gap == 0:
            break
        if found < k and not shattered:
            low = middle
        else:
            high = middle
    return best


def consensus(n: int, pairs: np.ndarray, weights: np.ndarray, runs: list[np.ndarray], resolution: float,
              seeds: list[int], rounds: int = _CONSENSUS_ROUNDS, threshold: float = 0.0) -> np.ndarray:
    """One partition agreeing with the runs: the graph reweighted by co-membership and partitioned
    again (once per seed), until the runs agree on every edge or `rounds` rounds have passed."""
    for _ in range(rounds):
        together = np.mean([labels[pairs[:, 0]] == labels[pairs[:, 1]] for labels in runs], axis=0)
        if together.size == 0 or np.isin(together, (0.0, 1.0)).all():
            break  # the runs agree on every edge: any of them is the consensus
        keep = together > threshold
        pairs, weights = pairs[keep], weights[keep] * together[keep]
        graph = as_graph(n, pairs, weights)
        runs = [leiden(n, pairs, weights, resolution, s, graph=graph) for s in seeds]
    return runs[0]


def propagate(labels_fit: np.ndarray, near: np.ndarray, sims: np.ndarray, fit: np.ndarray, k: int) -> np.ndarray:
    """Labels for every passage: the fit set keeps its own; the others take their neighbours' heaviest label."""
    n = len(near)
    out = np.empty(n, np.int64)
    out[fit] = labels_fit
    rest = np.setdiff1d(np.arange(n), fit, assume_unique=True)
    for start in range(0, len(rest), 8192):
        rows = rest[start:start + 8192]
        # One bincount over (row, label) cells: np.add.at is ten times slower at 100k passages.
        cells = np.arange(len(rows)).repeat(near.shape[1]) * k + labels_fit[near[rows]].ravel()
        score = np.bincount(cells, np.maximum(sims[rows], 1e-6).ravel(), minlength=len(rows) * k)
        out[rows] = np.argmax(score.reshape(len(rows), k), axis=1)
    return out
