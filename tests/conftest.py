"""Shared fixtures: the real CLI, run in-process, against real project files under tmp_path."""

from __future__ import annotations

import hashlib
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


def file_digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
