"""Readers on real files written to tmp_path (and on the demo corpus): formats, kinds, turns, manifests, errors."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from pathlib import Path

import docx
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from synth.errors import InputError
from synth.readers import SUPPORTED_EXTENSIONS, read_paths
from synth.readers.decoding import CP1252_NOTE
from synth.readers.subtitles import Segment, captions_to_transcript
from synth.readers.transcript import find_turns, is_interviewer, looks_like_transcript, speaker_from_label
from synth.records import ExtractedDocument

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "corpora" / "demo"
SEEDS = REPO.parent / "shared" / "seeds"

INTERVIEW = """Interview 7, community centre, notes typed up afterwards.

Interviewer: Thanks for coming. What stops people getting work here?

Respondent: Mostly English, and childcare.
Some people also don't trust the jobcentre.

Interviewer: What helps?

Respondent: Advisers who speak Urdu. And a crèche.
"""

LITERATURE_WITH_NOTES = """Barriers to employment for ethnic minority groups

The employment gap is largest for Pakistani and Bangladeshi women.
Note: figures are for working-age adults in 2017.

Table 1 shows employment rates by ethnic group.
Source: Labour Force Survey.
Note: small sample sizes for some groups.

Providers reported that childcare costs were a barrier.
Note: see chapter 4 for childcare.
Source: provider interviews.

