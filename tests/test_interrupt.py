"""Ctrl-C during a long `synth discover` leaves the project file exactly as it was, and exits 130.

A real `synth discover` runs in a child process on the demo corpus (a few hundred passages). The
child is the real CLI; the only addition is a line on stderr when a stage starts (clustering also
holds at its first step), so the test can send SIGINT while that stage is running instead of
guessing with a sleep.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import DEMO

pytestmark = pytest.mark.slow

# Runs `synth discover`, announcing on stderr when the passages' embedding (or the clustering) starts.
CHILD = r"""
import sys
import time
import synth.discover as discover
import synth.embed as embed

encode = embed.Embedder.encode
def announced_encode(self, texts, progress=None):
    if len(texts) >= 100:  # the passages, not the handful of category prototypes
        print("STAGE embed", file=sys.stderr, flush=True)
    return encode(self, texts, progress)
embed.Embedder.encode = announced_encode

cluster = discover.cluster_passages
def announced_cluster(*args, **kwargs):
    # Clustering the demo takes a fraction of a second, too short to interrupt by timing: at its
    # first step (neighbour blocks running on threads) the child announces itself and waits there
    # for the test's Ctrl-C.
    inner, held = kwargs.get("progress"), []
    def progress(done, total):
        if not held:
            held.append(True)
            print("STAGE cluster", file=sys.stderr, flush=True)
            time.sleep(60)
        if inner:
            inner(done, total)
    return cluster(*args, **{**kwargs, "progress": progress})
discover.cluster_passages = announced_cluster

from synth.cli import main
sys.argv = ["synth", *sys.argv[1:]]
main()
"""


def snapshot(project: Path) -> dict[str, str | None]:
    """The project file and its SQLite companions, byte for byte."""
    out = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(str(project) + suffix)
        out[suffix or "db"] = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    return out


def run_and_interrupt(project: Path, stage: str, *, delay: float = 1.0, timeout: float = 300,
                      options: tuple[str, ...] = ()) -> tuple[int, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, "discover", str(project), *options], stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env, text=True)
    stderr: list[str] = []
    started = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            stderr.append(line)
            if line.strip() == f"STAGE {stage}":
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not started.wait(timeout):
            raise AssertionError(f"discover never reached {stage!r}; stderr:\n{''.join(stderr)}")
        time.sleep(delay)  # well inside the stage: model loaded, batches running
        assert proc.poll() is None, f"discover finished before the interrupt; stderr:\n{''.join(stderr)}"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    return proc.returncode, "".join(stderr)


@pytest.fixture
def demo_project(tmp_path, synth) -> Path:
    project = tmp_path / "review.synth"
    synth.ok("ingest", project, DEMO)
    return project


@pytest.mark.parametrize("stage", ["embed", "cluster"])
def test_ctrl_c_during_discover_leaves_the_project_as_it_was(demo_project, stage):
    before = snapshot(demo_project)
    # Embedding runs on PyTorch here: the onnx route embeds the demo corpus in about a second,
    # too short a window to interrupt reliably. The commit guard does not depend on the route.
    options = ("--embedder", "pytorch") if stage == "embed" else ()
    code, stderr = run_and_interrupt(demo_project, stage, delay=1.0 if stage == "embed" else 0.2, options=options)
    assert code == 130, stderr
    assert "Interrupted: the project is as it was before this command." in stderr
    assert "Traceback" not in stderr
    assert snapshot(demo_project) == before


def test_ctrl_c_on_a_second_run_keeps_the_first_runs_themes(demo_project, synth):
    synth.ok("discover", demo_project)
    themes = synth.ok("themes", demo_project, "--json")
    before = snapshot(demo_project)
    # --recluster: with nothing new, a second run would extend the stored themes without clustering.
    code, stderr = run_and_interrupt(demo_project, "cluster", delay=0.2, options=("--recluster",))
    assert code == 130, stderr
    assert snapshot(demo_project) == before
    assert synth.ok("themes", demo_project, "--json") == themes
