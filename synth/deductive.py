"""Deductive placement: passages go to an imported codebook's codes before any clustering.

A code is represented by the embedding of its name and definition. A passage is placed in the
code it is most similar to when that similarity is high enough and clearly above the runner-up;
everything else is left for inductive discovery, so new themes are found beside the framework
rather than forced into it. The thresholds are for normalised sentence-transformer vectors
(cosine similarity), where a passage that is about a short definition scores ~0.4–0.7 and an
unrelated one ~0.0–0.25.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SIMILARITY = 0.40
MIN_MARGIN = 0.03


@dataclass(frozen=True)
class DeductivePlacement:
    code: np.ndarray        # per passage: index of the code it is placed in, or -1
    similarity: np.ndarray  # per passage: cosine similarity to its most similar code

    @property
    def placed(self) -> np.ndarray:
        return self.code >= 0


def code_text(label: str, definition: str) -> str:
    """What a code means, as one text to embed: its name, then its definition."""
    definition = definition.strip()
    return f"{label.strip()}. {definition}" if definition else label.strip()


def place_deductively(passage_vectors: np.ndarray, code_vectors: np.ndarray, *,
                      min_similarity: float = MIN_SIMILARITY, min_margin: float = MIN_MARGIN) -> DeductivePlacement:
    n = passage_vectors.shape[0]
    if code_vectors.shape[0] == 0 or n == 0:
        return DeductivePlacement(np.full(n, -1), np.zeros(n, dtype=np.float32))
    sims = passage_vectors @ code_vectors.T
    order = np.argsort(-sims, axis=1, kind="stable")
    best = order[:, 0]
    best_sim = sims[np.arange(n), best]
    runner_up = sims[np.arange(n), order[:, 1]] if code_vectors.shape[0] > 1 else np.full(n, -1.0)
    confident = (best_sim >= min_similarity) & (best_sim - runner_up >= min_margin)
    return DeductivePlacement(np.where(confident, best, -1), best_sim.astype(np.float32))