Key findings: advisers who speak community languages help.
Summary: outreach in community venues reaches more women.
"""


# --- builders: real files of every format -----------------------------------------------------------------

def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def pdf_bytes(pages: list[str]) -> bytes:
    """A minimal but valid PDF (Helvetica text, one content stream a page), built by hand: pypdf cannot author text."""
    def escape(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, text in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td", *(f"({escape(line)}) Tj T*" for line in text.split("\n")), "ET"]
        stream = "\n".join(ops).encode("cp1252")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def encrypted_pdf_bytes(user_password: str, owner_password: str | None = None) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Confidential findings"]))))
    writer.encrypt(user_password, owner_password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def blank_pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
        document.add_paragraph("After the table.")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return write(path, buffer.getvalue().encode(encoding))


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Codebook").append(["code", "meaning"])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def read_one(path: Path, **kwargs) -> ExtractedDocument:
    docs = read_paths([path], **kwargs)
    assert len(docs) == 1
    return docs[0]


def spoken(doc: ExtractedDocument) -> list[tuple[str, str]]:
    return [(t.speaker, doc.text[t.start_char:t.end_char]) for t in doc.turns]


def error_for(paths: list[Path], **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        read_paths(paths, **kwargs)
    return info.value


# --- plain text -------------------------------------------------------------------------------------------

def test_txt_is_read_verbatim_with_hash_of_the_bytes(tmp_path):
    data = "Línea uno\r\n  indented  line\r\n\r\nLast\n".encode()
    path = write(tmp_path / "notes.txt", data)
    doc = read_one(path)
    assert doc.text == data.decode("utf-8")  # CRLF and inner whitespace kept: offsets refer to this text
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.path == str(path.resolve())
    assert doc.name == "notes.txt"
    assert doc.kind == "literature"
    assert doc.notes == () and doc.turns == ()


def test_utf8_bom_is_stripped_but_hash_is_of_the_file(tmp_path):
    data = b"\xef\xbb\xbf# Findings\n\nText."
    doc = read_one(write(tmp_path / "report.md", data))
    assert doc.text == "# Findings\n\nText."
    assert doc.sha256 == hashlib.sha256(data).hexdigest()


def test_cp1252_file_is_decoded_with_a_note(tmp_path):
    data = "Caf\u00e9 \u2013 \u201cquoted\u201d".encode("cp1252")
    doc = read_one(write(tmp_path / "legacy.txt", data))
    assert doc.text == "Caf\u00e9 \u2013 \u201cquoted\u201d"
    assert doc.notes == (CP1252_NOTE,)


def test_utf16_file_with_bom_is_decoded(tmp_path):
    doc = read_one(write(tmp_path / "notepad.txt", "Hello wörld".encode("utf-16")))
    assert doc.text == "Hello wörld"
    assert any("UTF-16" in note for note in doc.notes)


# --- transcripts ------------------------------------------------------------------------------------------

def test_speaker_labelled_txt_is_an_interview_with_turns(tmp_path):
    doc = read_one(write(tmp_path / "int7.txt", INTERVIEW))
    assert doc.kind == "interview"
    assert spoken(doc) == [
        ("Interviewer", "Thanks for coming. What stops people getting work here?"),
        ("Respondent", "Mostly English, and childcare.\nSome people also don't trust the jobcentre."),
        ("Interviewer", "What helps?"),
        ("Respondent", "Advisers who speak Urdu. And a crèche."),
    ]
    assert [t.is_interviewer for t in doc.turns] == [True, False, True, False]


@pytest.mark.parametrize(("interviewer", "respondent"), [
    ("I", "R"), ("Q", "A"), ("Int", "P12"), ("Moderator", "Participant 3"), ("Facilitator", "Amina Begum"),
    ("Researcher", "Respondent 2"), ("INTERVIEWER", "P1"),
])
def test_label_styles(interviewer, respondent):
    text = "".join(f"{interviewer}: Question {i}?\n{respondent}: Answer {i}.\n" for i in range(3))
    assert looks_like_transcript(text)
    turns = find_turns(text)
    assert [(t.speaker, text[t.start_char:t.end_char], t.is_interviewer) for t in turns[:2]] == [
        (interviewer, "Question 0?", True), (respondent, "Answer 0.", False)]
    assert len(turns) == 6


@pytest.mark.parametrize(("label", "speaker", "asks"), [
    ("Interviewer", "Interviewer", True), ("Interviewer B", "Interviewer B", True), ("Int", "Int", True),
    ("Moderator 2", "Moderator 2", True), ("I", "I", True), ("Q", "Q", True), ("R", "R", False),
    ("Speaker1", "Speaker1", False), ("Respondent #2", "Respondent #2", False), ("P12", "P12", False),
    ("Dr. Shah", "Dr. Shah", False), ("Mohammed al Rashid", "Mohammed al Rashid", False),
    ("Sarah (work coach)", "Sarah (work coach)", False),
    ("Note", None, False), ("Source", None, False), ("Key findings", None, False), ("Participants", None, False),
    ("Researchers", None, False), ("The results", None, False), ("Table 3", None, False), ("p1", None, False),
])
def test_which_labels_name_speakers(label, speaker, asks):
    assert speaker_from_label(label) == speaker
    if speaker:
        assert is_interviewer(speaker) is asks


def test_markdown_bold_and_timestamped_labels():
    text = ("**Interviewer:** How did you hear about it?\n\n**P1:** From my cousin.\n\n"
            "[00:01:02] Interviewer: And then?\n\n[00:01:09] P1: I went to the mosque session.\n")
    assert [(t.speaker, text[t.start_char:t.end_char]) for t in find_turns(text)] == [
        ("Interviewer", "How did you hear about it?"), ("P1", "From my cousin."),
        ("Interviewer", "And then?"), ("P1", "I went to the mosque session.")]


def test_literature_with_note_and_heading_colons_is_not_a_transcript(tmp_path):
    assert not looks_like_transcript(LITERATURE_WITH_NOTES)
    assert find_turns(LITERATURE_WITH_NOTES) == ()  # Note:, Source:, Key findings:, Summary: are no speakers
    doc = read_one(write(tmp_path / "review.txt", LITERATURE_WITH_NOTES))
    assert doc.kind == "literature" and doc.turns == ()


def test_structured_abstract_headings_are_not_a_transcript():
    text = ("Background: Employment gaps persist.\n\nAims: To find what works.\n\n"
            "Design: Qualitative interviews.\n\nConclusions: Outreach helps.\n")
    assert not looks_like_transcript(text)


def test_report_quoting_a_few_interview_lines_is_not_a_transcript():
    prose = "\n\n".join(f"Paragraph {i} of the report discusses outreach in community venues." for i in range(12))
    quotes = "\n\nP1: I felt welcome at the centre.\n\nP2: The crèche made it possible.\n\n"
    assert not looks_like_transcript(prose + quotes + "P1: Yes.\n\nP2: Also yes.\n\n" + prose)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared seeds not available")
def test_real_dwp_publications_are_not_transcripts():
    for seed in sorted(SEEDS.glob("*.txt")):
        assert not looks_like_transcript(seed.read_text(encoding="utf-8")), seed.name


def test_kind_interview_forces_turn_detection_on_a_short_exchange(tmp_path):
    path = write(tmp_path / "clip.txt", "Amina: I found the course through my sister.\n")
    assert read_one(path).kind == "literature"
    doc = read_one(path, kind="interview")
    assert doc.kind == "interview"
    assert spoken(doc) == [("Amina", "I found the course through my sister.")]


@pytest.mark.parametrize("text", [
    # one question, one answer (issue 13's proxy: a respondent who answered once)
    "Interviewer: Which causes do the critical problems have?\n\nRespondent: Requirements change too late.\n",
    "Q: What made it harder?\nA: The bus stopped running before my shift ended.\n",
    # a focus group where each participant speaks once
    "Facilitator: Tell us about the ward.\n\nParticipant 1: The nurses were kind.\n\n"
    "Participant 2: Food was cold.\n\nParticipant 3: Parking cost too much.\n",
])
def test_one_exchange_labelled_by_role_is_a_transcript(tmp_path, text):
    """Before issue 13's fix these were literature: the question became a codable passage, and the
    same question in many such files became a theme of its own."""
    assert looks_like_transcript(text)
    doc = read_one(write(tmp_path / "short.txt", text))
    assert doc.kind == "interview"
    assert doc.turns[0].is_interviewer and not any(t.is_interviewer for t in doc.turns[1:])


@pytest.mark.parametrize("text", [
    "Amina: I found the course through my sister.\n\nBilal: Me too.\n",  # names, no interviewer
    "Respondent: Childcare.\n\nParticipant 2: Buses.\n",  # roles, but nobody asks
])
def test_one_exchange_without_an_interviewer_role_stays_literature(text):
    assert not looks_like_transcript(text)


def test_report_quoting_one_role_labelled_exchange_is_not_a_transcript():
    prose = "\n\n".join(f"Paragraph {i} of the report discusses outreach in community venues." for i in range(8))
    exchange = "\n\nInterviewer: What helped?\n\nRespondent: The crèche.\n\n"
    assert not looks_like_transcript(prose + exchange + prose)


def test_interview_without_labels_gets_a_note(tmp_path):
    doc = read_one(write(tmp_path / "summary.txt", "We talked about childcare and buses."), kind="interview")
    assert doc.turns == ()
    assert any("no speaker labels" in note for note in doc.notes)


def test_interviewer_named_in_metadata(tmp_path):
    text = "".join(f"Sam Okafor: Question {i}?\nDaniel Mensah: Answer {i}.\n" for i in range(3))
    doc = read_one(write(tmp_path / "named.txt", text), metadata={"interviewer": "Sam Okafor"})
    assert doc.kind == "interview"
    assert {(t.speaker, t.is_interviewer) for t in doc.turns} == {("Sam Okafor", True), ("Daniel Mensah", False)}


labels = st.sampled_from(["Interviewer", "I", "R", "P1", "P12", "Respondent", "Participant 3", "Amina Begum"])
line_breaks = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
words = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=line_breaks),
                min_size=1).filter(lambda s: s.strip())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(labels, words), min_size=1, max_size=8))
def test_turns_recover_exactly_what_each_speaker_said(exchange):
    text = "".join(f"{label}: {said}\n\n" for label, said in exchange)
    turns = find_turns(text)
    expected = [(label, said.strip()) for label, said in exchange]
    assert [(t.speaker, text[t.start_char:t.end_char]) for t in turns] == expected


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_turns_are_ordered_trimmed_spans_of_any_text(text):
    last_end = 0
    for turn in find_turns(text):
        assert last_end <= turn.start_char < turn.end_char <= len(text)
        said = text[turn.start_char:turn.end_char]
        assert said == said.strip() and said
        last_end = turn.end_char


# --- captions ---------------------------------------------------------------------------------------------

VTT = """WEBVTT

