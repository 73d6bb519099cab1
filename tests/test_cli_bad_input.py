"""Bad input: non-zero exit, one line naming the file and the cause, and the project unchanged."""

from __future__ import annotations

import io
import sqlite3
import zipfile

import pytest
from pypdf import PdfWriter

from conftest import file_digest

GOOD = "Interviewer: What helped?\n\nR: The outreach worker spoke my language and came to the mosque.\n"


def _encrypted_pdf(path):
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret")
    with path.open("wb") as fh:
        writer.write(fh)


def _blank_pdf(path):
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    with path.open("wb") as fh:
        writer.write(fh)


def _corrupt_docx(path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "not a word document")
    path.write_bytes(buffer.getvalue())


CASES = {
    "missing path": (lambda d: d / "absent.txt", "no such file"),
    "unknown extension": (lambda d: _write(d / "slides.pptx", b"PK\x03\x04"), "pptx"),
    "empty file": (lambda d: _write(d / "empty.txt", b""), "empty"),
    "whitespace-only file": (lambda d: _write(d / "blank.md", b"  \n\t\n "), "empty"),
    "corrupt PDF": (lambda d: _write(d / "broken.pdf", b"%PDF-1.4\nthis is not really a pdf"), "pdf"),
    "encrypted PDF": (lambda d: _call(_encrypted_pdf, d / "locked.pdf"), "encrypted"),
    "PDF without text layer": (lambda d: _call(_blank_pdf, d / "scan.pdf"), "OCR"),
    "corrupt DOCX": (lambda d: _call(_corrupt_docx, d / "notes.docx"), "docx"),
    "not UTF-8 nor cp1252": (lambda d: _write(d / "binary.txt", bytes(range(256)) * 4), "binary.txt"),
    "CSV without the named column": (lambda d: _write(d / "answers.csv", b"id,reply\n1,It helped a lot\n"), "answer"),
    "folder with nothing readable": (lambda d: _mkdir_with(d / "stuff", "picture.png", b"\x89PNG"), "stuff"),
}


def _write(path, data):
    path.write_bytes(data)
    return path


def _call(fn, path):
    fn(path)
    return path


def _mkdir_with(folder, name, data):
    folder.mkdir()
    (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def project(tmp_path, synth):
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    path = tmp_path / "review.synth"
    synth.ok("ingest", path, good, "--kind", "interview")
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_and_the_project_is_unchanged(case, tmp_path, synth, project):
    make, expected = CASES[case]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    bad = make(inputs)
    before = file_digest(project)
    extra = ["--text-column", "answer"] if bad.suffix == ".csv" else []
    result = synth("ingest", project, bad, *extra)
    assert result.exit_code != 0
    message = result.output.strip().splitlines()
    assert len(message) == 1, result.output
    assert bad.name in message[0] and expected.lower() in message[0].lower(), message[0]
    assert file_digest(project) == before


def test_bad_file_among_good_ones_writes_nothing(tmp_path, synth, project):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.txt").write_text("A perfectly good report paragraph about employment support.", encoding="utf-8")
    (folder / "b.txt").write_bytes(b"")
    before = file_digest(project)
    result = synth("ingest", project, folder)
    assert result.exit_code != 0 and "b.txt" in result.output
    assert file_digest(project) == before


def test_a_failed_first_ingest_creates_no_project(tmp_path, synth):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = synth("ingest", tmp_path / "new.synth", empty)
    assert result.exit_code != 0
    assert not (tmp_path / "new.synth").exists()


def test_a_file_that_is_not_a_project(tmp_path, synth):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    result = synth("ingest", notes, good)
    assert result.exit_code != 0 and "not a synth project file" in result.output
    assert notes.read_text(encoding="utf-8") == "my notes"


def test_a_project_from_a_newer_schema(tmp_path, synth, project):
    db = sqlite3.connect(project)
    db.execute("PRAGMA user_version = 999")
    db.close()
    before = file_digest(project)
    result = synth("themes", project)
    assert result.exit_code != 0 and "newer synth" in result.output
    assert file_digest(project) == before


def test_cp1252_text_is_read_and_said(tmp_path, synth, project):
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes("The adviser’s café outreach helped – a lot.".encode("cp1252"))
    output = synth.ok("ingest", project, legacy)
    assert "cp1252" in output


def test_a_changed_file_is_a_new_version_and_keeps_human_placements(tmp_path, synth):
    from synth.store import Project

    interview = tmp_path / "interview.txt"
    first = "The mentor at the mosque helped me apply for jobs.\n\nChildcare was the hardest part for me.\n"
    interview.write_text(first, encoding="utf-8")
    path = tmp_path / "r.synth"
    synth.ok("ingest", path, interview, "--kind", "interview")
    with Project.open(path, create=False) as project, project.transaction():
        mentor = next(p for p in project.passages() if "mentor" in p.text)
        theme = project.create_theme(label="Mentoring", status="accepted")
        project.set_membership(mentor.id, theme, probability=1.0, placed=True, by_human=True)
    assert "unchanged, nothing to do" in synth.ok("ingest", path, interview, "--kind", "interview")

    interview.write_text(first + "\nTransport to the business park was a problem.\n", encoding="utf-8")
    assert "(version 2)" in synth.ok("ingest", path, interview, "--kind", "interview")
    with Project.open(path, create=False) as project:
        (source,) = project.sources()
        assert source.version == 2
        current = {p.text: p for p in project.passages()}
        assert "Transport to the business park was a problem." in current
        carried = project.membership(current[mentor.text].id)
        assert carried is not None and carried.theme_id == theme and carried.by_human
        assert len(project.sources(current_only=False)) == 2  # the old version is kept, not overwritten
