"""Project exchange (.qdpx): a valid REFI-QDA project whose selections cut out exactly each passage's text."""

from __future__ import annotations

import re
import zipfile

import pytest
import xmlschema
from lxml import etree

from export_fixture import REVIEWER, SOURCES, THEMES, build_review_project
from synth.errors import SynthError
from synth.export import EXPORTS
from synth.export.refi import PROJECT_NS, SCHEMA_FILES
from synth.store import Project

P = f"{{{PROJECT_NS}}}"
GUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_review_project(tmp_path_factory.mktemp("qdpx") / "review.synth")


@pytest.fixture(scope="module")
def qdpx(built, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "review.qdpx"
    with Project.open(built.path, create=False) as project:
        message = EXPORTS["project"](project, out, {})
    assert message == f"wrote 4 sources and 8 coded passages to {out}"
    return out


def read_back(path):
    """What a QDA package does on import: project.qde, then each source's text from sources/."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        root = etree.fromstring(zf.read("project.qde"))
        texts = {}
        for source in root.iter(f"{P}TextSource"):
            ref = source.get("plainTextPath")
            assert ref.startswith("internal://")
            texts[source.get("guid")] = zf.read("sources/" + ref[len("internal://"):]).decode("utf-8")
    return names, root, texts


def test_zip_holds_project_qde_and_a_sources_folder(qdpx):
    names, root, _ = read_back(qdpx)
    assert names[0] == "project.qde"
    sources = [n for n in names[1:]]
    assert len(sources) == len(SOURCES) and all(re.fullmatch(rf"sources/{GUID.pattern}\.txt", n) for n in sources)


def test_project_qde_is_valid_against_the_refi_schema(qdpx, tmp_path):
    with zipfile.ZipFile(qdpx) as zf:
        (tmp_path / "project.qde").write_bytes(zf.read("project.qde"))
    xmlschema.XMLSchema(str(SCHEMA_FILES[PROJECT_NS])).validate(str(tmp_path / "project.qde"))


def test_round_trip_every_selection_cuts_out_exactly_its_passage(built, qdpx):
    _, root, texts = read_back(qdpx)
    codes = {c.get("guid"): c.get("name") for c in root.iter(f"{P}Code")}
    found = set()
    for source in root.iter(f"{P}TextSource"):
        text = texts[source.get("guid")]
        assert text == built.texts[source.get("name")], "the source text travels exactly as stored"
        for sel in source.iter(f"{P}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            label = codes[sel.find(f"{P}Coding/{P}CodeRef").get("targetGUID")]
            passage = text[start:end]
            sentence_index = [s for s, _ in SOURCES[source.get("name")][2]].index(passage)
            found.add((label, source.get("name"), sentence_index))
    expected = {(label, s, i) for label, (status, _, _, members) in THEMES.items() if status == "accepted"
                for s, i, _ in members}
    assert found == expected


def test_line_endings_and_characters_outside_the_bmp_are_kept(qdpx):
    _, root, texts = read_back(qdpx)
    by_name = {s.get("name"): texts[s.get("guid")] for s in root.iter(f"{P}TextSource")}
    assert "\r\n" in by_name["interview_01.txt"] and "👩‍👩‍👧" in by_name["interview_01.txt"]
    with zipfile.ZipFile(qdpx) as zf:
        raw = {n: zf.read(n) for n in zf.namelist() if n.startswith("sources/")}
    assert not any(b.startswith(b"\xef\xbb\xbf") for b in raw.values()), "no byte-order mark to shift positions"
    # a selection after the emoji: positions count code points, so the passage still matches
    mentor = SOURCES["interview_01.txt"][2][2][0]
    after = next(s for s in root.iter(f"{P}TextSource") if s.get("name") == "interview_01.txt")
    starts = [int(sel.get("startPosition")) for sel in after.iter(f"{P}PlainTextSelection")]
    assert by_name["interview_01.txt"].index(mentor) in starts


def test_codebook_users_and_references_hang_together(built, qdpx):
    _, root, _ = read_back(qdpx)
    users = {u.get("name"): u.get("guid") for u in root.iter(f"{P}User")}
    assert set(users) == {REVIEWER, "ben"}
    assert root.get("creatingUserGUID") == users[REVIEWER], "the main reviewer created the project"
    codable = {c.get("guid") for c in root.iter(f"{P}Code") if c.get("isCodable") == "true"}
    assert codable == {built.guids[label] for label, spec in THEMES.items() if spec[0] == "accepted"}
    parents = [c for c in root.find(f"{P}CodeBook/{P}Codes")]
    assert [p.get("name") for p in parents] == ["Barriers", "Enablers", "Transferable practices"]
    for coding in root.iter(f"{P}Coding"):
        assert coding.find(f"{P}CodeRef").get("targetGUID") in codable
        assert coding.get("creatingUser") in users.values()
    every_guid = [el.get(a) for el in root.iter() for a in ("guid", "targetGUID", "creatingUser") if el.get(a)]
    assert all(GUID.fullmatch(g) for g in every_guid)
    guids = [el.get("guid") for el in root.iter() if el.get("guid")]
    assert len(guids) == len(set(guids)), "every object has its own GUID"
    variables = {v.get("name") for v in root.iter(f"{P}Variable")}
    assert variables == {"kind", "programme", "area", "role"}


def test_same_project_gives_the_same_bytes(built, qdpx, tmp_path):
    again = tmp_path / "again.qdpx"
    with Project.open(built.path, create=False) as project:
        EXPORTS["project"](project, again, {})
    assert again.read_bytes() == qdpx.read_bytes()


def test_suggested_themes_join_only_on_request(built, tmp_path):
    out = tmp_path / "all.qdpx"
    with Project.open(built.path, create=False) as project:
        EXPORTS["project"](project, out, {"include_suggested": True})
    _, root, texts = read_back(out)
    names = {c.get("name") for c in root.iter(f"{P}Code")}
    assert "Local labour market (suggested)" in names and "Childcare" not in names
    assert len(list(root.iter(f"{P}Coding"))) == 9


def test_wrong_extension_is_refused(built, tmp_path):
    with Project.open(built.path, create=False) as project:
        with pytest.raises(SynthError, match=r"must end in \.qdpx"):
            EXPORTS["project"](project, tmp_path / "review.zip", {})
    assert not (tmp_path / "review.zip").exists()


def test_cli_writes_the_project_exchange(built, synth, tmp_path):
    out = tmp_path / "review.qdpx"
    assert synth.ok("export", built.path, "project", "-o", out).strip() == f"wrote 4 sources and 8 coded passages to {out}"
    assert zipfile.is_zipfile(out)
