"""Every command documents itself with an example, and the README lists every command."""

from __future__ import annotations

import re

import click
import pytest

from conftest import REPO
from synth.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        yield path, command


ALL = list(_commands(cli))


def test_top_level_help_has_examples(synth):
    assert "Examples:" in synth.ok("--help")


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=[" ".join(p) for p, _ in ALL])
def test_every_command_has_help_with_an_example(path, synth):
    output = synth.ok(*path, "--help")
    assert "Example" in output, f"`synth {' '.join(path)} --help` shows no example"
    assert f"synth {path[0]}" in output.split("Example", 1)[1]


def test_readme_mentions_every_top_level_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"synth {name}" in readme, name


def test_readme_test_command_is_what_ci_runs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci


def test_readme_command_table_names_every_option():
    """The README's table of commands is the reference a user reads: every option a command takes
    (its long name) is in that command's rows, so the table and `--help` cannot drift apart."""
    rows = [line for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| `synth ")]
    missing = []
    for path, command in ALL:
        text = " ".join(row for row in rows if row.startswith(f"| `synth {path[0]}"))
        for param in command.params:
            if not isinstance(param, click.Option) or "--help" in param.opts:
                continue
            if not any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text) for o in param.opts):
                missing.append(f"synth {' '.join(path)} {param.opts[-1]}")
    assert missing == [], f"options missing from the README's table of commands: {missing}"
