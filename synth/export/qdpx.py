"""Project exchange: a REFI-QDA project (`.qdpx`) that NVivo, ATLAS.ti, MAXQDA or QualCoder can open.

The file is a zip holding `project.qde` (QDA-XML, namespace `urn:QDA-XML:project:1.0`, valid
against Project-mrt2019.xsd) and a folder `sources/` (lower case, as the standard names it; a few
tools also accept `Sources/`, none require it) with one `<GUID>.txt` per source, referenced as
`plainTextPath="internal://<GUID>.txt"`. Every accepted theme's placed passages are coded
`PlainTextSelection`s, with the codebook (the same GUIDs, colours and descriptions as the .qdc)
and the reviewers from the decision log as users; source metadata become variables.

Positions. REFI-QDA positions count characters of the source's plain text. synth's offsets are
Python string indices, i.e. Unicode code points, into `Source.text`, and each source is written
as UTF-8, without a byte-order mark, exactly as stored: line endings are NOT normalised, so a
CRLF counts as two characters, in the file and in the positions alike, and
`text[startPosition:endPosition]` is the passage, always (checked by the round-trip test).
What the packages count is not uniform (from the workarounds in QualCoder's REFI-QDA code):
ATLAS.ti reads a CRLF as a single line break, and MAXQDA expects CRLF line breaks counted as one
character; NVivo counts a character outside the Basic Multilingual Plane (emoji, rare CJK) as two
UTF-16 code units. Sources ingested from Windows files can keep their CRLFs (synth never rewrites
source text), so in those packages a selection may drift by one character per earlier CRLF or
astral character. We keep code points over the exact text: it is what the standard describes,
it is the only choice that can be checked character for character, and converting for one
package would break the others.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

from lxml import etree

from .. import __version__
from ..errors import SynthError
from ..records import Source
from ..store import Project
from .codebook import build_codebook
from .codebook_formats import code_elements
from .files import atomic_write
from .refi import PROJECT_NS, check_valid, derived_guid, to_bytes, xml_safe

SOURCES_FOLDER = "sources"
# Fixed timestamps in the zip: the same project always gives the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DEFAULT_USER = "synth"


def _q(tag: str) -> str:
    return f"{{{PROJECT_NS}}}{tag}"


def source_guid(source: Source) -> str:
    return derived_guid("source", source.name, source.version, source.sha256)


def user_guid(name: str) -> str:
    return derived_guid("user", name)


def reviewers(project: Project) -> list[str]:
    """Reviewers from the decision log, the one with most decisions first; 'synth' if nobody reviewed yet."""
    counts = Counter(d.reviewer for d in project.decisions() if d.reviewer)
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))] or [DEFAULT_USER]


def project_document(project: Project, *, include_suggested: bool = False) -> tuple[etree._Element, dict[str, str]]:
    """The `project.qde` tree and the source texts to store beside it ({file name in sources/: text})."""
    codebook = build_codebook(project, include_suggested=include_suggested)
    users = reviewers(project)
    main_user = user_guid(users[0])
    root = etree.Element(_q("Project"), nsmap={None: PROJECT_NS}, name=xml_safe(project.path.stem),
                         origin=f"synth {__version__}", creatingUserGUID=main_user)
    users_el = etree.SubElement(root, _q("Users"))
    for name in users:
        etree.SubElement(users_el, _q("User"), guid=user_guid(name), name=xml_safe(name))
    code_elements(etree.SubElement(etree.SubElement(root, _q("CodeBook")), _q("Codes")), codebook, PROJECT_NS)

    sources = project.sources()
    fields = sorted({"kind", *(k for s in sources for k in s.metadata)})
    variable_guids = {f: derived_guid("variable", f) for f in fields}
    variables_el = etree.SubElement(root, _q("Variables"))
    for f in fields:
        etree.SubElement(variables_el, _q("Variable"), guid=variable_guids[f], name=xml_safe(f), typeOfVariable="Text")

    code_of_theme = {c.theme_id: c for c in codebook.codes}
    placed: dict[int, list] = {}
    for m in project.memberships(placed=True):
        if m.theme_id in code_of_theme:
            placed.setdefault(m.passage_id, []).append(m.theme_id)
    for c in project.codings():  # a reviewer's further codings: every coding travels, as in any QDA package
        if c.theme_id in code_of_theme and c.theme_id not in placed.get(c.passage_id, ()):
            placed.setdefault(c.passage_id, []).append(c.theme_id)

    files: dict[str, str] = {}
    sources_el = etree.SubElement(root, _q("Sources"))
    for source in sources:
        guid = source_guid(source)
        file_name = f"{guid}.txt"
        files[file_name] = source.text
        el = etree.SubElement(sources_el, _q("TextSource"), guid=guid, name=xml_safe(source.name),
                              plainTextPath=f"internal://{file_name}", creatingUser=main_user)
        etree.SubElement(el, _q("Description")).text = xml_safe(
            f"{source.kind} source {source.name} (version {source.version}), imported from {source.path}")
        for passage in project.passages(source_id=source.id):
            for theme_id in placed.get(passage.id, ()):
                if source.text[passage.start_char:passage.end_char] != passage.text:  # the invariant synth keeps
                    raise SynthError(f"{project.path}: passage {passage.id} no longer matches its source "
                                     f"{source.name} at {passage.start_char}–{passage.end_char}; re-ingest the source")
                code = code_of_theme[theme_id]
                sel = etree.SubElement(el, _q("PlainTextSelection"), guid=derived_guid("selection", guid, passage.id, code.guid),
                                       name=xml_safe(_selection_name(passage.text)),
                                       startPosition=str(passage.start_char), endPosition=str(passage.end_char),
                                       creatingUser=main_user)
                coding = etree.SubElement(sel, _q("Coding"), guid=derived_guid("coding", guid, passage.id, code.guid),
                                          creatingUser=main_user)
                etree.SubElement(coding, _q("CodeRef"), targetGUID=code.guid)
        values = {"kind": source.kind, **source.metadata}
        for f in fields:
            if f in values:
                vv = etree.SubElement(el, _q("VariableValue"))
                etree.SubElement(vv, _q("VariableRef"), targetGUID=variable_guids[f])
                etree.SubElement(vv, _q("TextValue")).text = xml_safe(str(values[f]))
    if not len(sources_el):
        root.remove(sources_el)
    if not len(variables_el):
        root.remove(variables_el)
    etree.SubElement(root, _q("Description")).text = (
        f"Exported by synth {__version__} from {project.path.name}: {len(codebook.codes)} themes as codes under "
        f"{len(codebook.groups)} parent codes (barriers, enablers, transferable practices, context), "
        f"{sum(len(v) for v in placed.values())} coded passages in {len(sources)} sources. "
        "Positions are Unicode code points into the UTF-8 text files in sources/, line endings as stored.")
    return root, files


def _selection_name(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16  # rw-r--r-- when unzipped (0 would leave files unreadable to unzip users)
    return info


def export_project(project: Project, out: Path, options: dict) -> str:
    out = Path(out)
    if out.suffix.lower() != ".qdpx":
        raise SynthError(f"{out}: a REFI-QDA project file must end in .qdpx; name a file like review.qdpx")
    root, files = project_document(project, include_suggested=bool(options.get("include_suggested")))
    check_valid(root, str(out))
    with atomic_write(out, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_entry("project.qde"), to_bytes(root))
        for name, text in sorted(files.items()):
            zf.writestr(_entry(f"{SOURCES_FOLDER}/{name}"), text.encode("utf-8"))
    codings = len(root.findall(f".//{_q('Coding')}"))
    return f"wrote {len(files)} sources and {codings} coded passages to {out}"
