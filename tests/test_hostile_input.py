"""Hostile and awkward input files, each built here, small: broken quoting and timings, zip bombs, files past
the size limits, links that leave a folder, project files inside a folder, damaged PDFs, awkward tables."""

from __future__ import annotations

import csv
import io
import logging
import os
import time
import warnings
import zipfile
from pathlib import Path

import pytest

from conftest import file_digest
from synth.errors import InputError
from synth.readers import limits, read_paths, read_sources
from synth.readers.tables import _header
from test_readers import error_for, pdf_bytes, read_one, spoken, write, write_docx, write_xlsx

# --- item 4: CSV quoting ------------------------------------------------------------------------------------

def test_an_unterminated_quote_is_refused_with_its_line_not_merged_into_one_answer(tmp_path):
    path = write(tmp_path / "answers.csv", 'id,answer\n1,"It helped a lot\n2,The bus was late\n3,Childcare\n')
    err = error_for([path])
    assert err.path == str(path)
    assert "line 2" in err.cause and "never closed" in err.cause


def test_a_stray_quote_inside_a_quoted_cell_names_the_line(tmp_path):
    path = write(tmp_path / "answers.csv", 'id,answer\n1,"It helped\n2,"The bus",late\n3,Childcare\n')
    err = error_for([path])
    assert "line 3" in err.cause and "starts on line 2" in err.cause


def test_quoted_multi_line_answers_and_mid_cell_quotes_still_read(tmp_path):
    path = write(tmp_path / "answers.csv",
                 'id,answer\n1,"Line one\nline two, with ""quotes"""\n2,He said "fine" twice\n')
    assert [d.text for d in read_paths([path])] == ['Line one\nline two, with "quotes"', 'He said "fine" twice']


# --- item 4: captions ---------------------------------------------------------------------------------------

GOOD_CUE = "00:00:05.000 --> 00:00:06.000\nSam: Thank you.\n"


@pytest.mark.parametrize(("name", "cue", "line", "why"), [
    ("out-of-range.vtt", "WEBVTT\n\n99:99.9 --> 99:99.99\nP1: The buses.\n", 3, "over 59"),
    ("bad-digits.vtt", "WEBVTT\n\n00:00:0x.000 --> 00:00:02.000\nP1: The buses.\n", 3, "not a valid cue timing"),
    ("short-arrow.vtt", "WEBVTT\n\nintro\n00:00:01.000 -> 00:00:02.000\nP1: The buses.\n", 4, "not a valid cue timing"),
    ("backwards.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nP1: The buses.\n", 3, "ends before it starts"),
    ("bad.srt", "1\n00:00:01,000 --> 00:00:0x,000\nP1: The buses.\n", 2, "not a valid cue timing"),
    ("minutes.srt", "1\n00:75:01,000 --> 00:75:02,000\nP1: The buses.\n", 2, "over 59"),
])
def test_a_broken_cue_timing_is_refused_with_its_line(tmp_path, name, cue, line, why):
    path = write(tmp_path / name, cue + "\n" + ("1\n" if name.endswith(".srt") else "") + GOOD_CUE.replace(
        ".", "," if name.endswith(".srt") else "."))
    err = error_for([path])
    assert err.path == str(path) and f"line {line}:" in err.cause and why in err.cause


def test_text_without_a_timing_line_is_kept_and_said(tmp_path):
    srt = ("1\n00:00:01,000 --> 00:00:02,000\nP1: The buses\n\nwere always late.\n\n"
           "2\n00:00:03,000 --> 00:00:04,000\nInterviewer: Why?\n")
    doc = read_one(write(tmp_path / "blank-line.srt", srt))
    assert spoken(doc) == [("P1", "The buses were always late."), ("Interviewer", "Why?")]
    assert any("line 5" in note and "without a timing line" in note for note in doc.notes)


