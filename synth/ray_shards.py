"""The Ray engine's vectors on disk: Parquet shards beside the project, and one run's vectors as a
memory-mapped matrix.

Shards (`PROJECT.vectors/<model id>/part-*.parquet`, a `digest` string column and a fixed-size
`vector` list column) are written by the workers as they finish batches, each under a temporary
name (`.part-*.tmp`, locked by its writer: `synth.scratch`) and then renamed, so a shard is whole
or absent: an interrupted run leaves only whole shards, and the next run takes them; a killed
writer's partial file is removed by the next command that opens the project to write. They are read back by record batches from a memory-mapped file, and
each vector goes straight to its rows of the run's matrix, itself a file mapped into memory
(`RunVectors`): the driver never holds the vectors of a corpus in its own (anonymous) memory, only
the pages the operating system maps in and can drop again.

The shards are the project's vectors for the Ray engine, and for the in-process engine past a
size (`keep_beside`, `discover --vectors-beside-above`): runs keep them there, not in the project
file (whose cache would hold 15 GB at 10^7 passages), and every reader of the project's vectors
(`Project.cached_embeddings`: search by meaning, the review app, the report's map) finds them there
too, through an index from digest to shard and row (`index.sqlite` in the same folder,
`caches.ShardIndex`), so reading a few vectors opens only the shards that hold them. A project
copied without its `.vectors` folder loses nothing but time: a re-run embeds its passages again
(the same vectors).
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from .scratch import ScratchFile

SHARD_ROWS = 10_000    # vectors per shard the driver writes itself (`keep_beside`)
ROW_GROUP_ROWS = 1024  # rows per Parquet row group: reading one vector reads at most this many
INDEX_NAME = "index.sqlite"
# Above this many codable passages the in-process engine too keeps the passages' vectors here, not in
# the project file (`discover --vectors-beside-above`): at 10^5 passages they are a third of the file
# and writing them into it 20-60 s of discover's final transaction.
VECTORS_BESIDE_ABOVE = 100_000


def shard_folder(project_path: Path | str, model_id: str) -> Path:
    """Where a project's vectors of one model live beside it: `PROJECT.vectors/<model id>/`."""
    project_path = Path(project_path)
    return project_path.parent.resolve() / (project_path.name + ".vectors") / re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)


def vectors_beside(project_path: Path | str, model_id: str, wanted: set[str]) -> dict[str, np.ndarray]:
    """The vectors of `wanted` digests kept in the shards beside a project ({} when it has none)."""
    folder = shard_folder(project_path, model_id)
    if not wanted or not folder.is_dir():
        return {}
    return read_shards(folder, wanted)


def write_shard(folder: Path | str, vectors: Mapping[str, np.ndarray]) -> str:
    """Writes one shard; returns its file name ('' when there was nothing to write)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not vectors:
        return ""
    folder = Path(folder)
    matrix = np.vstack(list(vectors.values())).astype(np.float32, copy=False)
    table = pa.table({"digest": pa.array(list(vectors), pa.string()),
                      "vector": pa.FixedSizeListArray.from_arrays(pa.array(matrix.ravel()), matrix.shape[1])})
    name = f"part-{uuid.uuid4().hex}.parquet"
    # Written under a scratch name this process holds locked (`scratch.ScratchFile`), then renamed:
    # a shard is whole or absent, and the partial file of a writer killed meanwhile is removed by
    # the next command that opens the project to write, never one a live writer is still writing.
    partial = ScratchFile(folder, f".{name}.", ".tmp")
    try:
        pq.write_table(table, partial.path, row_group_size=ROW_GROUP_ROWS)
        partial.keep_as(folder / name)
    finally:
        partial.close()  # removes it when the write failed
    return name


def shard_names(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("part-*.parquet")} if folder.is_dir() else set()


def shard_blocks(path: Path) -> Iterator[tuple[list[str], np.ndarray]]:
    """(digests, vectors) of a shard, one Parquet record batch at a time, read from a memory map.
    A damaged shard ends early or yields nothing: its vectors are computed again."""
    import pyarrow.parquet as pq

    try:
        reader = pq.ParquetFile(path, memory_map=True)
        for batch in reader.iter_batches(batch_size=8192, columns=["digest", "vector"]):
            column = batch.column("vector")
            matrix = column.values.to_numpy(zero_copy_only=False).reshape(len(batch), column.type.list_size)
            yield batch.column("digest").to_pylist(), matrix
    except Exception:  # pyarrow raises several kinds for a damaged file
        return


def keep_beside(project_path: Path | str, model_id: str, vectors: Mapping[str, np.ndarray]) -> int:
    """Writes `vectors` as shards beside the project (`SHARD_ROWS` each, read from the mapping one
    shard at a time) and indexes them; returns how many shards. Each shard is whole or absent, so
    an interrupted call leaves whole shards that the next run reuses."""
    folder = shard_folder(project_path, model_id)
    folder.mkdir(parents=True, exist_ok=True)
    digests = list(vectors)
    written = 0
    for start in range(0, len(digests), SHARD_ROWS):
        written += bool(write_shard(folder, {d: vectors[d] for d in digests[start:start + SHARD_ROWS]}))
    index = index_shards(folder)
    if index is not None:
        index.close()
    return written


def shard_digests(path: Path) -> list[str]:
    """A shard's digests in row order, its vectors not read ([] for a damaged shard)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=["digest"], memory_map=True).column("digest").to_pylist()
    except Exception:  # pyarrow raises several kinds for a damaged file
        return []


