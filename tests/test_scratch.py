"""Scratch files a killed run left beside the project (`PROJECT.vectors/.cluster-*`, `.run-*`) are
removed by the next command that opens the project to write, and only those: a file a live process
holds (another run, of this project or of a copy) is never touched."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

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
