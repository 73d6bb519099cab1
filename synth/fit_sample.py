"""Which passages the clustering fits on, and which of them each resample refits: chosen by a hash
of each passage's vector, never by the seed, so the themes are a function of the passages alone and
a passage keeps its place in the sample and the resamples when sources are added (issue 13, item 7).
Used by `synth.consensus_votes`' consensus Ward.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np


def fit_set(X: np.ndarray, max_fit: int) -> np.ndarray:
    """All passages, or the max_fit whose content hashes lowest.

    A content hash rather than the seed picks the sample, so the themes of a large corpus do not
    depend on the seed or on the order passages were added in, and adding a few passages changes
    the sample by about as many.
    """
    if len(X) <= max_fit:
        return np.arange(len(X))
    return np.sort(np.argsort(content_keys(X), kind="stable")[:max_fit])


def content_keys(X: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each passage's (unit, float32) vector: the same passage, the same key."""
    return np.frombuffer(b"".join(hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in X),
                         dtype="<u8").copy() if len(X) else np.zeros(0, np.uint64)


def resample_subsets(keys: np.ndarray, n_resamples: int, size: int) -> list[np.ndarray]:
    """The resamples' subsets (positions): for resample r, the `size` passages whose key, hashed with
    r, is lowest.

    Drawn from the content rather than the seed (issue 13, item 7): with the seed, about 3 % of the
    passages (those the refits split about evenly between two themes) moved in or out of the
    unplaced from seed to seed, and the majority vote moved others between themes (seed-to-seed ARI
    0.88-0.92 on the dev sets). Keyed by content, each subset is as random as a seeded draw, the
    themes are a function of the passages alone, and a passage stays in the same subsets when
    sources are added.
    """
    out = []
    with np.errstate(over="ignore"):
        for r in range(n_resamples):
            z = keys ^ np.uint64((0x9E3779B97F4A7C15 * (r + 1)) % 2**64)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)  # splitmix64's finaliser
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z ^= z >> np.uint64(31)
            out.append(np.sort(np.argsort(z, kind="stable")[:size]))
    return out


def corpus_shares(X: np.ndarray, n_resamples: int, fraction: float) -> list[np.ndarray]:
    """Per resample, its share of the whole corpus (row indices, `fraction` of them), drawn from the
    content as the resamples of the fit set are: the rows each refit settles on when the fit set is
    a sample of a larger corpus."""
    return resample_subsets(content_keys(X), n_resamples, max(1, math.ceil(fraction * len(X))))


def refit_draws(X: np.ndarray, fit: np.ndarray, n_resamples: int, fraction: float,
                settle_steps: int) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Each refit's draw: its subset of the fit set (positions in `fit`), and the share of the whole
    corpus (rows of X) it settles on, or None when it settles on nothing."""
    size = max(1, math.ceil(fraction * len(fit)))
    # Subsets are drawn up front, in order, so the data alone decides them whatever the thread count.
    subsets = resample_subsets(content_keys(X[fit]), n_resamples, size)

    # With settle_steps, above max_fit each refit then settles on its resample's share of the whole
    # corpus, as the reference settles on all of it. On the fit set alone a theme has max_fit / k
    # passages (56 at 10,000 passages, 18 at 100,000, where k is 224), and refits that thin disagree
    # where the corpus does not. At or below max_fit the fit set is the corpus and nothing changes.
    shares = corpus_shares(X, n_resamples, fraction) \
        if len(fit) < len(X) and settle_steps else [None] * len(subsets)
    return list(zip(subsets, shares))