def index_shards(folder: Path):
    """The folder's `caches.ShardIndex`, brought up to date with its shards (the caller closes it);
    None where it cannot be kept (a read-only folder, a damaged index): readers then scan."""
    from .caches import ShardIndex

    index = None
    try:
        index = ShardIndex(folder / INDEX_NAME)
        names, known = shard_names(folder), index.shards()
        for name in sorted(names - known):
            index.add(name, shard_digests(folder / name))
        if known - names:
            index.forget(known - names)
        return index
    except sqlite3.Error:
        if index is not None:
            index.close()
        return None


def read_shards(folder: Path, wanted: set[str]) -> dict[str, np.ndarray]:
    """The vectors of `wanted` digests found in the folder's shards: through the index, only the
    row groups that hold them are read."""
    if not wanted:
        return {}
    index = index_shards(folder)
    if index is None:
        return scan_shards(folder, wanted)
    try:
        where = index.where(wanted)
    finally:
        index.close()
    by_shard: dict[str, dict[int, str]] = {}
    for digest, (name, row) in where.items():
        by_shard.setdefault(name, {})[row] = digest
    found: dict[str, np.ndarray] = {}
    for name, rows in sorted(by_shard.items()):
        found.update(_read_rows(folder / name, rows))
    return found


def _read_rows(path: Path, rows: Mapping[int, str]) -> dict[str, np.ndarray]:
    """The vectors at `rows` (row -> its digest, checked against the shard's) of one shard."""
    import pyarrow.parquet as pq

    found: dict[str, np.ndarray] = {}
    try:
        reader = pq.ParquetFile(path, memory_map=True)
        first = 0
        for group in range(reader.metadata.num_row_groups):
            size = reader.metadata.row_group(group).num_rows
            inside = [row for row in rows if first <= row < first + size]
            if inside:
                table = reader.read_row_group(group, columns=["digest", "vector"])
                column = table.column("vector").combine_chunks()
                matrix = column.values.to_numpy(zero_copy_only=False).reshape(len(table), column.type.list_size)
                digests = table.column("digest")
                for row in inside:
                    if digests[row - first].as_py() == rows[row]:
                        found[rows[row]] = matrix[row - first].astype(np.float32, copy=True)
            first += size
    except Exception:  # a shard gone or damaged since it was indexed: its vectors are computed again
        return found
    return found


def scan_shards(folder: Path, wanted: set[str]) -> dict[str, np.ndarray]:
    """The vectors of `wanted` digests found by reading every shard (no index at hand)."""
    found: dict[str, np.ndarray] = {}
    if not wanted:
        return found
    for name in sorted(shard_names(folder)):
        for digests, matrix in shard_blocks(folder / name):
            for digest, vector in zip(digests, matrix):
                if digest in wanted:
                    found[digest] = vector.astype(np.float32, copy=True)
    return found


class RunVectors:
    """One run's vectors, a row per passage in the run's order, in a file mapped into memory.

    `fill_*` put vectors in place by digest (every row of a repeated text); `missing` says which
    digests have none yet. The file is temporary: `close` removes it (the mapping stays readable
    until the last array over it goes)."""

    def __init__(self, folder: Path, hashes: Sequence[str], dim: int) -> None:
        self.rows: dict[str, list[int]] = {}
        for row, digest in enumerate(hashes):
            self.rows.setdefault(digest, []).append(row)
        # Held (locked) while this process lives: a killed run's file is removed by the next writer.
        self._scratch = ScratchFile(folder, ".run-", ".f32")
        self.path = self._scratch.path
        shape = (len(hashes), dim)
        self.matrix = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.float32, shape=shape) \
            if len(hashes) else np.zeros(shape, np.float32)
        self.found: set[str] = set()
        self.from_shards: set[str] = set()

    def fill(self, vectors: Mapping[str, np.ndarray]) -> None:
        for digest, vector in vectors.items():
            self._put(digest, vector)

    def fill_from_shards(self, folder: Path, names: set[str]) -> None:
        for name in sorted(names):
            for digests, matrix in shard_blocks(folder / name):
                for digest, vector in zip(digests, matrix):
                    if digest in self.rows and digest not in self.found:
                        self._put(digest, vector)
                        self.from_shards.add(digest)

    def _put(self, digest: str, vector: np.ndarray) -> None:
        rows = self.rows.get(digest)
        if rows is None or digest in self.found:
            return
        self.matrix[rows] = vector
        self.found.add(digest)

    def missing(self) -> list[str]:
        return [d for d in self.rows if d not in self.found]

    def close(self) -> None:
        self._scratch.close()


class RowsOf(Mapping):
    """digest -> its vector, read from the run's matrix when asked (the project's cache writes them
    one by one, so they are never all copied out at once)."""

    def __init__(self, matrix: np.ndarray, rows: Mapping[str, list[int]], digests: set[str]) -> None:
        self.matrix, self.rows, self.digests = matrix, rows, sorted(digests)
        self._known = digests

    def __getitem__(self, digest: str) -> np.ndarray:
        if digest not in self._known:
            raise KeyError(digest)
        return np.asarray(self.matrix[self.rows[digest][0]])

    def __iter__(self) -> Iterator[str]:
        return iter(self.digests)

    def __len__(self) -> int:
        return len(self.digests)
