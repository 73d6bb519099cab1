"""Scratch files a killed run left beside the project (`PROJECT.vectors/.cluster-*`, `.run-*`, and
the partial `.part-*.tmp` of a shard whose writer was killed) are removed by the next command that
opens the project to write, and only those: a file a live process holds (another run, of this
project or of a copy; a worker still writing its shard) is never touched."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synth.scratch import ScratchFile, remove_stale
from synth.store import Project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock: Windows refuses to remove open files instead")

HOLDER = r"""
import sys, time
from pathlib import Path
from synth.scratch import ScratchFile
held = ScratchFile(Path(sys.argv[1]), sys.argv[2], ".npy")
print(held.path, flush=True)
if sys.argv[3] == "exit":
    sys.exit(0)  # ends without closing it: as good as killed
time.sleep(600)
"""


def _holder(folder: Path, prefix: str, how: str) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), prefix, how], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    path = Path(proc.stdout.readline().strip())
    assert path.exists()
    return proc, path


def test_the_next_writer_removes_a_killed_runs_files_and_keeps_a_live_ones(tmp_path):
    project = tmp_path / "p.synth"
    Project.open(project).close()  # a real (empty) project
    root = tmp_path / "p.synth.vectors"
    model = root / "model-x"
    model.mkdir(parents=True)
    killed, killed_file = _holder(root, ".cluster-", "sleep")
    exited, exited_file = _holder(model, ".run-", "exit")
    live, live_file = _holder(model, ".run-", "sleep")
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        exited.wait(timeout=30)
        shard = model / "part-0.parquet"
        shard.write_bytes(b"not a scratch file")  # the project's vectors: never touched
        with Project.open(project):
            pass
        assert not killed_file.exists() and not exited_file.exists()
        assert live_file.exists(), "a live process's file was removed"
        assert shard.exists()
        os.kill(live.pid, signal.SIGKILL)
        live.wait(timeout=30)
        assert remove_stale(project) == [live_file] and not live_file.exists()
    finally:
        for proc in (killed, exited, live):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_this_process_keeps_its_own_scratch_files_while_it_holds_them(tmp_path):
    project = tmp_path / "p.synth"
    Project.open(project).close()
    held = ScratchFile(tmp_path / "p.synth.vectors", ".cluster-", ".npy")
    assert remove_stale(project) == [] and held.path.exists()  # a second open in this process: locked out too
    held.close()
    assert not held.path.exists()
    held.close()  # twice: nothing more


# Makes `pyarrow.parquet.write_table` stop half-way through the shard it is asked to write after
# `whole` whole ones, say where on stderr, and wait there to be killed: a writer caught mid-shard.
HALF_WRITTEN = r"""
import io, sys, time
import pyarrow.parquet as pq

real, calls = pq.write_table, []

