"""`synth discover --engine ray`: passages embedded by a pool of Ray actors (Ray Data `map_batches`).

Only the embedding stage runs on the cluster: it is the per-passage stage that dominates discover's
time. Lemmas, categories and clustering stay in the driver process (clustering fits on the whole
fit set; see docs/benchmarks.md "Ray engine" for what remains for 10^7 passages).

Exactly the same vectors as in-process: the driver plans the encoder's batches exactly as the
in-process encoder would cut them (the same global sort by length, the same batch size), and each
actor encodes whole planned batches with the same verified route, so every padded matrix, and so
every vector, is the one the in-process engine computes. Same vectors, same seed: same themes.

Interruptions: vectors come back to the driver as the actors finish them and are written to
Parquet shards beside the project (`PROJECT.vectors/<model id>/`, each shard written to a temporary
name and renamed), never into the project file. Ctrl-C, a dead worker or a lost cluster therefore
leave the project exactly as it was, and the next run takes every shard already written. Once a
run has committed (its vectors are then in the project's own cache), `finish` removes the shards.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .embed import Embedder, EmbeddingResult, ProgressFn
from .errors import ModelError, SynthError

NEEDS_RAY = "synth discover --engine ray needs Ray: pip install 'synth[ray]'"
GROUPS_PER_TASK = 8  # planned encoder batches per Ray Data batch: big enough to amortise scheduling


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
    """Joins (or starts) a Ray cluster and embeds with `embed_with_cache`'s contract, so discover
    can take it in place of the in-process function. Use as a context manager."""

    def __init__(self, project_path: str | Path, settings: RaySettings = RaySettings(), *,
                 route: str = "", model_dir: str | None = None) -> None:
        self.ray = _import_ray()
        self.project_path = Path(project_path)
        self.settings = settings
        self.model_dir = model_dir
        self._started_here = False
        self._model_ids: set[str] = set()
        self.shard_root = self.project_path.with_name(self.project_path.name + ".vectors")

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
        if self._started_here:
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
        """`embed.embed_with_cache`, with the missing vectors computed on the cluster."""
        missing: dict[str, str] = {}
        for text, digest in zip(texts, hashes, strict=True):
            if digest not in cached and digest not in missing:
                missing[digest] = text
        model_id = embedder.spec.model_id
        self._model_ids.add(model_id)
        shards = self.shard_root / _safe(model_id)
        new_vectors = read_shards(shards, set(missing))
        todo = {d: t for d, t in missing.items() if d not in new_vectors}
        if todo:
            new_vectors.update(self._embed_on_cluster(todo, embedder, shards, progress, len(missing)))
        lookup = {**cached, **new_vectors}
        vectors = np.vstack([lookup[d] for d in hashes]) if hashes else np.zeros((0, 0), dtype=np.float32)
        return EmbeddingResult(vectors.astype(np.float32, copy=False), len(set(hashes)) - len(missing),
                               len(missing), new_vectors)

    def finish(self) -> None:
        """The run committed: its vectors are in the project's cache, so the shards have served."""
        for model_id in self._model_ids:
            shutil.rmtree(self.shard_root / _safe(model_id), ignore_errors=True)
        try:
            self.shard_root.rmdir()
        except OSError:
            pass  # shards of another model, or never made

    def _embed_on_cluster(self, todo: dict[str, str], embedder, shards: Path, progress: ProgressFn | None,
                          total: int) -> dict[str, np.ndarray]:
        ray = self.ray
        digests, texts = list(todo), list(todo.values())
        groups = plan_batches(embedder, texts)
        rows = [{"digests": [digests[i] for i in group], "texts": [texts[i] for i in group]} for group in groups]
        use_gpu = _route_name(embedder) == "pytorch" and self.cluster_gpus() > 0
        workers = self.pool_size() if not use_gpu else max(1, int(self.cluster_gpus()))
        dataset = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), workers * 4)))
        encoded = dataset.map_batches(
            _EncodeActor, batch_size=GROUPS_PER_TASK, batch_format="numpy",
            fn_constructor_kwargs={"route": _route_name(embedder), "model_dir": self.model_dir,
                                   "model_id": embedder.spec.model_id, "batch_size": embedder.batch_size,
                                   "device": "cuda" if use_gpu else "cpu"},
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=0 if use_gpu else 1, num_gpus=1 if use_gpu else 0,
        )
        done = total - len(todo)
        out: dict[str, np.ndarray] = {}
        shards.mkdir(parents=True, exist_ok=True)
        try:
            for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
                got = dict(zip(batch["digest"].tolist(), np.asarray(batch["vector"], dtype=np.float32)))
                write_shard(shards, got)  # kept even if the run stops: the next one starts from here
                out.update(got)
                done += len(got)
                if progress:
                    progress(done, total)
        except ray.exceptions.RayError as exc:
            raise SynthError(f"Ray engine: a worker failed while embedding ({_first_line(exc)}); the project is "
                             f"unchanged, and a re-run reuses the {len(out)} vectors already in {shards}") from exc
        return out


class _EncodeActor:
    """One per worker: loads and verifies the model once, then encodes whole planned batches."""

    def __init__(self, route: str, model_dir: str | None, model_id: str, batch_size: int, device: str) -> None:
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

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        digests: list[str] = []
        vectors: list[np.ndarray] = []
        for group_digests, group_texts in zip(batch["digests"], batch["texts"], strict=True):
            vectors.append(self.embedder.encode([str(t) for t in group_texts]))
            digests.extend(str(d) for d in group_digests)
        return {"digest": np.array(digests, dtype=object), "vector": np.vstack(vectors)}


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


def write_shard(folder: Path, vectors: dict[str, np.ndarray]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not vectors:
        return
    matrix = np.vstack(list(vectors.values())).astype(np.float32, copy=False)
    table = pa.table({"digest": pa.array(list(vectors), pa.string()),
                      "vector": pa.FixedSizeListArray.from_arrays(pa.array(matrix.ravel()), matrix.shape[1])})
    name = f"part-{uuid.uuid4().hex}.parquet"
    tmp = folder / f".{name}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, folder / name)  # a shard is whole or absent


def read_shards(folder: Path, wanted: set[str]) -> dict[str, np.ndarray]:
    """The vectors of `wanted` digests found in the folder's shards (an unreadable shard is skipped:
    its vectors are computed again)."""
    import pyarrow.parquet as pq

    found: dict[str, np.ndarray] = {}
    if not wanted or not folder.is_dir():
        return found
    for shard in sorted(folder.glob("part-*.parquet")):
        try:
            table = pq.read_table(shard)
            digests = table.column("digest").to_pylist()
            column = table.column("vector").combine_chunks()
            matrix = column.values.to_numpy().astype(np.float32).reshape(len(digests), column.type.list_size)
        except Exception:  # pyarrow raises several kinds for a damaged file
            continue
        for digest, vector in zip(digests, matrix):
            if digest in wanted:
                found[digest] = vector
    return found


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


def _safe(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
