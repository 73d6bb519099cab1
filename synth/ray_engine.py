"""`synth discover --engine ray`: the per-passage stages of discover on a Ray cluster.

What runs where. Embedding: Ray Data `map_batches` over a pool of actors, each holding the verified
model once (`ray_actors.EncodeActor`); each actor writes the vectors it computes to Parquet shards
beside the project (`PROJECT.vectors/<model id>/`). Lemmas and categories: a pool of actors with
the spaCy pipeline loaded once (`ray_actors.PassageActor`), fed blocks of passages by the driver
(`_map`), at most two blocks in flight per actor, results taken back in order. Clustering fits in
the driver (on its fit set); its corpus-wide passes run as maps over blocks of rows on the same
pool (`blocks`, a `RayBlocks`: the smoothing and the k-means passes, `synth.block_maps`; the
assignment of every passage, `synth.assign`), with the corpus-sized matrices in memory-mapped
files and the smoothed blocks in Ray's object store; labelling stays in the driver (see
docs/benchmarks.md "Ray engine" for what this means at 10^7).

Exactly the in-process results: the driver plans the encoder's batches exactly as the in-process
encoder would cut them (the same global sort by length, the same batch size), and each actor
encodes whole planned batches with the same route, so every padded matrix, and so every vector,
is the one the in-process engine computes. Lemmas and categories depend on the passage alone (and
its vector), and the actors compute them with synth's own functions. Same inputs, same seed: the
same themes, placements, labels and categories.

Memory. The run's vectors are assembled from the shards, by memory-mapped record batches, into a
matrix that is itself a memory-mapped file (`ray_shards.RunVectors`), never in the driver's own
heap; see docs/benchmarks.md for what the driver still holds (texts, and clustering's copies).

Interruptions: nothing reaches the project file until discover's one transaction at the end.
Ctrl-C, a dead worker or a lost cluster stop the run before it, with the project as it was, and the
next run takes every shard already written (a shard is written whole or not at all). The shards are
where the project's vectors live with this engine: discover does not copy them into the project
file (at 10^7 passages that was 15 GB more, and 69 minutes of writing), and readers of the
project's vectors find them there (`Project.cached_embeddings`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .embed import EmbeddingResult, ProgressFn
from .errors import SynthError
from .ray_actors import EncodeActor, PassageActor
from .scratch import ScratchFile
from .ray_shards import RowsOf, RunVectors, index_shards, read_shards, shard_folder, shard_names, write_shard

__all__ = ["RayEngine", "RaySettings", "plan_batches", "read_shards", "write_shard"]

NEEDS_RAY = "synth discover --engine ray needs Ray: pip install 'synth[ray]'"
GROUPS_PER_TASK = 8  # planned encoder batches per Ray Data batch: big enough to amortise scheduling
TERMS_BLOCK = 500    # passages per lemma task: a few hundred ms of spaCy, well above Ray's per-call cost
IN_FLIGHT = 2        # blocks queued per passage actor, so none waits for the driver between blocks
# What each of clustering's block maps does, for a failure's one line.
BLOCK_STAGES = {"smooth_block": "smoothing passages", "kmeans_block": "refining the themes' centres",
                "assign_block": "assigning passages to themes"}


@dataclass(frozen=True)
class RaySettings:
    address: str | None = None   # None: start a local cluster on this machine
    workers: int | None = None   # actors in the pool (default: one per CPU the cluster offers)


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401  (the extra must bring Ray Data, not just Ray core)
    except ImportError as exc:
        raise SynthError(NEEDS_RAY) from exc
    return ray


class RayEngine:
    """Joins (or starts) a Ray cluster. Called, it embeds with `embed_with_cache`'s contract;
    `passage_terms` and `categorise_passages` have the contracts of the in-process functions of
    those names: discover takes each in place of its in-process stage. Use as a context manager."""

    keeps_vectors_beside_project = True  # discover stores no passage vector in the project file

    def __init__(self, project_path: str | Path, settings: RaySettings = RaySettings(), *,
                 route: str = "", model_dir: str | None = None) -> None:
        self.ray = _import_ray()
        self.project_path = Path(project_path)
        self.settings = settings
        self.model_dir = model_dir
        self._started_here = False
        self._runs: list[RunVectors] = []
        self._actors: list | None = None
        self._shared: dict[int, object] = {}  # id(object) -> its ObjectRef, put once per run
        self.shard_root = (self.project_path.parent.resolve() / (self.project_path.name + ".vectors"))
        self.blocks = RayBlocks(self)  # clustering's block maps on the pool (`cluster_passages(block_map=...)`)

    # -- cluster -----------------------------------------------------------------------------------

    def __enter__(self) -> RayEngine:
        ray = self.ray
        env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        if self.settings.address:
            _check_reachable(self.settings.address)
        try:
            if self.settings.address:
                ray.init(address=self.settings.address, include_dashboard=False, log_to_driver=False,
                         logging_level="ERROR", runtime_env={"env_vars": env})
            else:
                cpus = self.settings.workers or _usable_cores()
                # A local cluster's workers are started from this process's environment, so they
                # import this same synth (PYTHONPATH included).
                ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                         runtime_env={"env_vars": env})
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError… for a bad address
            where = self.settings.address or "a local cluster"
            raise SynthError(f"Ray cluster at {where}: cannot connect ({_first_line(exc)}); "
                             f"check the address (host:port of the head node, or ray://host:10001)") from exc
        self._started_here = True
        import logging

        from ray.data import DataContext

        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its notes would break synth's progress display
        context = DataContext.get_current()
        context.enable_progress_bars = False  # synth's own progress bar reports the embedding
        context.print_on_execution_start = False
        return self

    def __exit__(self, *exc_info) -> None:
        for run in self._runs:
            run.close()
        self._runs.clear()
        self.blocks.close()
        if self._started_here:
            self._release_pool()
            self._shared.clear()
            self.ray.shutdown()
            self._started_here = False

    def cluster_gpus(self) -> float:
        return float(self.ray.cluster_resources().get("GPU", 0))

    def pool_size(self) -> int:
        if self.settings.workers:
            return self.settings.workers
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    # -- embedding ---------------------------------------------------------------------------------

    def __call__(self, texts: Sequence[str], hashes: Sequence[str], cached: dict[str, np.ndarray],
                 embedder, progress: ProgressFn | None = None) -> EmbeddingResult:
        """`embed.embed_with_cache`, with the missing vectors computed on the cluster; `vectors` is a
        memory-mapped matrix, `new_vectors` reads its rows when asked."""
        model_id = embedder.spec.model_id
        shards = shard_folder(self.project_path, model_id)
        known = shard_names(shards)
        run = RunVectors(shards, hashes, _dimension(embedder, cached, shards, known))
        self._runs.append(run)
        run.fill({d: cached[d] for d in run.rows if d in cached})
        reused = len(run.found)
        run.fill_from_shards(shards, known)
        todo = {d: texts[run.rows[d][0]] for d in run.missing()}
        if todo:
            self._embed_on_cluster(todo, embedder, shards, progress, len(run.rows) - reused)
            run.fill_from_shards(shards, shard_names(shards) - known)
            if run.missing():
                raise SynthError(f"Ray engine: {len(run.missing())} passages came back without a vector from "
                                 f"the workers; the project is unchanged (shards in {shards})")
        # Vectors found in the shards were computed by an earlier run (finished or interrupted): reused.
        computed = len(todo)
        return EmbeddingResult(run.matrix, len(run.rows) - computed, computed, RowsOf(run.matrix, run.rows, set(todo)))

    def finish(self) -> None:
        """The run committed. Its vectors stay in the shards: they are the project's vectors (the
        project file keeps passages, themes and decisions), and the next run reuses them. The new
        shards are indexed now, so the first search by meaning does not index them."""
        for folder in {run.path.parent for run in self._runs}:
            index = index_shards(folder)
            if index is not None:
                index.close()

    def _embed_on_cluster(self, todo: dict[str, str], embedder, shards: Path, progress: ProgressFn | None,
                          total: int) -> None:
        ray = self.ray
        self._release_pool()  # its actors hold CPUs the encoder pool needs
        shards.mkdir(parents=True, exist_ok=True)
        marker = ScratchFile(shards, ".driver-")  # its name is what the actors look for
        digests, texts = list(todo), list(todo.values())
        groups = plan_batches(embedder, texts)
        rows = [{"digests": [digests[i] for i in group], "texts": [texts[i] for i in group]} for group in groups]
        use_gpu = _route_name(embedder) == "pytorch" and self.cluster_gpus() > 0
        workers = self.pool_size() if not use_gpu else max(1, int(self.cluster_gpus()))
        dataset = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), workers * 4)))
        encoded = dataset.map_batches(
            EncodeActor, batch_size=GROUPS_PER_TASK, batch_format="numpy",
            fn_constructor_kwargs={"route": _route_name(embedder), "model_dir": self.model_dir,
                                   "model_id": embedder.spec.model_id, "batch_size": embedder.batch_size,
                                   "device": "cuda" if use_gpu else "cpu", "shard_dir": str(shards),
                                   "marker": marker.path.name},
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=0 if use_gpu else 1, num_gpus=1 if use_gpu else 0,
        )
        done = total - len(todo)
        try:
            for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
                returned = {d: np.frombuffer(b, dtype=np.float32)
                            for d, b in zip(batch["digest"].tolist(), batch["blob"].tolist()) if b}
                write_shard(shards, returned)  # a worker without the shard folder sent its vectors here
                done += len(batch["digest"])
                if progress:
                    progress(done, total)
        except Exception as exc:
            failure = _worker_failure(exc, "embedding", f"; a re-run reuses the vectors already in {shards}")
            if failure is None:
                raise
            raise failure from exc
        finally:
            marker.close()

    # -- lemmas and categories ---------------------------------------------------------------------

    def passage_terms(self, texts: Iterable[str]) -> list:
        """`nlp.passage_terms`, block by block on the pool."""
        texts = list(texts)
        blocks = [texts[start:start + TERMS_BLOCK] for start in range(0, len(texts), TERMS_BLOCK)]
        results = self._map(lambda actor, block: actor.terms.remote(block), blocks, "lemmatising")
        return [terms for block in results for terms in block]

    def categorise_passages(self, texts: Sequence[str], embeddings: np.ndarray, *, prototypes=None,
                            questions: Sequence[str | None] | None = None) -> list:
        """`categorise.categorise_passages`, its passages split across the pool."""
        n = len(texts)
        if n == 0:
            return []
        step = max(50, -(-n // (self.pool_size() * IN_FLIGHT)))
        protos = self._put(prototypes)
        questions = list(questions) if questions is not None else [None] * n
        blocks = [(list(texts[start:start + step]), np.asarray(embeddings[start:start + step]),
                   questions[start:start + step]) for start in range(0, n, step)]
        results = self._map(lambda actor, block: actor.categorise.remote(block[0], block[1], protos, block[2]),
                            blocks, "categorising")
        return [category for block in results for category in block]

    def map_blocks(self, fn: Callable, shared: object, blocks: Iterable) -> Iterable:
        """A `block_maps.BlockMap` on the pool: fn(block, shared) for every block on the workers,
        results in block order, each given as soon as it and those before it are back (a block may
        be an object reference: `RayBlocks.place`)."""
        shared_ref = self.ray.put(shared)  # the fit set, the centroids or the fit: sent once per map
        stage = BLOCK_STAGES.get(getattr(fn, "__name__", ""), "clustering")
        return self._map_in_order(lambda actor, block: actor.map_block.remote(fn, block, shared_ref),
                                  list(blocks), stage)

    def _put(self, value):
        if value is None:
            return None
        if id(value) not in self._shared:
            self._shared.clear()  # one run's prototypes at a time
            self._shared[id(value)] = (value, self.ray.put(value))
        return self._shared[id(value)][1]

    def _pool(self) -> list:
        if self._actors is None:
            remote = self.ray.remote(num_cpus=1, max_restarts=0)(PassageActor)
            self._actors = [remote.remote() for _ in range(self.pool_size())]
        return self._actors

    def _release_pool(self) -> None:
        for actor in self._actors or ():
            self.ray.kill(actor)  # on a joined cluster, which outlives this run, this frees its CPUs
        self._actors = None

    def _map(self, call: Callable, blocks: list, stage: str) -> list:
        """call(actor, block) for every block on the pool, results in block order."""
        return list(self._map_in_order(call, blocks, stage))

    def _map_in_order(self, call: Callable, blocks: list, stage: str) -> Iterable:
        """call(actor, block) for every block on the pool, yielding the results in block order as
        they come back (at most the blocks in flight wait here for an earlier one)."""
        ray = self.ray
        early: dict[int, object] = {}
        given = 0
        try:
            free = [actor for actor in self._pool() for _ in range(IN_FLIGHT)]
            pending: dict = {}
            following = 0
            while following < len(blocks) or pending:
                while free and following < len(blocks):
                    actor = free.pop()
                    pending[call(actor, blocks[following])] = (following, actor)
                    following += 1
                (ready,), _ = ray.wait(list(pending), num_returns=1)
                index, actor = pending.pop(ready)
                early[index] = ray.get(ready)
                free.append(actor)
                while given in early:
                    yield early.pop(given)
                    given += 1
        except Exception as exc:
            failure = _worker_failure(exc, stage, "")
            if failure is None:
                raise
            raise failure from exc


class RayBlocks:
    """Clustering's block maps on the engine's pool (`synth.block_maps`): callable as a block map;
    its corpus-sized matrices (the unit vectors, the smoothed ones) are files mapped into memory
    beside the project, removed when the engine closes, so they are never in the driver's heap; and
    the blocks the k-means passes and the assignment read are put into Ray's object store once."""

    def __init__(self, engine: RayEngine) -> None:
        self.engine = engine
        self._files: list[ScratchFile] = []

    def __call__(self, fn: Callable, shared: object, blocks: Iterable) -> Iterable:
        return self.engine.map_blocks(fn, shared, blocks)

    def matrix(self, shape: tuple[int, int], dtype) -> np.ndarray:
        if not shape[0]:
            return np.empty(shape, dtype)
        # Held (locked) while this process lives: a killed run's file is removed by the next writer.
        scratch = ScratchFile(self.engine.shard_root, ".cluster-", ".npy")
        self._files.append(scratch)
        return np.lib.format.open_memmap(scratch.path, mode="w+", dtype=dtype, shape=shape)

    def place(self, blocks: Iterable[np.ndarray]) -> list:
        return [self.engine.ray.put(np.ascontiguousarray(block)) for block in blocks]

    def release(self, placed: list) -> None:
        placed.clear()  # the last references: Ray frees the blocks in its object store

    def close(self) -> None:
        for scratch in self._files:
            scratch.close()  # a mapping still open keeps reading it until it goes
        self._files.clear()