def half_then_wait(table, where, **kwargs):
    calls.append(where)
    if len(calls) <= WHOLE:
        return real(table, where, **kwargs)
    buffer = io.BytesIO()
    real(table, buffer, **kwargs)
    with open(where, "wb") as fh:
        fh.write(buffer.getvalue()[:len(buffer.getvalue()) // 2])
    print("PARTIAL", where, file=sys.stderr, flush=True)
    time.sleep(600)

pq.write_table = half_then_wait
"""

VECTORS = r"""
import hashlib
import numpy as np

def vectors(n):
    rng = np.random.default_rng(3)
    return {hashlib.sha256(str(i).encode()).hexdigest(): rng.standard_normal(384).astype(np.float32) for i in range(n)}
"""

# Writes `n` vectors beside the project as shards of `rows` (`ray_shards.keep_beside`, as discover
# does past --vectors-beside-above; the Ray engine's workers call the same `write_shard`).
SHARD_WRITER = HALF_WRITTEN + VECTORS + r"""
import synth.ray_shards as shards

project, model, n, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
shards.SHARD_ROWS = rows
shards.keep_beside(project, model, vectors(n))
"""


def _vectors(n: int) -> dict:
    namespace: dict = {}
    exec(VECTORS, namespace)
    return namespace["vectors"](n)


def _caught_mid_shard(script: str, args: list[str], whole: int) -> tuple[subprocess.Popen, Path]:
    """A child running `script`, stopped half-way through its shard after `whole` whole ones; and
    the partial file it is writing."""
    code = script.replace("WHOLE", str(whole))
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
                                 "HF_HUB_OFFLINE": "1"}, start_new_session=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("PARTIAL "):
            return proc, Path(line.split(" ", 1)[1].strip())
    proc.wait()
    raise AssertionError("".join(lines))


def _killed(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=60)


def test_a_killed_shard_writers_partial_file_goes_and_a_live_ones_stays(tmp_path):
    """Two writers caught half-way through a shard: the one SIGKILLed leaves a partial file that no
    reader sees and the next write-open removes; the live one's stays. Its whole shard is reused
    by the re-run, which gives every vector as it was."""
    pytest.importorskip("pyarrow")
    from synth.ray_shards import keep_beside, shard_folder, shard_names, vectors_beside

    project = tmp_path / "p.synth"
    Project.open(project).close()
    vectors = _vectors(100)
    killed, killed_part = _caught_mid_shard(SHARD_WRITER, [str(project), "model-x", "100", "40"], 1)
    live, live_part = _caught_mid_shard(SHARD_WRITER, [str(project), "model-y", "100", "40"], 0)
    try:
        os.kill(killed.pid, signal.SIGKILL)
        _killed(killed)
        folder = shard_folder(project, "model-x")
        assert killed_part.parent == folder and killed_part.name.startswith(".part-") and killed_part.exists()
        assert live_part.parent == shard_folder(project, "model-y") and live_part.exists()
        whole = shard_names(folder)
        assert len(whole) == 1
        mode = (folder / next(iter(whole))).stat().st_mode & 0o777
        umask = os.umask(0o022)
        os.umask(umask)
        assert mode == 0o666 & ~umask  # a shard is an ordinary file, not a private scratch one

        # No reader sees the partial file: the 40 vectors of the whole shard, exactly.
        found = vectors_beside(project, "model-x", set(vectors))
        assert set(found) == set(list(vectors)[:40])
        assert all(np.array_equal(found[d], vectors[d]) for d in found)

        with Project.open(project):
            pass
        assert not killed_part.exists(), "a killed writer's partial shard was left"
        assert live_part.exists(), "a live writer's partial shard was removed"
        assert shard_names(folder) == whole

        # The re-run, as discover's: what the shards hold is reused, the rest written again.
        with Project.open(project, create=False) as opened:
            cached = opened.cached_embeddings("model-x", list(vectors))
        assert set(cached) == set(list(vectors)[:40])
        keep_beside(project, "model-x", {d: v for d, v in vectors.items() if d not in cached})
        assert whole < shard_names(folder)
        with Project.open(project, create=False) as opened:
            again = opened.cached_embeddings("model-x", list(vectors))
        assert set(again) == set(vectors)
        assert all(np.array_equal(again[d], vectors[d]) for d in vectors)
        assert not list(folder.glob(".part-*"))

        os.kill(live.pid, signal.SIGKILL)
        _killed(live)
        assert remove_stale(project) == [live_part] and not live_part.exists()
    finally:
        for proc in (killed, live):
            _killed(proc)


def test_a_shard_that_fails_to_write_leaves_no_partial_file(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from synth.ray_shards import shard_names, write_shard

    def full_disk(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full_disk)
    with pytest.raises(OSError):
        write_shard(tmp_path, _vectors(3))
    assert list(tmp_path.iterdir()) == [] and shard_names(tmp_path) == set()


# `synth discover`, with vector shards of `rows` (`ray_shards.SHARD_ROWS`).
DISCOVER = HALF_WRITTEN + r"""
import synth.ray_shards as shards
from synth.cli import main

shards.SHARD_ROWS = int(sys.argv[1])
sys.argv = ["synth", *sys.argv[2:]]
main()
"""


@pytest.mark.slow
def test_a_discover_killed_mid_shard_is_rerun_from_its_whole_shards(tmp_path, synth, discovered_demo):
    """SIGKILL a discover (vectors beside the project) half-way through writing its second shard:
    the next discover removes the partial file, embeds only what no whole shard holds, and gives
    the themes of a run never interrupted."""
    pytest.importorskip("pyarrow")
    from conftest import DEMO
    from synth.ray_shards import shard_names

    project = tmp_path / "p.synth"
    synth.ok("ingest", project, DEMO)
    with Project.open(project, create=False) as opened:
        digests = {p.text_sha256 for p in opened.passages(codable_only=True)}
    assert len(digests) > 150
    child, partial = _caught_mid_shard(DISCOVER, ["100", "discover", str(project), "--seed", "42",
                                                  "--vectors-beside-above", "50"], 1)
    try:
        os.kill(child.pid, signal.SIGKILL)
    finally:
        _killed(child)
    folder = partial.parent
    whole = shard_names(folder)
    assert partial.exists() and len(whole) == 1

    out = synth.ok("discover", project, "--seed", "42", "--vectors-beside-above", "50")
    assert not partial.exists() and not list(folder.glob(".part-*"))
    assert f"computed {len(digests) - 100} " in out, out  # the whole shard's 100 vectors were reused
    assert whole < shard_names(folder)
    assert _themes(project) == _themes(discovered_demo)


# `synth discover --engine ray`, saying on stderr when clustering's first block map starts (its
# matrices are in their scratch files by then).
KILLED_CHILD = r"""
import sys
from synth.ray_engine import RayEngine

def announced(method):
    def call(self, *args, **kwargs):
        print("STAGE cluster", file=sys.stderr, flush=True)
        return method(self, *args, **kwargs)
    return call

RayEngine.map_blocks = announced(RayEngine.map_blocks)

from synth.cli import main
sys.argv = ["synth", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install 'synth[ray]')")
def test_a_discover_killed_mid_cluster_leaves_files_the_next_one_removes(tmp_path, synth):
    """SIGKILL a `discover --engine ray` while it clusters (nothing can clean up: its `.run-*` and
    `.cluster-*` files stay); the next discover succeeds, removes them, and its themes are those of
    a run never interrupted."""
    import shutil
    import threading
    import time

    from conftest import DEMO
    project, untouched = tmp_path / "p.synth", tmp_path / "q.synth"
    synth.ok("ingest", project, DEMO / "interviews")
    shutil.copyfile(project, untouched)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, "discover", str(project), "--seed", "42",
                              "--engine", "ray", "--ray-workers", "2"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, text=True, start_new_session=True)
    lines: list[str] = []
    clustering = threading.Event()

    def read() -> None:
        for line in child.stderr:
            lines.append(line)
            if line.strip() == "STAGE cluster":
                clustering.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert clustering.wait(900), "".join(lines)  # minutes on a loaded machine: a local cluster starts
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)  # the local cluster it started (it shares the driver's fate anyway)
        except ProcessLookupError:
            pass
        if child.poll() is None:
            child.kill()
            child.wait()
        # The killed run's processes take a moment to go on a loaded machine; until then they are a
        # live holder (of the project's lock too), and the next command rightly waits for them.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                os.killpg(child.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.5)
    root = tmp_path / "p.synth.vectors"
    left = sorted(root.glob(".cluster-*")) + sorted(root.glob("*/.run-*"))
    assert any(p.name.startswith(".cluster-") for p in left) and any(p.name.startswith(".run-") for p in left), \
        sorted(str(p) for p in root.rglob("*"))

    synth.ok("discover", project, "--seed", "42")  # in-process: it reuses the vectors the killed run wrote
    assert not [p for p in left if p.exists()], left
    synth.ok("discover", untouched, "--seed", "42")
    assert _themes(project) == _themes(untouched)


def _themes(path) -> tuple:
    """What a run decides, as the engines' equality test compares it (tests/test_ray_engine.py)."""
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return tuple(db.execute(sql).fetchall() for sql in (
            "SELECT id, label, definition, top_terms, category, status FROM themes ORDER BY id",
            "SELECT passage_id, theme_id, placed, by_human, round(probability, 4) FROM memberships ORDER BY passage_id",
            "SELECT theme_id, passage_id, rank FROM theme_quotes ORDER BY theme_id, rank"))
    finally:
        db.close()