NOTE recorded on Teams

1
00:00:01.000 --> 00:00:04.000
<v Sam Okafor>Thanks for joining. What barriers do you see?</v>

2
00:00:04.500 --> 00:00:07.000
<v.loud Priya Shah>Mostly transport, &amp; the bus fares.</v>

3
00:00:07.200 --> 00:00:09.000 align:start
<v Priya Shah>And <i>childcare</i>,
of course.</v>

00:00:09.500 --> 00:00:11.000
<v Sam Okafor>Thank you.</v>
"""


def test_vtt_voices_become_merged_turns(tmp_path):
    doc = read_one(write(tmp_path / "call.vtt", VTT), metadata={"interviewer": "Sam Okafor"})
    assert doc.kind == "interview"
    assert doc.text == ("Sam Okafor: Thanks for joining. What barriers do you see?\n\n"
                        "Priya Shah: Mostly transport, & the bus fares. And childcare, of course.\n\n"
                        "Sam Okafor: Thank you.")
    assert spoken(doc) == [("Sam Okafor", "Thanks for joining. What barriers do you see?"),
                           ("Priya Shah", "Mostly transport, & the bus fares. And childcare, of course."),
                           ("Sam Okafor", "Thank you.")]
    assert [t.is_interviewer for t in doc.turns] == [True, False, True]
    assert doc.sha256 == hashlib.sha256(VTT.encode()).hexdigest()


def test_srt_with_name_prefixes(tmp_path):
    srt = ("1\r\n00:00:01,000 --> 00:00:03,000\r\nInterviewer: How did you find the course?\r\n\r\n"
           "2\r\n00:00:03,500 --> 00:00:06,000\r\nP1: Useful.\r\n\r\n"
           "3\r\n00:00:06,500 --> 00:00:08,000\r\nThe English was about jobs.\r\n")
    doc = read_one(write(tmp_path / "focus.srt", srt))
    assert doc.kind == "interview"
    assert spoken(doc) == [("Interviewer", "How did you find the course?"),
                           ("P1", "Useful. The English was about jobs.")]
    assert doc.turns[0].is_interviewer and not doc.turns[1].is_interviewer


def test_captions_without_speakers_keep_text_and_say_so(tmp_path):
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nFirst line.\n\n00:00:02.000 --> 00:00:03.000\nSecond line.\n"
    doc = read_one(write(tmp_path / "anon.vtt", vtt))
    assert doc.text == "First line.\n\nSecond line."
    assert doc.turns == () and any("no speaker labels" in n for n in doc.notes)


def test_vtt_without_cues_is_an_error(tmp_path):
    path = write(tmp_path / "broken.vtt", "WEBVTT\n\nJust some text without timings.\n")
    assert "no caption cues" in error_for([path]).cause


segments = st.lists(st.builds(Segment, st.just("00:00:01.000"), st.sampled_from([None, "A B", "Sam", "P1"]),
                              st.text(min_size=1).map(lambda s: " ".join(s.split())).filter(bool)), max_size=10)


@settings(max_examples=150, deadline=None)
@given(segments)
def test_caption_turns_point_at_their_words(segs):
    text, turns = captions_to_transcript(segs)
    for start, end, speaker in turns:
        assert text[start - len(speaker) - 2:start] == f"{speaker}: "
        assert text[start:end] and text[start:end] == text[start:end].strip()
    # Nothing lost or added but the "Name:" labels.
    assert len(text.split()) == sum(len(s.words.split()) for s in segs) + sum(len(who.split()) for *_, who in turns)


# --- docx and pdf -----------------------------------------------------------------------------------------

def test_docx_paragraphs_and_table_cells_in_order(tmp_path):
    path = write_docx(tmp_path / "brief.docx", ["Title of the brief", "", "First paragraph."],
                      table=[["Area", "Eastvale"], ["Role", "Work coach"]])
    doc = read_one(path)
    assert doc.text == ("Title of the brief\n\nFirst paragraph.\n\n"
                        "Area\n\nEastvale\n\nRole\n\nWork coach\n\nAfter the table.")
    assert doc.kind == "literature"
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_docx_transcript_is_an_interview(tmp_path):
    path = write_docx(tmp_path / "t.docx", [line for line in INTERVIEW.splitlines() if line])
    doc = read_one(path)
    assert doc.kind == "interview"
    assert spoken(doc) == [
        ("Interviewer", "Thanks for coming. What stops people getting work here?"),
        ("Respondent", "Mostly English, and childcare.\n\nSome people also don't trust the jobcentre."),
        ("Interviewer", "What helps?"),
        ("Respondent", "Advisers who speak Urdu. And a crèche."),
    ]


def test_pdf_pages_joined_with_blank_line(tmp_path):
    pages = ["Barriers to work (page one)\nLanguage and childcare \u2013 caf\u00e9", "Enablers on page two"]
    path = write(tmp_path / "report.pdf", pdf_bytes(pages))
    doc = read_one(path)
    first, second = doc.text.split("\n\n", 1)
    assert "Barriers to work (page one)" in first and "caf\u00e9" in first
    assert second.strip() == "Enablers on page two"
    assert doc.kind == "literature"
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_pdf_with_owner_password_only_is_readable(tmp_path):
    doc = read_one(write(tmp_path / "locked-for-editing.pdf", encrypted_pdf_bytes("", "owner")))
    assert "Confidential findings" in doc.text


def test_encrypted_pdf_is_an_error(tmp_path):
    path = write(tmp_path / "secret.pdf", encrypted_pdf_bytes("secret"))
    err = error_for([path])
    assert err.path == str(path) and "encrypted" in err.cause


def test_pdf_without_text_layer_needs_ocr(tmp_path):
    err = error_for([write(tmp_path / "scan.pdf", blank_pdf_bytes())])
    assert "no text layer: it needs OCR first" in err.cause


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n", "not a readable PDF"),
    ("broken.docx", b"PK\x03\x04 definitely not a zip archive", "not a readable .docx"),
    ("renamed.docx", b"Plain text saved with the wrong extension.", "not a readable .docx"),
    ("broken.xlsx", b"PK\x03\x04 nope", "not a readable .xlsx"),
])
def test_corrupt_binary_formats(tmp_path, name, data, expected):
    path = write(tmp_path / name, data)
    err = error_for([path])
    assert err.path == str(path) and expected in err.cause


# --- tables -----------------------------------------------------------------------------------------------

SURVEY = [["respondent_id", "Question", "Answer", "area"],
          ["S1", "What helped?", "The crèche, and a mentor", "Northbridge"],
          ["S2", "What helped?", "   ", "Eastvale"],
          ["S3", "What made it harder?", "Bus fares; night shifts", ""]]


def test_csv_rows_become_documents(tmp_path):
    path = write_csv(tmp_path / "survey.csv", SURVEY)
    docs = read_paths([path])
    assert [d.text for d in docs] == ["The crèche, and a mentor", "Bus fares; night shifts"]
    assert [d.name for d in docs] == ["survey.csv#1", "survey.csv#3"]
    assert [d.path for d in docs] == [f"{path.resolve()}#row=1", f"{path.resolve()}#row=3"]
    assert {d.kind for d in docs} == {"survey"}
    assert docs[0].metadata == {"respondent_id": "S1", "Question": "What helped?", "area": "Northbridge"}
    assert docs[1].metadata == {"respondent_id": "S3", "Question": "What made it harder?"}  # empty cell skipped
    assert any("1 row(s)" in note and "empty" in note for note in docs[0].notes)
    assert docs[1].notes == ()


def test_csv_id_column_names_rows_and_row_hash_survives_other_edits(tmp_path):
    first = read_paths([write_csv(tmp_path / "a.csv", SURVEY)], id_column="respondent_id")
    assert [d.name for d in first] == ["S1", "S3"]
    grown = SURVEY[:1] + [["S0", "New question", "A new answer", "Kingsmoor"]] + SURVEY[1:]
    second = read_paths([write_csv(tmp_path / "b.csv", grown)], id_column="respondent_id")
    by_name = {d.name: d for d in second}
    assert by_name["S1"].sha256 == first[0].sha256 and by_name["S3"].sha256 == first[1].sha256
    assert by_name["S0"].sha256 != first[0].sha256


def test_semicolon_csv_in_cp1252_is_sniffed(tmp_path):
    rows = [["lfdn", "v_2", "tag"], ["1923", " Waste Collection; and Management", ""],
            ["694", "Caf\u00e9 ; retail", "x"]]
    path = write_csv(tmp_path / "napire.csv", rows, delimiter=";", encoding="cp1252")
    docs = read_paths([path], text_column="v_2")
    assert [d.text for d in docs] == ["Waste Collection; and Management", "Caf\u00e9 ; retail"]
    assert docs[0].metadata == {"lfdn": "1923"} and docs[1].metadata == {"lfdn": "694", "tag": "x"}
    assert CP1252_NOTE in docs[0].notes


def test_xlsx_first_sheet_rows(tmp_path):
    path = write_xlsx(tmp_path / "responses.xlsx", [["id", "comment", "score"], [7, "Flexible appointments", 4.0],
                                                    [8, None, 2], [9, "Guaranteed interviews", None]])
    docs = read_paths([path], id_column="id")
    assert [(d.name, d.text, d.metadata) for d in docs] == [
        ("7", "Flexible appointments", {"id": "7", "score": "4"}),
        ("9", "Guaranteed interviews", {"id": "9"})]
    assert docs[1].path.endswith("responses.xlsx#row=3")


def test_table_without_a_text_column_lists_the_columns(tmp_path):
    path = write_csv(tmp_path / "codes.csv", [["lfdn", "v_2"], ["1", "x"]])
    err = error_for([path])
    assert "'lfdn', 'v_2'" in err.cause and "--text-column" in err.cause
    err = error_for([path], text_column="answer_text")
    assert "'answer_text'" in err.cause and "'lfdn', 'v_2'" in err.cause


def test_table_whose_text_cells_are_all_empty_is_an_error(tmp_path):
    path = write_csv(tmp_path / "blank.csv", [["id", "response"], ["1", ""], ["2", " "]])
    assert "all 2 rows have an empty 'response' cell" in error_for([path]).cause


def test_xlsx_missing_named_column(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", [["id", "comment"], [1, "x"]])
    assert "'id', 'comment'" in error_for([path], text_column="verbatim").cause


# --- folders and manifests --------------------------------------------------------------------------------

def test_folder_is_read_recursively_in_sorted_order(tmp_path):
    root = tmp_path / "corpus"
    write(root / "b.txt", "Second file.")
    write(root / "a" / "z.md", "Nested file.")
    write(root / "a" / "c.txt", "Nested first.")
    write(root / ".hidden.txt", "Never read.")
    write(root / ".git" / "x.txt", "Never read.")
    write(root / "README.md", "About this folder.")
    write(root / "~$b.docx", b"lock file")
    docs = read_paths([root])
    assert [d.name for d in docs] == ["a/c.txt", "a/z.md", "b.txt"]
    assert read_paths([root]) == docs  # deterministic


def test_manifest_gives_kind_and_metadata_and_explicit_metadata_wins(tmp_path):
    root = tmp_path / "corpus"
    write(root / "one.txt", "Plain notes about outreach.")
    write(root / "sub" / "two.txt", "More notes.")
    write(root / "sub" / "three.txt", "Even more notes.")
    write(root / "sources.csv", "file,kind,area,role\none.txt,interview,Northbridge,work_coach\n"
                                "sub/two.txt,,Eastvale,stakeholder\nsub/three.txt,,Eastvale,\n")
    write(root / "sub" / "sources.csv", "file,programme\nthree.txt,ESOL for Work\n")
    docs = {d.name: d for d in read_paths([root], metadata={"area": "Riverside", "batch": "1"})}
    assert set(docs) == {"one.txt", "sub/two.txt", "sub/three.txt"}
    assert docs["one.txt"].kind == "interview"
    assert docs["one.txt"].metadata == {"area": "Riverside", "role": "work_coach", "batch": "1"}
    assert docs["sub/two.txt"].kind == "literature"
    assert docs["sub/three.txt"].metadata == {"area": "Riverside", "programme": "ESOL for Work", "batch": "1"}
    # The manifest next to a file also applies when the file is given on its own; an explicit kind wins.
    alone = read_one(root / "one.txt")
    assert alone.kind == "interview" and alone.metadata["area"] == "Northbridge"
    assert read_one(root / "one.txt", kind="literature").kind == "literature"


def test_manifest_naming_a_missing_file_is_an_error(tmp_path):
    root = tmp_path / "corpus"
    write(root / "one.txt", "Notes.")
    manifest = write(root / "sources.csv", "file,kind\none.txt,literature\ntwo.txt,interview\n")
    err = error_for([root])
    assert err.path == str(manifest.resolve()) and "two.txt" in err.cause and "row 3" in err.cause


def test_manifest_with_bad_kind_or_no_file_column(tmp_path):
    write(tmp_path / "a" / "one.txt", "Notes.")
    write(tmp_path / "a" / "sources.csv", "file,kind\none.txt,report\n")
    assert "kind 'report'" in error_for([tmp_path / "a"]).cause
    write(tmp_path / "b" / "one.txt", "Notes.")
    write(tmp_path / "b" / "sources.csv", "name,kind\none.txt,literature\n")
    assert "'file' column" in error_for([tmp_path / "b"]).cause


def test_same_file_given_twice_is_read_once(tmp_path):
    path = write(tmp_path / "c" / "a.txt", "Text.")
    assert len(read_paths([tmp_path / "c", path])) == 1


# --- bad input --------------------------------------------------------------------------------------------

def test_missing_path(tmp_path):
    err = error_for([tmp_path / "nope.txt"])
    assert err.path.endswith("nope.txt") and "no such file" in err.cause


def test_unknown_extension_lists_the_supported_ones(tmp_path):
    err = error_for([write(tmp_path / "old.doc", b"\xd0\xcf\x11\xe0")])
    assert "'.doc'" in err.cause
    assert all(ext in err.cause for ext in SUPPORTED_EXTENSIONS)


def test_unknown_extension_inside_a_folder_is_an_error_too(tmp_path):
    write(tmp_path / "f" / "a.txt", "Fine.")
    bad = write(tmp_path / "f" / "slides.pptx", b"PK")
    assert error_for([tmp_path / "f"]).path == str(bad.resolve())


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n", b"\xef\xbb\xbf  \n"])
@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.csv", "empty.vtt"])
def test_empty_or_whitespace_files(tmp_path, name, content):
    assert "empty" in error_for([write(tmp_path / name, content)]).cause


def test_binary_file_with_txt_extension(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
    assert "binary" in error_for([write(tmp_path / "picture.txt", png)]).cause


def test_a_stray_byte_undefined_in_cp1252_does_not_sink_a_long_file(tmp_path):
    # As in a real NaPiRE export: one 0x90 byte among cp1252 text.
    data = b"1290;Incomplete requirements;N\x90_ requirement dokument;NotCodable\r\n" + b"caf\xe9 row\r\n" * 20
    doc = read_one(write(tmp_path / "export.txt", data))
    assert doc.notes == (CP1252_NOTE,) and "N\x90_ requirement" in doc.text and "caf\u00e9 row" in doc.text


def test_bytes_undefined_in_cp1252_throughout_are_binary(tmp_path):
    assert "binary" in error_for([write(tmp_path / "odd.txt", b"abc \x81\x8d\x90 def \x9d\x8f")]).cause


@pytest.mark.parametrize("setup", ["empty", "hidden-only", "manifest-only"])
def test_folder_with_nothing_readable(tmp_path, setup):
    folder = tmp_path / "empty"
    folder.mkdir()
    if setup == "hidden-only":
        write(folder / ".DS_Store", b"\x00\x00")
    if setup == "manifest-only":
        write(folder / "sources.csv", "file,kind\n")
    err = error_for([folder])
    assert err.path == str(folder.resolve()) and "nothing readable" in err.cause


def test_one_bad_file_fails_the_whole_read(tmp_path):
    good = write(tmp_path / "good.txt", "Fine.")
    bad = write(tmp_path / "bad.txt", b"")
    err = error_for([good, bad])
    assert err.path == str(bad.resolve())


def test_unknown_kind_is_refused(tmp_path):
    assert "unknown kind" in error_for([write(tmp_path / "a.txt", "x")], kind="report").cause


# --- the demo corpus --------------------------------------------------------------------------------------

def test_demo_corpus_reads_with_kinds_speakers_and_metadata():
    docs = read_paths([DEMO])
    files = Counter(d.path.split("#")[0] for d in docs)
    on_disk = sorted(p for p in DEMO.rglob("*") if p.is_file() and p.name not in ("sources.csv", "README.md"))
    assert sorted(Path(f) for f in files) == on_disk  # every demo file, nothing else

    by_kind = Counter(d.kind for d in docs)
    literature = [d for d in docs if d.kind == "literature"]
    interviews = [d for d in docs if d.kind == "interview"]
    survey = [d for d in docs if d.kind == "survey"]
    assert len(literature) == 4 and all(d.name.startswith("literature/") for d in literature)
    assert 6 <= len(interviews) <= 8 and all(d.name.startswith("interviews/") for d in interviews)
    assert 25 <= len(survey) <= 40 and by_kind["survey"] == len(survey)
    assert {Path(d.name).suffix for d in interviews} >= {".txt", ".docx", ".vtt"}

    for d in literature:
        assert d.metadata["publisher"] == "DWP" and d.metadata["title"] and d.metadata["programme"]
        assert d.turns == ()
    assert {d.metadata["year"] for d in literature} == {"2010", "2012", "2016"}

    for d in interviews:
        assert d.text.startswith("ILLUSTRATIVE") or d.name.endswith(".vtt"), d.name
        assert d.metadata["role"] in {"jobcentre_manager", "work_coach", "stakeholder"}
        assert d.metadata["area"] and d.metadata["programme"]
        speakers = Counter((t.speaker, t.is_interviewer) for t in d.turns)
        assert sum(1 for _, asks in speakers if asks) >= 1, d.name
        assert sum(1 for _, asks in speakers if not asks) >= 1, d.name
        assert looks_like_transcript(d.text), d.name  # detected even without the manifest
        words = len(d.text.split())
        assert 900 <= words <= 2100, (d.name, words)
        for t in d.turns:
            said = d.text[t.start_char:t.end_char]
            assert said == said.strip() and not said.startswith(f"{t.speaker}:")
        assert d.notes == ()
    assert {d.metadata["role"] for d in interviews} == {"jobcentre_manager", "work_coach", "stakeholder"}
    assert len({d.metadata["area"] for d in interviews}) >= 3

    for d in survey:
        assert set(d.metadata) >= {"respondent_id", "question", "area"} and "answer" not in d.metadata
        assert d.name.startswith("survey/participant-feedback-survey.csv#")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared seeds not available")
def test_demo_literature_is_the_seed_text_unchanged():
    seeds = {hashlib.sha256(p.read_bytes()).hexdigest() for p in SEEDS.glob("00[1-4]_*.txt")}
    demo = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (DEMO / "literature").glob("*.txt")}
    assert demo == seeds


def test_repeated_ids_name_each_row_by_its_number(tmp_path):
    table = tmp_path / "answers.csv"
    table.write_text("respondent,question,answer\nS1,helped,The mentor.\nS1,harder,Childcare.\nS2,helped,Outreach.\n",
                     encoding="utf-8")
    docs = read_paths([table], id_column="respondent")
    assert [d.name for d in docs] == ["S1 (row 1)", "S1 (row 2)", "S2"]
    assert [d.metadata["question"] for d in docs] == ["helped", "harder", "helped"]