def plan_batches(embedder, texts: Sequence[str]) -> list[list[int]]:
    """The groups of texts the in-process encoder would pad together, in its order: each group,
    encoded alone, gives bit for bit the vectors that the whole list encoded at once gives."""
    from .fast_embed import OnnxEmbedder, StaticEmbedder

    n = len(texts)
    if isinstance(embedder, OnnxEmbedder):
        embedder._load()  # its tokenizer: the encoder sorts by token count
        lengths = np.empty(n, dtype=np.int64)
        for start in range(0, n, 4096):
            encoded = embedder._tokenizer.encode_batch(list(texts[start:start + 4096]))
            lengths[start:start + len(encoded)] = [len(e.ids) for e in encoded]
        order = np.argsort(lengths, kind="stable").tolist()
        step = embedder.batch_size
    elif isinstance(embedder, StaticEmbedder):
        order, step = list(range(n)), embedder.batch_size  # a static vector depends on its text alone
    else:  # PyTorch: `Embedder.encode` sorts by characters and hands chunks of 16 batches to the model
        order = sorted(range(n), key=lambda i: -len(texts[i]))
        step = embedder.batch_size * 16
    return [order[start:start + step] for start in range(0, n, step)]


def _dimension(embedder, cached: dict[str, np.ndarray], shards: Path, known: set[str]) -> int:
    """The model's vector length: from a vector at hand, else from one short encoding."""
    for vector in cached.values():
        return len(vector)
    from .ray_shards import shard_blocks

    for name in sorted(known):
        for _, matrix in shard_blocks(shards / name):
            return matrix.shape[1]
    return int(np.asarray(embedder.encode(["dimension"])).shape[1])


def _worker_failure(exc: Exception, stage: str, more: str) -> SynthError | None:
    """A failure on the cluster as one line (None: not Ray's own, so it goes up unchanged and a
    defect is not reported as a lost worker)."""
    from ray.exceptions import RayError

    if isinstance(exc, SynthError):
        return None
    if not (isinstance(exc, (RayError, ConnectionError)) or type(exc).__module__.startswith("ray.")):
        return None
    return SynthError(f"Ray engine: a worker failed while {stage} ({_first_line(exc)}); the project is "
                      f"unchanged{more}")


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Ray retries an unreachable head for minutes; a plain connection attempt answers in seconds."""
    if address == "auto":
        return  # Ray finds the cluster this machine belongs to
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise SynthError(f"Ray cluster at {address}: not an address; give host:port of the head node "
                         f"(e.g. 10.0.0.5:6379) or ray://host:10001")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise SynthError(f"Ray cluster at {address}: cannot connect ({exc.strerror or exc}); is the head node "
                         f"running (ray start --head) and reachable from here?") from exc


def _route_name(embedder) -> str:
    from .fast_embed import route_of_model_id

    return route_of_model_id(embedder.spec.model_id)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