def test_caption_words_sit_at_their_offsets_in_the_transcript(tmp_path):
    vtt = ("WEBVTT\n\nNOTE made by hand\n\nc1\n00:00:01.000 --> 00:00:02.000 align:start\n<v Sam>Hi &amp; welcome.</v>\n\n"
           "00:00:02.000 --> 00:00:03.000\n<v Priya>Transport.</v>\n00:00:03.000 --> 00:00:04.000\nAnd fares.\n")
    doc = read_one(write(tmp_path / "c.vtt", vtt))
    assert spoken(doc) == [("Sam", "Hi & welcome."), ("Priya", "Transport. And fares.")]
    assert doc.notes == ()


# --- item 13: what a reader will inflate or hold -----------------------------------------------------------

def _replace_member(path: Path, name: str, data: bytes) -> Path:
    """Rewrite a real .docx/.xlsx with one member replaced (deflated, as Word and Excel write them)."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = data
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return path


def _paragraphs_xml(paragraph: str, count: int) -> bytes:
    body = f'<w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p>' * count
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f'<w:body>{body}</w:body></w:document>').encode()


def test_a_docx_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    path = write_docx(tmp_path / "bomb.docx", ["placeholder"])
    # 24 MB of the same paragraph deflates to about 50 KB: the shape of the 0.9 MB file that inflated to 300 MB.
    _replace_member(path, "word/document.xml", _paragraphs_xml("Childcare was hard to find. " * 4, 200_000))
    assert path.stat().st_size < 200_000
    started = time.perf_counter()
    err = error_for([path])
    assert time.perf_counter() - started < 5.0  # refused from the zip directory, not after parsing
    assert err.path == str(path) and "word/document.xml" in err.cause and "zip bomb" in err.cause


def test_a_docx_part_past_the_parse_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_PARSED_MEMBER_BYTES", 1024 * 1024)
    path = write_docx(tmp_path / "long.docx", ["placeholder"])
    words = " ".join(os.urandom(4).hex() for _ in range(250_000))  # barely compressible, over 2 MB of XML
    _replace_member(path, "word/document.xml", _paragraphs_xml(words, 1))
    err = error_for([path])
    assert "word/document.xml" in err.cause and "over synth's limit of 1 MB" in err.cause


def test_an_xlsx_sheet_bomb_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "bomb.xlsx", [["id", "answer"], [1, "ok"]])
    row = '<row><c t="inlineStr"><is><t>The same answer again and again</t></is></c></row>'
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main"><sheetData>{row * 300_000}</sheetData></worksheet>').encode()
    _replace_member(path, "xl/worksheets/sheet1.xml", sheet)
    err = error_for([path])
    assert "xl/worksheets/sheet1.xml" in err.cause and "zip bomb" in err.cause


def test_a_real_docx_with_tables_is_well_within_the_limits(tmp_path):
    rows = [[f"Area {i}", f"Advisers in area {i} said childcare and transport mattered most."] for i in range(30)]
    path = write_docx(tmp_path / "report.docx", [f"Paragraph {i} of a long report." for i in range(2000)], table=rows)
    assert "Area 29" in read_one(path).text


def test_text_past_the_character_limit_is_refused_naming_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_SOURCE_CHARS", 1000)
    err = error_for([write(tmp_path / "book.txt", "All work and no play. " * 100)])
    assert err.path.endswith("book.txt") and "limit of 1,000 characters per source" in err.cause
    docx_path = write_docx(tmp_path / "book.docx", ["All work and no play. " * 10] * 10)
    assert "limit of 1,000 characters" in error_for([docx_path]).cause
    pdf = write(tmp_path / "book.pdf", pdf_bytes(["All work and no play. " * 30] * 3))
    assert "limit of 1,000 characters" in error_for([pdf]).cause


def test_a_text_file_too_large_for_the_limit_is_refused_before_it_is_decoded(tmp_path, monkeypatch):
    import synth.readers as readers

    monkeypatch.setattr(limits, "MAX_SOURCE_CHARS", 1000)
    monkeypatch.setattr(readers, "decode_text", lambda *a: pytest.fail("decoded a file already known too large"))
    assert "limit of 1,000 characters" in error_for([write(tmp_path / "huge.srt", "x" * 8000)]).cause


def test_pdf_pages_and_file_size_are_bounded(tmp_path, monkeypatch):
    pdf = write(tmp_path / "pages.pdf", pdf_bytes(["one", "two", "three"]))
    monkeypatch.setattr(limits, "MAX_PDF_PAGES", 2)
    assert "PDF of 3 pages, over synth's limit of 2" in error_for([pdf]).cause
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    err = error_for([write(tmp_path / "big.txt", "x" * 1000)])
    assert "per file" in err.cause


def test_a_table_past_its_character_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TABLE_CHARS", 5000)
    rows = "id,answer\n" + "".join(f"{i},An answer about the buses and childcare\n" for i in range(300))
    assert "characters per table" in error_for([write(tmp_path / "big.csv", rows)]).cause


# --- item 14: links out of a folder ------------------------------------------------------------------------

@pytest.fixture
def linked_folder(tmp_path):
    outside = write(tmp_path / "private" / "passwd.txt", "root:x:0:0:root:/root:/bin/bash secret words here")
    write(tmp_path / "private" / "notes" / "diary.txt", "A diary that is not evidence.")
    folder = tmp_path / "corpus"
    write(folder / "report.txt", "Advisers who speak community languages help people into work.")
    (folder / "passwd.txt").symlink_to(outside)
    (folder / "more").symlink_to(tmp_path / "private" / "notes", target_is_directory=True)
    (folder / "same-report.txt").symlink_to(folder / "report.txt")  # stays inside: followed
    (folder / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    return folder


def test_links_that_leave_the_folder_are_not_followed_and_are_said(linked_folder):
    result = read_sources([linked_folder])
    assert sorted(d.name for d in result.documents) == ["report.txt", "same-report.txt"]
    assert not any("secret" in d.text or "diary" in d.text for d in result.documents)
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(reasons) == {"passwd.txt", "more", "dangling.txt"}
    assert "outside" in reasons["passwd.txt"] and "name the file itself" in reasons["passwd.txt"]
    assert "broken link" in reasons["dangling.txt"]


def test_a_link_named_directly_is_read(linked_folder):
    assert "secret words" in read_one(linked_folder / "passwd.txt").text


def test_ingest_says_which_links_it_did_not_follow(linked_folder, tmp_path, synth):
    output = synth.ok("ingest", tmp_path / "r.synth", linked_folder)
    assert any(line.startswith("skipped ") and "passwd.txt" in line and "outside" in line
               for line in output.splitlines())


# --- item 19: valid tables refused with the wrong cause -----------------------------------------------------

def test_a_200_kb_answer_cell_is_read(tmp_path):
    long_answer = "The bus to the business park is late. " * 5500
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["id", "answer"], ["1", long_answer], ["2", "Short one."]])
    docs = read_paths([write(tmp_path / "long.csv", buffer.getvalue())])
    assert [d.text for d in docs] == [long_answer.strip(), "Short one."]
    assert csv.field_size_limit() == 131072  # the module-wide limit is put back


def test_rows_with_missing_or_extra_cells_keep_the_comma(tmp_path):
    rows = ("id,answer,area,role,extra\n1,Bus fares; night shifts\n2,Childcare\n3,Mentors helped,Leeds,staff\n"
            "4,Outreach at the mosque;and library,Leeds\n5,Interpreters,Bradford,staff,,,\n"
            "6,Language classes,Leeds,staff,,unexpected\n")
    docs = read_paths([write(tmp_path / "ragged.csv", rows)])
    assert [d.text for d in docs] == ["Bus fares; night shifts", "Childcare", "Mentors helped",
                                      "Outreach at the mosque;and library", "Interpreters", "Language classes"]
    assert docs[5].metadata["column_6"] == "unexpected"  # an extra cell is kept, not dropped
    assert any("more cells than the header" in note for note in docs[0].notes)


def test_a_semicolon_table_is_still_recognised(tmp_path):
    rows = "id;answer;area\n1;Bus fares, and night shifts;Leeds\n2;Childcare, mostly;Bradford\n3;Mentors;Leeds\n"
    assert [d.text for d in read_paths([write(tmp_path / "semi.csv", rows)])] == [
        "Bus fares, and night shifts", "Childcare, mostly", "Mentors"]


def test_column_names_are_made_unique_in_linear_time():
    assert _header(["q", "q", "", "q", "q_2"]) == ["q", "q_2", "column_3", "q_3", "q_2_2"]
    names = [f"question {i}" for i in range(100_000)] + ["dup"] * 5000
    started = time.perf_counter()
    header = _header(names)
    assert time.perf_counter() - started < 10.0  # was quadratic: 118 s for 100k columns (about 0.2 s now)
    assert len(set(header)) == len(header) == len(names)


def test_a_table_of_many_columns_lists_a_few_in_its_error(tmp_path):
    row = ",".join(f"q{i}" for i in range(5000))
    err = error_for([write(tmp_path / "wide.csv", f"{row}\n{row}\n")])
    assert "(5,000 in all)" in err.cause and len(err.cause) < 1000


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("truncated.pdf", pdf_bytes(["Findings on the first page", "And the second"])[:600], "not a readable PDF"),
    ("download.pdf", b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>\n", "HTML page"),
])
def test_damaged_pdfs_give_one_error_and_no_pypdf_warnings(tmp_path, caplog, name, data, expected):
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        err = error_for([write(tmp_path / name, data)])
    assert expected in err.cause and "\n" not in str(err)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")] == []
    assert [str(w.message) for w in caught] == []


def test_a_project_saved_inside_the_folder_is_not_a_source(tmp_path, synth):
    folder = tmp_path / "corpus"
    write(folder / "report.txt", "Advisers who speak community languages help people into work.")
    write(folder / "old-review.synth", b"SQLite format 3\x00 another project")
    project = folder / "review.synth"
    output = synth.ok("ingest", project, folder)
    assert "report.txt" in output and "unsupported" not in output
    assert "old-review.synth: a synth project file, not a source" in output
    assert "review.synth:" not in output.replace("old-review.synth:", "")  # its own file: passed over quietly
    write(folder / "later.txt", "Mentors from the community helped with applications.")
    before = file_digest(folder / "old-review.synth")
    output = synth.ok("ingest", project, folder)  # again, with the project (and its -wal) now in the folder
    assert "later.txt" in output and file_digest(folder / "old-review.synth") == before


def test_a_large_sheet_reports_progress_row_by_row(tmp_path):
    from synth.ingest import ingest
    from synth.store import Project

    path = write_xlsx(tmp_path / "big.xlsx", [["id", "answer"]] + [[i, f"Answer number {i} about buses"]
                                                                     for i in range(12_000)])
    seen: dict[str, list[tuple[int, int | None]]] = {}
    with Project.open(tmp_path / "p.synth") as project:
        report = ingest(project, [path], progress=lambda stage, done, total: seen.setdefault(stage, []).append(
            (done, total)))
    assert len(report.added) == 12_000
    rows = seen["rows"]
    assert len(rows) >= 3 and rows[-1] == (12_001, 12_001)  # the header row counts
    assert [done for done, _ in rows] == sorted(done for done, _ in rows)
    assert rows[0][1] == 12_001  # the sheet's size is known from the start
    assert {"files", "segment", "store"} <= set(seen)


def test_xlsx_cells_read_as_the_spreadsheet_shows_them(tmp_path):
    import datetime as dt

    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.create_chartsheet("Chart", 0)  # a chart sheet first: the answers are in the first worksheet
    sheet = workbook["Sheet"]
    sheet["C3"], sheet["D3"], sheet["E3"], sheet["F3"] = "id", "answer", None, "when"  # starts at C3, a blank name
    sheet.append([None, None, 7, "Bus fares", 2.5, dt.datetime(2024, 3, 1)])
    sheet.append([None, None, 8, "Childcare", "=1+1", dt.datetime(2024, 3, 1, 14, 30)])
    path = tmp_path / "offset.xlsx"
    workbook.save(path)
    docs = read_paths([path], id_column="id")
    assert [(d.name, d.text) for d in docs] == [("7", "Bus fares"), ("8", "Childcare")]
    assert docs[0].metadata == {"id": "7", "column_5": "2.5", "when": "2024-03-01"}  # columns count from A
    assert docs[1].metadata == {"id": "8", "when": "2024-03-01T14:30:00"}  # a formula never calculated: no value
    assert docs[0].path.endswith("offset.xlsx#row=1")
