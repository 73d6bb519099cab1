"""Shared fixtures: the real CLI, run in-process, against real project files under tmp_path."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "corpora" / "demo"


class Synth:
    """Runs `synth …` in-process; `ok` asserts success and returns the output."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str | Path):
        from synth.cli import cli

        return self.runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    def ok(self, *args: str | Path) -> str:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result.output


@pytest.fixture
def synth() -> Synth:
    return Synth()


@pytest.fixture(autouse=True)
def _no_relearn_outlives_its_test():
    """A review app driven through httpx's ASGITransport never runs its lifespan, so nothing stops its
    background relearn (synth/review/relearner.py) when the test ends: the thread went on into the next
    test, which had monkeypatched the learning, and failed it on a fresh clone. Each test waits here for
    any relearn it started to end, and fails if one does not."""
    import threading

    yield
    for thread in threading.enumerate():
        if thread.name == "synth-relearn":
            thread.join(timeout=120)
            assert not thread.is_alive(), "a background relearn outlived its test by 120 s"


def file_digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture(scope="module", params=["in-process", pytest.param("ray", marks=pytest.mark.slow)])
def engine(request) -> tuple[str, ...]:
    """`synth discover` options choosing its engine: a test that holds for both runs once with each
    (the Ray engine on a local cluster of two workers; skipped where Ray is not installed)."""
    if request.param == "ray":
        if importlib.util.find_spec("ray") is None:
            pytest.skip("Ray is not installed (pip install 'synth[ray]'); the Ray engine is untested here")
        return ("--engine", "ray", "--ray-workers", "2")
    return ()


# -- shared projects -------------------------------------------------------------------------------

@pytest.fixture
def built(tmp_path: Path):
    """tests/review_fixture.py's small review project (3 suggested themes, 3 unplaced passages): a `Built`."""
    from review_fixture import build_review_project

    return build_review_project(tmp_path / "review.synth")


@pytest.fixture
def project(built):
    """The `built` project, open."""
    from synth.store import Project

    with Project.open(built.path, create=False) as p:
        yield p


def copy_project(path: Path, to: Path) -> Path:
    """A copy of a project file with its -wal and -shm, to change without touching the original."""
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            shutil.copy(f"{path}{suffix}", f"{to}{suffix}")
    return to


@pytest.fixture(scope="session")
def discovered_demo(tmp_path_factory) -> Path:
    """The demo corpus ingested and discovered (seed 42) once per test session. Read it as it is;
    to change it, change a copy (`copy_project`)."""
    path = tmp_path_factory.mktemp("demo") / "demo.synth"
    synth = Synth()
    synth.ok("ingest", path, DEMO)
    synth.ok("discover", path, "--seed", "42")
    return path


@pytest.fixture(scope="session")
def embedder():
    """The bundled model on the CPU, loaded once for every test that embeds text."""
    from synth.embed import Embedder, resolve_model

    return Embedder(resolve_model(), device="cpu")


@pytest.fixture(scope="session")
def prototypes(embedder):
    """The category prototypes embedded with that model."""
    from synth.categorise import PrototypeIndex

    return PrototypeIndex.build(embedder.encode)
