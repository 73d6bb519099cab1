"""Bad input that a review's commands met when tried one by one (a source that is not there, a minimum
theme size larger than the project, output piped into `head`), and the commands that only read while
another command writes the project: one clear line or none, never a traceback, and the project unchanged."""

from __future__ import annotations

import subprocess
import pytest

from conftest import file_digest
from review_fixture import CORPUS
from test_project_file import CLI, ENV, snapshot

fcntl = pytest.importorskip("fcntl")  # the lock is flock(2) on POSIX


def _one_line(result, *words: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_structure_of_a_source_that_is_not_there_is_an_error(built, synth):
    # It listed "no passage is structure in nosuch.txt" and exited 0, as if the source had none.
    before = snapshot(built.path)
    _one_line(synth("passage", "structure", built.path, "--source", "nosuch.txt"), "nosuch.txt", "not in")
    assert snapshot(built.path) == before
    listed = synth.ok("passage", "structure", built.path, "--source", next(iter(built.sources)))
    assert "not in" not in listed


def test_a_minimum_theme_size_larger_than_the_project_is_refused(tmp_path, synth):
    # It ran, kept every old theme as an empty suggestion and reported "21 themes" for a partition of 2.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, paragraphs in CORPUS.items():
        (corpus / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    project = tmp_path / "p.synth"
    synth.ok("ingest", project, corpus, "--kind", "interview")
    before = file_digest(project)
    _one_line(synth("discover", project, "--min-theme-size", "1000"), "1000", "18 codable passages", "at most 18")
    assert file_digest(project) == before


def test_output_into_a_closed_pipe_says_nothing(built):
    # `synth passage structure P | head -1` printed "Error: Broken pipe" once head had gone.
    proc = subprocess.Popen([*CLI, "log", str(built.path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ENV, text=True)
    proc.stdout.close()  # the reader is gone before the command writes its first line
    _, err = proc.communicate(timeout=300)
    assert err == "", err


def test_commands_that_only_read_do_not_wait_for_a_writer(built, synth):
    synth.ok("validate", built.path, "--sample", "5", "--reviewer", "ana")
    with open(f"{built.path}.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        before = snapshot(built.path)
        # Each said "another synth command is writing this project" although none of them writes.
        assert "passages match" in synth.ok("search", built.path, "staff")
        assert "validation sample 1" in synth.ok("validate", built.path, "--report")
        assert "item 1 (1 of 5)" in synth.ok("validate", built.path, "--next", "--reviewer", "ana")
        assert "review scope" in synth.ok("scope", built.path, "--show")
        # A command that writes still stops at once, and says why.
        _one_line(synth("scope", built.path, "--kind", "interview"), "another synth command is writing")
        _one_line(synth("validate", built.path, "--sample", "3"), "another synth command is writing")
        assert snapshot(built.path) == before


def test_review_on_a_port_in_use_says_so_in_one_line(built, synth):
    # It printed "Reviewing … at http://127.0.0.1:PORT/" (not true) and then uvicorn's own ERROR line, exit 3.
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = snapshot(built.path)
        _one_line(synth("review", built.path, "--port", str(port), "--no-browser"), f"127.0.0.1:{port}", "in use")
        assert snapshot(built.path) == before


@pytest.mark.parametrize("args", [("theme", "rename", "{P}", "{T}", "Staff\x00ing"),
                                  ("theme", "create", "{P}", "--label", "Staff\x00ing", "--passages", "{A}"),
                                  ("theme", "memo", "{P}", "--theme", "{T}", "see\x00page 4")],
                         ids=["rename", "create", "memo"])
def test_a_nul_character_in_a_label_or_memo_is_refused(built, synth, args):
    # A NUL was stored in the label ('Staff\x00ing'), which cuts it short in REFI-QDA packages and spreadsheets.
    values = {"{P}": str(built.path), "{T}": str(built.themes["A"]), "{A}": str(built.passages["A1"][0])}
    before = snapshot(built.path)
    _one_line(synth(*(values.get(a, a) for a in args)), "NUL character")
    assert snapshot(built.path) == before


@pytest.mark.parametrize("args", [("theme", "split", "{P}", "{T}"), ("log", "{P}", "extra"), ("bogus",),
                                  ("export", "{P}", "assignments", "-o", "{DIR}"), ("theme", "accept")],
                         ids=["split without -k", "extra argument", "no such command", "output is a folder",
                              "missing argument"])
def test_a_mistyped_command_line_is_one_line(built, synth, tmp_path, args):
    # Click printed the usage, a hint and a blank line before the error: four lines.
    values = {"{P}": str(built.path), "{T}": str(built.themes["A"]), "{DIR}": str(tmp_path)}
    before = snapshot(built.path)
    result = synth(*(values.get(a, a) for a in args))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "--help" in lines[0], result.output
    assert snapshot(built.path) == before
