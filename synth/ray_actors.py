"""What runs on the Ray workers: the encoder actor (Ray Data `map_batches`) and the per-passage
actor for lemmas and categories (a pool of Ray actors fed blocks of passages by the driver).

Each actor loads its model once; each call computes with synth's own in-process functions, so a
passage's result is the one the in-process engine gives (every stage here depends on the passage
alone, and on the planned batch for the encoder: see `ray_engine.plan_batches`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .embed import Embedder
from .errors import ModelError


class EncodeActor:
    """One per worker: loads and verifies the model once, then encodes whole planned batches and
    writes their vectors to a shard itself, so vectors travel from worker to disk, not through the
    driver. A worker that cannot see the shard folder (another machine without a shared
    filesystem) sends its vectors back instead, and the driver writes the shard."""

    def __init__(self, route: str, model_dir: str | None, model_id: str, batch_size: int, device: str,
                 shard_dir: str = "", marker: str = "") -> None:
        from .fast_embed import OnnxEmbedder, embedder_for

        embedder = embedder_for(route, model_dir)
        if embedder.spec.model_id != model_id:
            # A worker on another machine built its route from its own model files: its vectors
            # would not be the driver's, and must not enter the project's cache under its id.
            raise ModelError(f"Ray worker's model {embedder.spec.model_id} is not the driver's {model_id}; "
                             f"install the same synth and model on every node")
        if isinstance(embedder, OnnxEmbedder):
            embedder = OnnxEmbedder(embedder.spec, batch_size=batch_size, threads=1)  # one CPU per actor
        elif isinstance(embedder, Embedder):
            embedder = Embedder(embedder.spec, batch_size=batch_size, device=device)
        self.embedder = embedder
        # The driver's marker file proves this is the driver's folder, not a same-named one on another node.
        self.shard_dir = shard_dir if shard_dir and marker and os.path.isfile(os.path.join(shard_dir, marker)) else ""

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from .ray_shards import write_shard

        digests: list[str] = []
        vectors: list[np.ndarray] = []
        for group_digests, group_texts in zip(batch["digests"], batch["texts"], strict=True):
            vectors.append(self.embedder.encode([str(t) for t in group_texts]))
            digests.extend(str(d) for d in group_digests)
        matrix = np.vstack(vectors).astype(np.float32, copy=False)
        if self.shard_dir:
            write_shard(Path(self.shard_dir), dict(zip(digests, matrix)))
            blobs = [b""] * len(digests)  # on disk: the driver reads them from the shard
        else:
            blobs = [row.tobytes() for row in matrix]
        return {"digest": np.array(digests, dtype=object), "blob": np.array(blobs, dtype=object)}


class PassageActor:
    """Lemmas and categories of blocks of passages, with the spaCy pipeline loaded once; and
    clustering's per-block assignment (`map_block`)."""

    def __init__(self) -> None:
        from .nlp import load_nlp

        load_nlp()

    def terms(self, texts: Sequence[str]):
        from .nlp import passage_terms

        return passage_terms(texts)

    def categorise(self, texts: Sequence[str], vectors: np.ndarray, prototypes, questions=None):
        from .categorise import categorise_passages

        return categorise_passages(list(texts), vectors, prototypes=prototypes, questions=questions)

    def map_block(self, fn, block: np.ndarray, shared):
        """fn(block, shared) for a pure per-block function (`assign.assign_block`), with one BLAS
        thread as in the driver's clustering, so the products are the ones computed in-process."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return fn(block, shared)

    def pid(self) -> int:
        return os.getpid()
