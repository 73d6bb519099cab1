"""Terminal-safe output: escape sequences and newlines in file names, labels, memos and reviewer names are
printed escaped by every command, so no file or project can forge output lines or drive the terminal."""

from __future__ import annotations

import json
import re

import pytest

from export_fixture import build_review_project
from synth.cli.display import shown, shown_json, shown_text
from synth.store import Project

# Clears the screen, sets a window title, hides text, makes a link; a newline and a carriage return that
# start forged lines; a bidirectional override that reverses what follows.
HOSTILE = "\x1b[2J\x1b]0;owned\x07\x1b[8mhidden\x1b]8;;http://evil.example\x07link\x1b]8;;\x07\nadded FORGED\rFORGED\u202eeulav"
HOSTILE_NAME = HOSTILE.replace("http://", "")  # a file name holds no "/"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_clean(output: str) -> None:
    assert not RAW.search(output), repr(output)
    assert not any(line.startswith(("added FORGED", "FORGED")) for line in output.splitlines()), output


def test_shown_escapes_controls_newlines_and_reordering():
    assert shown("Bus fares\n99 FORGED\x1b[31m\u202e\t") == "Bus fares\\n99 FORGED\\x1b[31m\\u202e\\t"
    assert shown("Café — 👩‍👩‍👧 ordinary text stays as it is") == "Café — 👩‍👩‍👧 ordinary text stays as it is"
    assert shown_text("[red]not markup[/red]").plain == "[red]not markup[/red]"
    dumped = json.dumps({"label": "a\x9bb\u202ec\nd"}, ensure_ascii=False)
    assert json.loads(shown_json(dumped)) == {"label": "a\x9bb\u202ec\nd"} and not RAW.search(shown_json(dumped))


def test_ingest_prints_hostile_file_names_escaped(tmp_path, synth):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / f"notes{HOSTILE_NAME}.txt").write_text("Advisers who speak Urdu helped me apply.", encoding="utf-8")
    output = synth.ok("ingest", tmp_path / "r.synth", folder)
    assert_clean(output)
    assert "\\x1b[2J" in output and "\\nadded FORGED" in output


def test_ingest_says_how_many_rows_of_a_table_a_note_is_about(tmp_path, synth):
    """The trial of a second review: "note: no codable passage …" under a 1,500-row table did not say
    whether it meant one answer or all of them."""
    table = tmp_path / "answers.csv"
    rows = ["The adviser at the community centre spoke my language and helped me apply.",
            "Ok", "Buses into town stop at six, so evening shifts are out of reach for me.", "-", "Yes"]
    table.write_text("id,answer\n" + "".join(f"{i},{text}\n" for i, text in enumerate(rows, 1)), encoding="utf-8")
    output = synth.ok("ingest", tmp_path / "r.synth", table)
    assert "5 rows as sources" in output
    assert "note (3 of 5 rows: answers.csv#2, answers.csv#4, answers.csv#5): no codable passage" in output
    table.write_text("id,answer\n1,Ok\n2,-\n", encoding="utf-8")
    output = synth.ok("ingest", tmp_path / "s.synth", table)
    assert "  note: no codable passage" in output  # every row: no count needed


def test_errors_print_hostile_names_escaped(tmp_path, synth):
    bad = tmp_path / f"empty{HOSTILE_NAME}.txt"
    bad.write_bytes(b"")
    result = synth("ingest", tmp_path / "r.synth", bad)
    assert result.exit_code == 1
    assert_clean(result.output)
    assert len(result.output.strip().splitlines()) == 1


@pytest.fixture
def hostile_project(tmp_path):
    built = build_review_project(tmp_path / "review.synth")
    with Project.open(built.path, create=False) as project, project.transaction():
        # A project file is as hostile as any source: labels may hold anything (codebook imports, other tools).
        project.update_theme(built.theme_ids["Language barriers"], label=f"Language{HOSTILE}")
    return built


def test_themes_and_theme_actions_print_labels_escaped(hostile_project, synth):
    path = hostile_project.path
    output = synth.ok("themes", path)
    assert_clean(output)
    assert "Language" in output
    as_json = synth.ok("themes", path, "--json")
    assert_clean(as_json)
    assert any(t["label"] == f"Language{HOSTILE}" for t in json.loads(as_json))  # the value itself is intact
    tid = hostile_project.theme_ids["Language barriers"]
    assert_clean(synth.ok("theme", "define", path, str(tid), "About English.", "--reviewer", f"ana{HOSTILE}"))


def test_log_prints_memos_and_reviewers_escaped(hostile_project, synth):
    path = hostile_project.path
    tid = hostile_project.theme_ids["Childcare"]
    assert_clean(synth.ok("theme", "memo", path, f"Check{HOSTILE}", "--theme", str(tid), "--reviewer", f"bo{HOSTILE}"))
    output = synth.ok("log", path)
    assert_clean(output)
    assert "Check\\x1b[2J" in output
    as_json = synth.ok("log", path, "--json")
    assert_clean(as_json)
    assert any(d["reviewer"] == f"bo{HOSTILE}" for d in json.loads(as_json))
