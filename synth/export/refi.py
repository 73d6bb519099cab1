"""REFI-QDA (QDA-XML 1.0) helpers shared by the codebook (`.qdc`) and project (`.qdpx`) exports and the import.

The exchange format is checked against the official schemas, copied in `schemas/` (MIT, © REFI):
every file synth writes is validated before it replaces anything on disk, so a file that a QDA
package would refuse is never left behind.

GUIDs: a theme's GUID is the one the project stores (`ThemeRow.guid`), so a code keeps its
identity in every export and across re-exports. Everything else that needs a GUID (sources,
selections, codings, parent codes, users, variables) gets a name-based UUID (uuid5) from what it
is, so exporting the same project twice gives the same GUIDs. All GUIDs are written in the
plain `8-4-4-4-12` form without braces, upper case like the stored theme GUIDs; the schema
accepts either case, and some importers compare GUIDs as strings, so one case is used throughout.
"""

from __future__ import annotations

import functools
import uuid
from pathlib import Path

from lxml import etree

from ..errors import SynthError

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
SCHEMA_FILES = {CODEBOOK_NS: SCHEMAS / "Codebook.xsd", PROJECT_NS: SCHEMAS / "Project-mrt2019.xsd"}

# Fixed namespace for synth's name-based GUIDs (uuid5 of "synth.refi-qda"), never to change:
# changing it would give every derived object a new identity in the analyst's QDA project.
SYNTH_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://synth.invalid/refi-qda")


def derived_guid(*parts: object) -> str:
    """A stable GUID for something synth does not store a GUID for (a source, a selection, a user)."""
    return str(uuid.uuid5(SYNTH_NAMESPACE, "\x1f".join(str(p) for p in parts))).upper()


def normalise_guid(value: str) -> str:
    """A GUID as synth stores and writes it: no braces, upper case (REFI allows `{…}` and either case)."""
    return value.strip().strip("{}").upper()


@functools.cache
def schema(namespace: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILES[namespace])))


def check_valid(root: etree._Element, what: str) -> None:
    """Refuse to write a document the REFI-QDA schema rejects (a bug in synth, said plainly)."""
    xsd = schema(etree.QName(root).namespace)
    if not xsd.validate(root):
        first = xsd.error_log.filter_from_errors()[0]
        raise SynthError(f"{what}: the REFI-QDA document synth built is not valid against "
                         f"{SCHEMA_FILES[etree.QName(root).namespace].name} (line {first.line}: {first.message}); "
                         "this is a bug in synth, please report it with the project file")


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True, standalone=True)


def xml_safe(text: str) -> str:
    """XML 1.0 cannot carry most C0 control characters (even escaped); drop them from names and descriptions.

    Only used for labels and descriptions. Source texts are never altered: they travel as separate
    .txt files, where any character is allowed and positions must stay exact.
    """
    return "".join(ch for ch in text if ch in "\t\n\r" or not (ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF
                                                                or ord(ch) in (0xFFFE, 0xFFFF)))
