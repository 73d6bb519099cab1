"""Ray engine throughput: embedding N passages in-process vs on a local Ray cluster with 1 and 2 workers,
and what starting (and stopping) the local cluster costs.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ray --passages 3000 --repeats 3

Passages are sentences of the bills dev set (../shared/dev-data/bills), distinct texts only. Each
measurement embeds every passage from scratch (an empty cache, fresh shard folder); medians are
printed, with every run, as Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.corpus import bill_sentences
from benchmarks.markdown import table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from synth.embed import text_sha256
    from synth.fast_embed import embedder_for
    from synth.ray_engine import RayEngine, RaySettings

    texts = bill_sentences(args.passages)
    hashes = [text_sha256(t) for t in texts]
    embedder = embedder_for("onnx")
    embedder.encode(texts[:64])  # load the model before timing
    rows: dict[str, list[float]] = {"in-process (onnx, 2 threads)": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        embedder.encode(texts)
        rows["in-process (onnx, 2 threads)"].append(time.perf_counter() - start)
        print(f"in-process: {rows['in-process (onnx, 2 threads)'][-1]:.1f} s", flush=True)
    startup: list[float] = []
    shutdown: list[float] = []
    for workers in (1, 2):
        key = f"Ray, local cluster, {workers} worker(s)"
        rows[key] = []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                engine = RayEngine(Path(tmp) / "bench.synth", RaySettings(workers=workers))
                engine.__enter__()
                startup.append(time.perf_counter() - start)
                start = time.perf_counter()
                result = engine(texts, hashes, {}, embedder)
                rows[key].append(time.perf_counter() - start)
                assert result.computed == len(set(hashes))
                start = time.perf_counter()
                engine.__exit__(None, None, None)
                shutdown.append(time.perf_counter() - start)
                print(f"{key}: start {startup[-1]:.1f} s, embed {rows[key][-1]:.1f} s, stop {shutdown[-1]:.1f} s",
                      flush=True)
    print(f"{len(texts)} passages, {args.repeats} runs each\n")
    print(table(["engine", "median s", "passages/s", "runs (s)"],
                [(key, f"{statistics.median(times):.1f}", f"{len(texts) / statistics.median(times):.0f}",
                  ", ".join(f"{t:.1f}" for t in times)) for key, times in rows.items()]))
    print(f"\nlocal cluster start (ray.init): median {statistics.median(startup):.1f} s "
          f"(runs: {', '.join(f'{t:.1f}' for t in startup)}); "
          f"stop: median {statistics.median(shutdown):.1f} s")


if __name__ == "__main__":
    main()
