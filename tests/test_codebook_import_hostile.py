"""Codebook import: shared GUIDs, merged and rejected themes, hostile names and files, draft codebooks.

Issue 12, items 5 and 18 (import half).
"""

from __future__ import annotations

import codecs

import pytest

from export_fixture import THEMES, build_review_project
from synth.codebook_import import import_codebook, read_codebook
from synth.errors import InputError
from synth.export import EXPORTS
from synth.export.refi import CODEBOOK_NS
from synth.store import Project

G1 = "1B594544-2954-4B67-86FF-FB552F090BA8"
G2 = "2C594544-2954-4B67-86FF-FB552F090BA8"


def _qdc(codes: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="{CODEBOOK_NS}"><Codes>{codes}</Codes></CodeBook>'


@pytest.fixture
def built(tmp_path):
    return build_review_project(tmp_path / "review.synth")


def _themes(path):
    with Project.open(path, create=False) as project:
        return {t.id: (t.label, t.status, t.merged_into) for t in project.themes(
            statuses=("suggested", "accepted", "rejected", "merged", "retired"))}


def test_codes_sharing_a_guid_are_refused_naming_the_guid(built, synth, tmp_path):
    qdc = tmp_path / "dup.qdc"
    qdc.write_text(_qdc(f'<Code guid="{G1}" name="Transport" isCodable="true"/>'
                        f'<Code guid="{G1}" name="Housing" isCodable="true"/>'
                        f'<Code guid="{G2}" name="Childcare costs" isCodable="true"/>'), encoding="utf-8")
    before = _themes(built.path)
    result = synth("codebook", "import", built.path, qdc)
    assert result.exit_code == 1
    assert G1 in result.output and "Transport" in result.output and "Housing" in result.output
    assert str(qdc) in result.output and result.output.count("\n") == 1
    assert _themes(built.path) == before


def test_a_merged_themes_guid_does_not_accept_it(built, synth, tmp_path):
    t = built.theme_ids
    synth.ok("theme", "merge", built.path, str(t["Language barriers"]), str(t["Local labour market"]))
    guid = built.guids["Local labour market"]
    qdc = tmp_path / "cb.qdc"
    qdc.write_text(_qdc(f'<Code guid="{guid}" name="Local labour market" isCodable="true"/>'), encoding="utf-8")
    out = synth.ok("codebook", "import", built.path, qdc)
    assert "merged into theme" in out and "skipped" in out
    label, status, merged_into = _themes(built.path)[t["Local labour market"]]
    assert (status, merged_into) == ("merged", t["Language barriers"])


def test_a_rejected_themes_guid_does_not_silently_accept_it(built, synth, tmp_path):
    tid = built.theme_ids["Childcare"]
    qdc = tmp_path / "cb.csv"
    qdc.write_text(f"guid,name,definition\n{built.guids['Childcare']},Childcare,Costs of childcare.\n", encoding="utf-8")
    out = synth.ok("codebook", "import", built.path, qdc)
    assert "rejected" in out and f"synth theme accept {built.path} {tid}" in out
    assert _themes(built.path)[tid][1] == "rejected"


def test_nul_and_control_characters_do_not_cut_a_name(built, tmp_path):
    qdc = tmp_path / "cb.csv"
    qdc.write_text("name,definition\nTransport\x01 costs to appointments,Fares.\n", encoding="utf-8")
    codes = read_codebook(qdc)
    assert [c.name for c in codes] == ["Transport costs to appointments"]
    with_nul = tmp_path / "nul.csv"
    with_nul.write_bytes(b"name,definition\nTransport\x00 costs,Fares.\n")
    with pytest.raises(InputError, match="binary data") as info:
        read_codebook(with_nul)
    assert "nul.csv" in str(info.value)
    qdc_nul = tmp_path / "nul.qdc"
    qdc_nul.write_text(_qdc('<Code name="Transport&#0; costs" isCodable="true"/>'), encoding="utf-8")
    with pytest.raises(InputError, match="not well-formed XML"):
        read_codebook(qdc_nul)


def test_a_name_over_200_characters_is_refused(built, synth, tmp_path):
    table = tmp_path / "long.csv"
    table.write_text("name\n" + "x" * 100_000 + "\n", encoding="utf-8")
    before = _themes(built.path)
    result = synth("codebook", "import", built.path, table)
    assert result.exit_code == 1 and "100000 characters" in result.output and "200" in result.output
    assert _themes(built.path) == before
    ok = tmp_path / "ok.csv"
    ok.write_text("name\n" + "y" * 200 + "\n", encoding="utf-8")
    synth.ok("codebook", "import", built.path, ok)


@pytest.mark.parametrize("fmt", [".qdc", ".csv"])
def test_a_draft_codebooks_suggested_codes_stay_suggested(built, synth, tmp_path, fmt):
    draft = tmp_path / f"draft{fmt}"
    synth.ok("export", built.path, "codebook", "--include-suggested", "-o", draft)
    target = tmp_path / "fresh.synth"
    other = build_review_project(target)  # a second project: nothing matched by GUID here is suggested... except:
    with Project.open(target, create=False) as project, project.transaction():
        for tid in other.theme_ids.values():  # start empty of themes, so every code is created
            project.update_theme(tid, status="retired", label=f"old {tid}")
    out = synth.ok("codebook", "import", target, draft)
    assert "4 new themes" in out
    with Project.open(target, create=False) as project:
        themes = {t.label: t for t in project.themes()}
    suggested = [label for label, spec in THEMES.items() if spec[0] == "suggested"]
    assert suggested == ["Local labour market"]
    assert themes["Local labour market"].status == "suggested"
    assert all(themes[label].status == "accepted" for label, spec in THEMES.items() if spec[0] == "accepted")


def test_a_draft_reimported_into_its_own_project_changes_nothing(built, synth, tmp_path):
    draft = tmp_path / "draft.qdc"
    synth.ok("export", built.path, "codebook", "--include-suggested", "-o", draft)
    before = _themes(built.path)
    out = synth.ok("codebook", "import", built.path, draft)
    assert "0 new themes" in out
    assert _themes(built.path) == before


@pytest.mark.parametrize("name,data,message", [
    ("binary.csv", bytes(range(256)) * 40, "binary data"),
    ("binary.qdc", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not well-formed XML"),
    ("huge-field.csv", b'name,definition\nA,"' + b"x" * 200_000 + b'"\n', "row"),
    ("bogus-encoding.qdc", b'<?xml version="1.0" encoding="no-such-encoding"?><CodeBook/>', "not well-formed XML"),
])
def test_hostile_files_are_one_line_errors_naming_the_file(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError, match=message) as info:
        read_codebook(path)
    assert "\n" not in str(info.value) and name in str(info.value)


def test_odd_but_real_encodings_are_read(tmp_path):
    utf16 = tmp_path / "excel-unicode.csv"
    utf16.write_bytes(codecs.BOM_UTF16_LE + "name\tdefinition\nCoût du transport\tTarifs.\n".encode("utf-16-le"))
    assert [c.name for c in read_codebook(utf16)] == ["Coût du transport"]
    cp = tmp_path / "windows.csv"
    # cp1252 with one byte (0x81) that cp1252 leaves undefined: Python's own codec raised on it
    cp.write_bytes("name,definition\nCafé access,“Quoted” text\n".encode("cp1252") + b"Second\x81 code,\n")
    assert [c.name for c in read_codebook(cp)][0] == "Café access"
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(InputError, match="no such file"):
        read_codebook(folder)


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    path = tmp_path / "locked.csv"
    path.write_text("name\nA\n", encoding="utf-8")
    path.chmod(0)
    with pytest.raises(InputError, match="cannot be read"):
        read_codebook(path)


def test_import_through_the_exports_own_writer_round_trips(built, tmp_path):
    out = tmp_path / "cb.csv"
    with Project.open(built.path, create=False) as project:
        EXPORTS["codebook"](project, out, {})
        report = import_codebook(project, out, reviewer="ana")
    assert not report.created and not report.skipped
