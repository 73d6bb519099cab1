"""Time the two discover stages issue 13 changed: clustering and describing (labels, definitions), on
the cached dev-set vectors, in one process; run it with PYTHONPATH pointing at each checkout to compare.

    PYTHONPATH=. python -m benchmarks.describe_speed [--cache DIR] [--sets nhs,bills] [--repeats 3]

Describing embeds each theme's candidate label phrases with the ONNX route (cold: a fresh in-memory
cache every repeat, the worst case; discover caches them in the project). Prints medians, of wall
time and of this process's CPU time (steadier on a shared machine), and the phrases embedded per run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks import timing
from benchmarks.datasets import load, vectors
from synth.cluster import cluster_passages
from synth.label import describe_themes
from synth.nlp import lemmatise


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path("/tmp/tm-cache"))
    ap.add_argument("--sets", default="nhs,bills")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from synth.fast_embed import embedder_for

    embedder = embedder_for("onnx")
    embedder.encode(["warm up"])
    for name in args.sets.split(","):
        texts, _, groups = load(name)
        V = vectors(name, texts, args.cache)
        groups = groups if groups is not None else np.arange(len(texts))
        lemmas = lemmatise(texts)
        names = [f"source {g}" for g in groups]

        embedded: list[int] = []
        cpu: list[float] = []

        def encode(phrases):
            embedded.append(len(phrases))
            return embedder.encode(phrases)

        def describe(result):
            embedded.clear()
            started = time.process_time()
            try:
                return describe_themes(texts, result, V, groups, lemmas, encode=encode, source_names=names)
            except TypeError:  # a checkout from before phrase labels
                return describe_themes(texts, result, V, groups, lemmas)
            finally:
                cpu.append(time.process_time() - started)

        clustered = timing.repeat(lambda: cluster_passages(V, group_ids=groups), args.repeats)
        result = clustered.result
        described = timing.repeat(lambda: describe(result), args.repeats)
        print(f"{name}: {len(texts)} passages, {result.n_themes} themes; cluster {clustered.median:.2f} s, "
              f"describe {described.median:.2f} s, CPU {sorted(cpu)[len(cpu) // 2]:.2f} s, {sum(embedded)} phrases embedded "
              f"(medians of {args.repeats})", flush=True)


if __name__ == "__main__":
    main()
