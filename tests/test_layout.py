"""Where code lives (issue 12's design step): SQL only in the store, each CLI command in the module
named after it, the benchmarks as one package whose every documented command runs a module of it."""

from __future__ import annotations

import re

import pytest

from conftest import REPO

SYNTH = REPO / "synth"
# The store (and its cache and migration tables) is the one place that speaks SQL.
SQL_HOMES = {SYNTH / "caches.py", SYNTH / "migrations.py"}
SQL = re.compile(r"\.execute(many|script)?\(|\b(SELECT|INSERT INTO|DELETE FROM)\b [^\n]*\b(FROM|VALUES|WHERE)\b")


def test_sql_lives_only_in_the_store():
    speaking = sorted(str(path.relative_to(REPO)) for path in SYNTH.rglob("*.py")
                      if path not in SQL_HOMES and SYNTH / "store" not in path.parents
                      and SQL.search(path.read_text(encoding="utf-8")))
    assert speaking == [], "SQL outside synth/store/, caches.py and migrations.py"


def test_each_command_lives_in_the_cli_module_named_after_it():
    from synth.cli import cli

    for name, command in cli.commands.items():
        assert command.callback is not None, name
        assert command.callback.__module__ == f"synth.cli.{name.replace('-', '_')}", name


def _documented_benchmarks() -> list[tuple[str, str]]:
    out = []
    for doc in (REPO / "docs" / "benchmarks.md", REPO / "README.md"):
        text = doc.read_text(encoding="utf-8")
        out += [(doc.name, m) for m in re.findall(r"-m benchmarks\.([a-z_]+)\b", text)]
    return out


def test_every_documented_benchmark_command_names_a_module_of_the_package():
    documented = _documented_benchmarks()
    assert len({name for _, name in documented}) >= 15  # the docs quote most of them
    for doc, name in documented:
        assert (REPO / "benchmarks" / f"{name}.py").is_file(), f"{doc} runs benchmarks.{name}, which does not exist"
    for doc in (REPO / "docs" / "benchmarks.md", REPO / "README.md"):
        assert "scripts/bench_" not in doc.read_text(encoding="utf-8"), f"{doc.name} quotes an old script"
    assert not list((REPO / "scripts").glob("bench*.py")), "a benchmark outside the package"


@pytest.mark.parametrize("helper", ["datasets", "corpus", "synthetic", "timing", "machine", "markdown"])
def test_the_benchmarks_share_one_set_of_helpers(helper):
    # Each helper is imported by the benchmarks instead of being written again in them.
    users = [p.name for p in (REPO / "benchmarks").glob("*.py")
             if re.search(rf"from benchmarks(\.{helper})? import [^\n]*\b{helper}\b|from benchmarks\.{helper} import",
                          p.read_text(encoding="utf-8"))]
    assert users, f"no benchmark uses benchmarks.{helper}"


def test_the_benchmarks_are_not_shipped_with_synth():
    import tomllib

    found = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]["find"]
    assert found["include"] == ["synth*"]


BENCHMARKS = sorted(p.stem for p in (REPO / "benchmarks").glob("*.py")
                    if "\nif __name__ == \"__main__\":" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", BENCHMARKS)
def test_each_benchmark_runs_as_a_module_of_the_package(name, monkeypatch, capsys):
    import runpy
    import sys

    monkeypatch.syspath_prepend(str(REPO))
    monkeypatch.setattr(sys, "argv", [f"benchmarks.{name}", "--help"])
    monkeypatch.delitem(sys.modules, f"benchmarks.{name}", raising=False)  # another benchmark may import it
    with pytest.raises(SystemExit) as done:
        runpy.run_module(f"benchmarks.{name}", run_name="__main__")
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_a_benchmark_rewrites_only_its_own_section_of_the_docs(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks.markdown import replace_section, table

    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Speed\n\nold speed\n\n## Categories\n\nkept\n", encoding="utf-8")
    replace_section("Speed", table(["a", "b"], [(1, 2)], align="lr"), docs)
    replace_section("New", "added", docs)
    assert docs.read_text(encoding="utf-8") == (
        "# Benchmarks\n\n## Speed\n\n| a | b |\n|---|---:|\n| 1 | 2 |\n\n## Categories\n\nkept\n\n## New\n\nadded\n")
