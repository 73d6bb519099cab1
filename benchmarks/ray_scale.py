"""The Ray engine at scale: the driver's memory with 10^5-10^6 passages, and each per-passage stage's
rate on a local cluster of 1 and 2 workers (for docs/benchmarks.md, "Ray engine").

    # driver memory: vectors of N passages in shards -> the run's matrix -> the project's cache
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ray_scale memory --passages 100000 --cluster
    # ... with clustering's block maps (smoothing, k-means passes, assignment) on a local cluster of 2 workers
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ray_scale memory --passages 100000 --cluster --ray-workers 2
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ray_scale memory --passages 1000000
    # stage rates: lemmas and categories, in-process and on 1 and 2 local workers
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ray_scale stages --passages 2000
    # a whole discover (every step after clustering too) on a copy of a project, in-process and on Ray
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ray_scale discover --project /tmp/scale100k/p.synth
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ray_scale discover --project /tmp/scale100k/p.synth --ray-workers 2
    # reading 10 vectors of N in shards: every shard scanned, or through the digest -> shard index
    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.ray_scale lookup --passages 100000 --repeats 5

`memory`: passages are texts built as benchmarks.speed builds its sets (benchmarks/corpus.py) (dev-set texts, then
sentence-level recombinations; no text twice), up to 20,000, then pairs of those joined. Embedding a million on two cores would take hours,
so their vectors are synthetic (seeded Gaussian, unit length, 384 floats) written as Parquet shards
exactly where the Ray workers write theirs; the driver then does what `discover --engine ray` does
with them: assembles the run's matrix from the shards (`RayEngine.__call__`, nothing left to embed)
and writes the new vectors into a real project's cache in one transaction (`Project.store_embeddings`).
A thread samples the driver's /proc/self/status every 20 ms: anonymous memory (the heap: what the
process really holds) and resident memory (including file pages mapped in, which the kernel can drop).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.corpus import paired

SHARD_ROWS = 10_000


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Peak:
    """Largest RssAnon and VmRSS seen while running, sampled on a thread."""

    def __init__(self) -> None:
        self.anon = self.rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.02)

    def sample(self) -> None:
        self.anon = max(self.anon, _status_kib("RssAnon"))
        self.rss = max(self.rss, _status_kib("VmRSS"))

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def memory(n: int, keep: Path | None, cluster: bool, ray_workers: int = 0) -> None:
    from synth.embed import text_sha256
    from synth.fast_embed import embedder_for
    from synth.ray_engine import RayEngine, RaySettings
    from synth.ray_shards import RowsOf, shard_folder, write_shard
    from synth.store import Project

    tick = time.perf_counter()
    texts = paired(n)
    hashes = [text_sha256(t) for t in texts]
    print(f"{n} texts built in {time.perf_counter() - tick:.0f} s; driver now {_mib(_status_kib('RssAnon'))} anon",
          flush=True)
    root = keep or Path(tempfile.mkdtemp(prefix="ray-scale-"))
    project_path = root / "bench.synth"
    embedder = embedder_for("onnx")
    engine = RayEngine(project_path)  # not entered: every vector is in the shards, no cluster is needed
    folder = shard_folder(project_path, embedder.spec.model_id)
    folder.mkdir(parents=True, exist_ok=True)
    tick = time.perf_counter()
    rng = np.random.default_rng(0)
    for start in range(0, n, SHARD_ROWS):  # as the workers write them: a shard per finished batch
        block = rng.standard_normal((min(SHARD_ROWS, n - start), 384)).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        write_shard(folder, dict(zip(hashes[start:start + SHARD_ROWS], block)))
    print(f"shards written in {time.perf_counter() - tick:.0f} s", flush=True)
    before = _status_kib("RssAnon")
    with Peak() as assemble:
        tick = time.perf_counter()
        result = engine(texts, hashes, {}, embedder)
        assembled = time.perf_counter() - tick
    assert result.reused == n and result.vectors.shape == (n, 384)  # all in the shards: nothing to embed
    # Since the Ray engine keeps its vectors in the shards, discover no longer copies them into the
    # project file; the step is still timed, for what an in-process run's cache costs at this size.
    with Peak() as store, Project.open(project_path, create=True) as project:
        tick = time.perf_counter()
        with project.transaction():
            rows = engine._runs[-1].rows
            project.store_embeddings(embedder.spec.model_id, RowsOf(result.vectors, rows, set(rows)))
        stored = time.perf_counter() - tick
    clustered = ""
    if cluster:  # the driver's clustering on the same matrix; with --ray-workers, its assignment on the workers
        from synth.cluster import ClusterParams, cluster_passages

        ray = RayEngine(project_path, RaySettings(workers=ray_workers)) if ray_workers else None
        if ray is not None:
            ray.__enter__()
            ray.ray.get([a.pid.remote() for a in ray._pool()])  # the pool started (spaCy loaded) before timing
        start_anon = _status_kib("RssAnon")
        with Peak() as fit:
            tick = time.perf_counter()
            themes = cluster_passages(result.vectors, params=ClusterParams(seed=42),
                                      block_map=ray.blocks if ray is not None else None)
            seconds = {k: round(v) for k, v in themes.stats["seconds"].items()}
            where = f"smoothing, k-means passes and assignment on {ray_workers} Ray workers" if ray else "in-process"
            clustered = (f"clustering ({where}): {time.perf_counter() - tick:.0f} s {seconds}, {themes.n_themes} "
                         f"themes, driver anon {_mib(start_anon)} before, peak anon {_mib(fit.anon)}, "
                         f"peak RSS {_mib(fit.rss)}")
        if ray is not None:
            ray.__exit__(None, None, None)
    engine.__exit__(None, None, None)
    size = project_path.stat().st_size
    print("\n| passages | texts + hashes (anon) | assemble: time, peak anon, peak RSS | store in the project: "
          "time, peak anon, peak RSS | project file |\n|---:|---:|---|---|---:|")
    print(f"| {n:,} | {_mib(before)} | {assembled:.1f} s, {_mib(assemble.anon)}, {_mib(assemble.rss)} | "
          f"{stored:.1f} s, {_mib(store.anon)}, {_mib(store.rss)} | {size / 2**20:,.0f} MiB |")
    print(f"(the vectors alone: {n * 384 * 4 / 2**20:,.0f} MiB)")
    if clustered:
        print(clustered)


def stages(n: int, repeats: int) -> None:
    from synth.categorise import PrototypeIndex, categorise_passages
    from synth.fast_embed import embedder_for
    from synth.nlp import load_nlp, passage_terms
    from synth.ray_engine import RayEngine, RaySettings

    texts = paired(n)
    embedder = embedder_for("onnx")
    vectors = embedder.encode(texts)
    prototypes = PrototypeIndex.build(embedder.encode)
    load_nlp()
    times: dict[str, list[float]] = {}

    def timed(key: str, work) -> None:
        tick = time.perf_counter()
        work()
        times.setdefault(key, []).append(time.perf_counter() - tick)
        print(f"{key}: {times[key][-1]:.1f} s", flush=True)

    for _ in range(repeats):
        timed("lemmas, in-process", lambda: passage_terms(texts))
        timed("categories, in-process", lambda: categorise_passages(texts, vectors, prototypes=prototypes))
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            tick = time.perf_counter()
            with RayEngine(Path(tmp) / "bench.synth", RaySettings(workers=workers)) as engine:
                print(f"local cluster of {workers}: started in {time.perf_counter() - tick:.1f} s", flush=True)
                timed(f"pool start ({workers} workers: actors, spaCy loaded)",
                      lambda: engine.ray.get([a.pid.remote() for a in engine._pool()]))
                for _ in range(repeats):
                    timed(f"lemmas, Ray {workers} worker(s)", lambda: engine.passage_terms(texts))
                    timed(f"categories, Ray {workers} worker(s)",
                          lambda: engine.categorise_passages(texts, vectors, prototypes=prototypes))
    print(f"\n{n} passages, median of {repeats}\n\n| stage | median s | passages/s | s per 10^6 passages |\n|---|---:|---:|---:|")
    for key, values in times.items():
        median = statistics.median(values)
        rate = f"{n / median:,.0f}" if not key.startswith("pool") else ""
        per_million = f"{median * 1e6 / n:,.0f}" if not key.startswith("pool") else ""
        print(f"| {key} | {median:.1f} | {rate} | {per_million} |")


def lookup(n: int, repeats: int) -> None:
    """Reading a few vectors from N in shards (`synth search --like`, the review app): every shard
    scanned, against the digest -> shard index (its first build timed apart)."""
    import hashlib

    from synth.ray_shards import INDEX_NAME, read_shards, scan_shards, write_shard

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rng = np.random.default_rng(0)
        digests = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]
        for start in range(0, n, SHARD_ROWS):
            block = rng.standard_normal((min(SHARD_ROWS, n - start), 384)).astype(np.float32)
            write_shard(folder, dict(zip(digests[start:start + SHARD_ROWS], block)))
        wanted = [set(rng.choice(digests, 10, replace=False).tolist()) for _ in range(repeats)]
        times: dict[str, list[float]] = {}

        def timed(key: str, work) -> None:
            tick = time.perf_counter()
            got = work()
            times.setdefault(key, []).append(time.perf_counter() - tick)
            assert len(got) == 10

        timed("index built (first reader)", lambda: read_shards(folder, wanted[0]))
        for want in wanted:
            timed("10 vectors, every shard scanned", lambda: scan_shards(folder, want))
            timed("10 vectors, through the index", lambda: read_shards(folder, want))
        size = (folder / INDEX_NAME).stat().st_size
    print(f"\n{n:,} vectors in {-(-n // SHARD_ROWS)} shards; index {size / 2**20:.1f} MiB; median of {repeats}\n")
    print("| read | median s |\n|---|---:|")
    for key, values in times.items():
        print(f"| {key} | {statistics.median(values):.3f} |")


# What each bucket covers: discover reports a stage as it ends (labelling and storing also as they
# start), so each bucket runs from one report to the next.
BUCKETS = {"open": "read + embed", "embed": "categorise", "categorise": "unit rows", "cluster": "cluster",
           "shape": "shape", "label": "label", "store": "store"}


class StagePeaks(Peak):
    """Largest RssAnon and VmRSS per discover stage (the stage its progress last named), sampled on a
    thread every 20 ms."""

    def __init__(self) -> None:
        self.stage = "open"
        self.anon: dict[str, int] = {}
        self.rss: dict[str, int] = {}
        self.started: dict[str, float] = {"open": time.perf_counter()}
        self._stop = threading.Event()  # Peak's sampling thread, calling this class's sample()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def progress(self, stage: str, done: int, total: int) -> None:
        # Clustering's own steps end when its progress is full; what follows until the label stage
        # (the catch-all splits, recurring ideas, the stance split) is counted apart, as "shape".
        if stage == "cluster" and (self.stage == "shape" or (total > 1 and done >= total)):
            stage = "shape"
        if stage != self.stage:
            self.sample()
            # Said as each stage ends, so a run stopped part way still gives the stages it finished.
            print(f"{BUCKETS.get(self.stage, self.stage)} ended at {time.perf_counter() - self.started['open']:.0f} s: peak anon "
                  f"{_mib(self.anon[self.stage])}, peak RSS {_mib(self.rss[self.stage])}", flush=True)
            self.stage = stage
            self.started.setdefault(stage, time.perf_counter())

    def sample(self) -> None:
        stage = self.stage
        self.anon[stage] = max(self.anon.get(stage, 0), _status_kib("RssAnon"))
        self.rss[stage] = max(self.rss.get(stage, 0), _status_kib("VmRSS"))


def whole_discover(project: Path, ray_workers: int) -> None:
    """A whole `discover --recluster` (every step, not clustering alone) on a copy of PROJECT (its
    vectors cached, so nothing is embedded): the driver's peak anonymous and resident memory in each
    stage, in-process or with `--engine ray` on a local cluster of `ray_workers`."""
    import shutil

    from synth.discover import discover
    from synth.store import Project

    with tempfile.TemporaryDirectory(dir=project.parent) as folder:
        copy = Path(folder) / project.name
        shutil.copyfile(project, copy)
        if project.with_name(project.name + ".vectors").is_dir():
            shutil.copytree(project.with_name(project.name + ".vectors"), copy.with_name(copy.name + ".vectors"))
        base = _status_kib("RssAnon")
        tick = time.perf_counter()
        with StagePeaks() as peaks, Project.open(copy) as opened:
            if ray_workers:
                from synth.ray_engine import RayEngine, RaySettings

                with RayEngine(copy, RaySettings(workers=ray_workers)) as engine:
                    report = discover(opened, recluster=True, progress=peaks.progress, embed_engine=engine)
                    engine.finish()
            else:
                report = discover(opened, recluster=True, progress=peaks.progress)
        wall = time.perf_counter() - tick
    engine_name = f"ray, {ray_workers} local workers" if ray_workers else "in-process"
    stages = [s for s in ("open", "embed", "categorise", "cluster", "shape", "label", "store") if s in peaks.anon]
    print(f"{report.passages} passages, {report.themes} themes, coverage {report.coverage}; {wall:.0f} s; "
          f"stages (s): {report.seconds}")
    print("\n| engine | driver anon at start | " + " | ".join(f"{BUCKETS[s]}: peak anon / RSS" for s in stages)
          + " | whole run: peak anon / RSS |")
    print("|---|---:|" + "---:|" * (len(stages) + 1))
    print(f"| {engine_name} | {_mib(base)} | "
          + " | ".join(f"{_mib(peaks.anon[s])} / {_mib(peaks.rss[s])}" for s in stages)
          + f" | {_mib(max(peaks.anon.values()))} / {_mib(max(peaks.rss.values()))} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["memory", "stages", "lookup", "discover"])
    parser.add_argument("--project", type=Path, help="discover: the project to run on (copied first; never changed)")
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="memory: build the project and shards in this folder")
    parser.add_argument("--cluster", action="store_true", help="memory: then cluster the matrix, as discover does")
    parser.add_argument("--ray-workers", type=int, default=0,
                        help="memory --cluster, discover: run on a local Ray cluster of this many workers")
    args = parser.parse_args()
    if args.what == "discover":
        if args.project is None:
            parser.error("discover needs --project")
        whole_discover(args.project, args.ray_workers)
        return
    if args.what == "memory":
        memory(args.passages, args.keep, args.cluster, args.ray_workers)
    elif args.what == "lookup":
        lookup(args.passages, args.repeats)
    else:
        stages(args.passages, args.repeats)


if __name__ == "__main__":
    main()
