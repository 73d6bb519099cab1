"""Codebook export (.qdc .csv .md .json .xlsx) and import (.qdc .csv): schema-valid, stable GUIDs, drafted guidance."""

from __future__ import annotations

import csv
import json
import re
import zipfile

import pytest
import xmlschema
from lxml import etree

from export_fixture import REVIEWER, SOURCES, build_review_project
from synth.codebook_import import import_codebook, read_codebook
from synth.errors import InputError, SynthError
from synth.export import EXPORTS
from synth.export.refi import CODEBOOK_NS, SCHEMA_FILES
from synth.records import ExtractedDocument, PassageSpan
from synth.review.actions import undo
from synth.store import Project

NS = {"c": CODEBOOK_NS}
ACCEPTED = ["Language barriers", "Trusted community mentors", "Outreach in community venues"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_review_project(tmp_path_factory.mktemp("codebook") / "review.synth")


def export(built, out, **options):
    with Project.open(built.path, create=False) as project:
        return EXPORTS["codebook"](project, out, options)


def test_qdc_is_valid_against_the_refi_schema(built, tmp_path):
    out = tmp_path / "codebook.qdc"
    export(built, out)
    xmlschema.XMLSchema(str(SCHEMA_FILES[CODEBOOK_NS])).validate(str(out))  # raises on any violation
    root = etree.parse(str(out)).getroot()
    assert root.tag == f"{{{CODEBOOK_NS}}}CodeBook"
    assert root.find("c:Sets", NS) is None, "no empty <Sets>"
    parents = root.findall("c:Codes/c:Code", NS)
    assert [p.get("name") for p in parents] == ["Barriers", "Enablers", "Transferable practices"]
    assert {p.get("isCodable") for p in parents} == {"false"}
    children = root.findall("c:Codes/c:Code/c:Code", NS)
    assert sorted(c.get("name") for c in children) == sorted(ACCEPTED)
    assert {c.get("isCodable") for c in children} == {"true"}
    for code in parents + children:
        assert re.fullmatch(r"#[0-9A-F]{6}", code.get("color"))
        assert code.findtext("c:Description", namespaces=NS).strip()
    language = next(c for c in children if c.get("name") == "Language barriers")
    description = language.findtext("c:Description", namespaces=NS)
    assert description.startswith("Passages about english and language.")
    assert "When to use:" in description and "When not to use:" in description
    assert "interview_01.txt [44–118]" in description


def test_a_theme_keeps_its_guid_in_every_export(built, tmp_path):
    guids = {}
    for suffix in (".qdc", ".csv", ".json", ".xlsx"):
        export(built, tmp_path / f"cb{suffix}")
    root = etree.parse(str(tmp_path / "cb.qdc")).getroot()
    guids["qdc"] = {c.get("name"): c.get("guid") for c in root.findall("c:Codes/c:Code/c:Code", NS)}
    with open(tmp_path / "cb.csv", encoding="utf-8-sig", newline="") as fh:
        guids["csv"] = {r["name"]: r["guid"] for r in csv.DictReader(fh)}
    data = json.loads((tmp_path / "cb.json").read_text(encoding="utf-8"))
    guids["json"] = {c["name"]: c["guid"] for g in data["groups"] for c in g["codes"]}
    with Project.open(built.path, create=False) as project:
        EXPORTS["project"](project, tmp_path / "p.qdpx", {})
    with zipfile.ZipFile(tmp_path / "p.qdpx") as zf:
        qde = etree.fromstring(zf.read("project.qde"))
    p = "{urn:QDA-XML:project:1.0}"
    guids["qdpx"] = {c.get("name"): c.get("guid") for c in qde.iter(f"{p}Code") if c.get("isCodable") == "true"}
    expected = {label: built.guids[label] for label in ACCEPTED}
    assert all(g == expected for g in guids.values()), guids


def test_exports_are_byte_identical_when_nothing_changed(built, tmp_path):
    for suffix in (".qdc", ".json", ".md", ".csv"):
        export(built, tmp_path / f"a{suffix}")
        export(built, tmp_path / f"b{suffix}")
        assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes(), suffix


def test_each_code_has_definition_guidance_cited_examples_and_spread(built, tmp_path):
    out = tmp_path / "cb.json"
    export(built, out)
    data = json.loads(out.read_text(encoding="utf-8"))
    codes = {c["name"]: c for g in data["groups"] for c in g["codes"]}
    texts = {name: built.texts[name] for name in SOURCES}
    for code in codes.values():
        assert code["definition"] and code["when_to_use"] and code["when_not_to_use"]
        assert 2 <= len(code["examples"]) <= 3
        for q in code["examples"]:
            assert texts[q["source"]][q["start_char"]:q["end_char"]] == q["text"]
            assert q["citation"] == f"{q['source']} [{q['start_char']}–{q['end_char']}]"
    language = codes["Language barriers"]
    assert (language["passages"], language["sources"]) == (3, 3)
    assert language["spread"] == "3 passages from 3 sources (interview 2, literature 1)"
    # drafted from the reviewer's edits: the passage moved out, the renaming, the memo
    assert "moved 1 passage out of this theme to “Trusted community mentors”" in language["when_not_to_use"]
    assert "english / forms / struggle" in language["when_to_use"]
    assert "Only venues outside Jobcentre offices count." in codes["Outreach in community venues"]["when_to_use"]
    assert "placed 1 passage here by hand" in codes["Trusted community mentors"]["when_to_use"]
    # and from the theme's content: the category and its cues
    assert "(a barrier)" in language["when_to_use"] and '"english" ×1' in language["when_to_use"]


def test_suggested_themes_only_on_request_and_marked(built, tmp_path):
    out = tmp_path / "cb.qdc"
    export(built, out, include_suggested=True)
    xmlschema.XMLSchema(str(SCHEMA_FILES[CODEBOOK_NS])).validate(str(out))
    root = etree.parse(str(out)).getroot()
    names = [c.get("name") for c in root.findall("c:Codes/c:Code/c:Code", NS)]
    assert "Local labour market (suggested)" in names
    assert not any(n.startswith("Childcare") for n in names), "a rejected theme is never exported"
    context = root.find("c:Codes/c:Code[@name='Context']", NS)
    assert "Status: suggested" in context.find("c:Code", NS).findtext("c:Description", namespaces=NS)
    md = tmp_path / "cb.md"
    export(built, md, include_suggested=True)
    text = md.read_text(encoding="utf-8")
    assert "### Local labour market *(suggested)*" in text and "## Context" in text
    assert "<script>" not in text, "markup in a quote is escaped in Markdown"


def test_csv_and_xlsx_hold_the_same_rows_and_keep_quotes_verbatim(built, tmp_path):
    from openpyxl import load_workbook

    export(built, tmp_path / "cb.csv")
    export(built, tmp_path / "cb.xlsx")
    with open(tmp_path / "cb.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ws = load_workbook(tmp_path / "cb.xlsx")["Codebook"]
    header = [c.value for c in ws[1]]
    sheet = [dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]
    assert [r["name"] for r in rows] == [r["name"] for r in sheet] == ACCEPTED
    assert [r["parent"] for r in rows] == ["Barriers", "Enablers", "Transferable practices"]
    survey_quote = SOURCES["survey_r17"][2][0][0]
    outreach = next(r for r in sheet if r["name"] == "Outreach in community venues")
    assert survey_quote in (outreach["example_1"], outreach["example_2"]), "a quote starting with '=' stays text"
    for cell in next(row for row in ws.iter_rows(min_row=2) if row[2].value == "Outreach in community venues"):
        assert cell.data_type != "f"


@pytest.mark.parametrize("name", ["codebook.txt", "codebook", "codebook.qdpx"])
def test_unknown_extension_is_one_clear_error(built, tmp_path, name):
    with pytest.raises(SynthError, match=r"name a file ending in one of: \.qdc, \.csv, \.md, \.json, \.xlsx"):
        export(built, tmp_path / name)
    assert not (tmp_path / name).exists()


def test_no_accepted_themes_says_what_to_do(tmp_path):
    path = tmp_path / "fresh.synth"
    with Project.open(path) as project, project.transaction():
        project.create_theme(label="Only suggested", status="suggested")
    with Project.open(path, create=False) as project:
        with pytest.raises(SynthError, match="no accepted themes.*--include-suggested"):
            EXPORTS["codebook"](project, tmp_path / "cb.qdc", {})
        message = EXPORTS["codebook"](project, tmp_path / "cb.qdc", {"include_suggested": True})
        assert "wrote 1 code under 1 parent codes" in message


# --- import ------------------------------------------------------------------------------------------

def _empty_project(path):
    text = "One passage. Another passage."
    doc = ExtractedDocument(name="a.txt", path="/a.txt", kind="interview", text=text, sha256="x")
    with Project.open(path) as project, project.transaction():
        project.add_source(doc, [PassageSpan(0, 12, text[:12])], ["h"])
    return path


def test_qdc_round_trip_gives_accepted_human_themes_with_the_same_guids(built, tmp_path):
    qdc = tmp_path / "framework.qdc"
    export(built, qdc)
    target = _empty_project(tmp_path / "deductive.synth")
    with Project.open(target, create=False) as project:
        report = import_codebook(project, qdc, reviewer="cara")
        assert len(report.created) == 3 and not report.updated
        themes = {t.label: t for t in project.themes()}
        assert set(themes) == set(ACCEPTED)
        for label, theme in themes.items():
            assert theme.guid == built.guids[label]
            assert theme.status == "accepted" and theme.label_by_human and theme.definition_by_human
            assert theme.origin == "codebook"
        assert themes["Language barriers"].definition == "Passages about english and language."
        assert themes["Language barriers"].category == "barrier" and themes["Language barriers"].category_by_human
        assert themes["Outreach in community venues"].category == "practice"
        log = [d for d in project.decisions() if d.action == "codebook-import"]
        assert len(log) == 3 and {d.reviewer for d in log} == {"cara"}
        assert log[0].before == {"themes": {str(log[0].theme_id): None}}

        again = import_codebook(project, qdc, reviewer="cara")
        assert (again.created, again.updated, len(again.unchanged)) == ([], [], 3)
        assert len(project.themes()) == 3 and len(project.decisions()) == 3

        undo(project, reviewer="cara")  # the log's snapshots have the review log's shape, so undo works
        assert project.theme(log[-1].theme_id).status == "retired"
        assert import_codebook(project, qdc, reviewer="cara").updated == [log[-1].theme_id]


def test_csv_import_reads_names_definitions_categories_with_any_delimiter(tmp_path):
    table = tmp_path / "codes.csv"
    table.write_text("Code;Description;Category\nTransport costs;Cost of getting to appointments.;Barriers\n"
                     "Peer support;;enabler\nLocal history;Background.;\n", encoding="utf-8-sig")
    target = _empty_project(tmp_path / "r.synth")
    with Project.open(target, create=False) as project:
        report = import_codebook(project, table, reviewer=REVIEWER)
        themes = {t.label: t for t in project.themes()}
    assert len(report.created) == 3
    transport = themes["Transport costs"]
    assert (transport.definition, transport.category) == ("Cost of getting to appointments.", "barrier")
    assert themes["Peer support"].category == "enabler"
    assert themes["Local history"].category is None


def test_a_foreign_qdc_with_codable_parents_and_braced_guids(tmp_path):
    qdc = tmp_path / "maxqda.qdc"
    qdc.write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="{CODEBOOK_NS}" origin="MAXQDA">
 <Codes>
  <Code guid="{{1b594544-2954-4b67-86ff-fb552f090ba8}}" name="Enablers" isCodable="true">
   <Code guid="{{2c594544-2954-4b67-86ff-fb552f090ba8}}" name="Flexible hours" isCodable="true">
    <Description>Appointments outside working hours.</Description>
   </Code>
  </Code>
  <Code guid="3d594544-2954-4b67-86ff-fb552f090ba8" name="Other topics" isCodable="false">
   <Code guid="4e594544-2954-4b67-86ff-fb552f090ba8" name="Housing" isCodable="true"/>
  </Code>
 </Codes>
</CodeBook>""", encoding="utf-8")
    codes = read_codebook(qdc)
    assert [(c.name, c.category, c.guid) for c in codes] == [
        ("Flexible hours", "enabler", "2C594544-2954-4B67-86FF-FB552F090BA8"),
        ("Housing", None, "4E594544-2954-4B67-86FF-FB552F090BA8"),
    ]
    assert codes[0].definition == "Appointments outside working hours."


@pytest.mark.parametrize("name, content, message", [
    ("codes.txt", "a,b", "give a REFI-QDA codebook"),
    ("broken.qdc", "<CodeBook", "not well-formed XML"),
    ("project.qdc", '<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>', "is not a REFI-QDA codebook"),
    ("codes.csv", "colour,size\n#fff,3\n", "no column naming the codes"),
    ("empty.csv", "name,definition\n", "holds no codes"),
])
def test_bad_codebook_files_are_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        read_codebook(path)
    assert "\n" not in str(info.value) and name in str(info.value)


def test_cli_exports_then_imports_a_codebook(built, synth, tmp_path):
    out = tmp_path / "framework.qdc"
    assert "wrote 3 codes under 3 parent codes" in synth.ok("export", built.path, "codebook", "-o", out)
    target = _empty_project(tmp_path / "deductive.synth")
    output = synth.ok("codebook", "import", target, out, "--reviewer", "cara")
    assert output.startswith(f"imported {out}: 3 new themes, 0 updated, 0 unchanged")
    bad = synth("export", built.path, "codebook", "-o", tmp_path / "codebook.docx")
    assert bad.exit_code == 1 and bad.output.count("\n") == 1 and "name a file ending in one of" in bad.output
