"""Import an existing codebook (REFI-QDA `.qdc`, or a `.csv` table) as accepted themes.

A deductive review starts from a framework: its codes become accepted themes with the
codebook's names and definitions, marked as the reviewer's own (so discover never renames them),
each with a 'codebook-import' decision in the log. `synth discover --codebook` then seeds the
clustering with them.

Matching, so that importing the same codebook twice changes nothing: a code whose GUID is a
theme's GUID updates that theme (this is how a codebook exported by synth, edited in NVivo or
ATLAS.ti and imported back, keeps its themes); otherwise a code whose name is a live theme's
label (ignoring case) updates that theme; otherwise it becomes a new theme, keeping the code's
GUID when it has one, so later exports carry the GUID the analyst's QDA project already knows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .errors import InputError
from .records import CATEGORIES
from .review.actions import THEME_FIELDS
from .store import Project, ThemeRow
from .export.codebook import DESCRIPTION_MARKERS, PARENT_NAMES
from .export.refi import CODEBOOK_NS, normalise_guid

GUID_RE = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
ACTION = "codebook-import"

# Parent-code names (and CSV category values) read as a category, compared case-insensitively.
CATEGORY_NAMES = {
    **{name.lower(): key for key, name in PARENT_NAMES.items()},
    **{key: key for key in CATEGORIES},
    "barriers": "barrier", "enablers": "enabler", "facilitators": "enabler", "facilitator": "enabler",
    "practices": "practice", "transferable practice": "practice", "good practice": "practice",
    "good practices": "practice", "transferable practices": "practice",
}
NAME_COLUMNS = ("name", "code", "label", "theme", "tag")
DEFINITION_COLUMNS = ("definition", "description", "memo")
CATEGORY_COLUMNS = ("category", "parent")
SUGGESTED_SUFFIX = " (suggested)"


@dataclass(frozen=True)
class CodebookCode:
    name: str
    definition: str = ""
    category: str | None = None
    guid: str | None = None


@dataclass
class ImportReport:
    path: Path
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "name: reason"


def read_codebook(path: Path) -> list[CodebookCode]:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    readers = {".qdc": read_qdc, ".csv": read_csv}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise InputError(path, f"cannot import a codebook from a {path.suffix or 'extension-less'} file; "
                               "give a REFI-QDA codebook (.qdc) or a table (.csv with a 'name' column)")
    codes = reader(path)
    if not codes:
        raise InputError(path, "holds no codes to import")
    return codes


def read_qdc(path: Path) -> list[CodebookCode]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise InputError(path, f"is not well-formed XML ({exc.msg}); export the codebook again as REFI-QDA (.qdc)") from exc
    if etree.QName(root).localname != "CodeBook" or etree.QName(root).namespace != CODEBOOK_NS:
        raise InputError(path, f"is not a REFI-QDA codebook (root element {etree.QName(root).localname!r} in "
                               f"{etree.QName(root).namespace or 'no namespace'}; expected CodeBook in {CODEBOOK_NS})")
    codes_el = root.find(f"{{{CODEBOOK_NS}}}Codes")
    return list(_walk(codes_el, None)) if codes_el is not None else []


def _walk(parent: etree._Element, category: str | None) -> Iterator[CodebookCode]:
    for el in parent.findall(f"{{{CODEBOOK_NS}}}Code"):
        name = " ".join((el.get("name") or "").split())
        description = el.findtext(f"{{{CODEBOOK_NS}}}Description") or ""
        as_category = CATEGORY_NAMES.get(name.lower())
        codable = (el.get("isCodable") or "true").strip().lower() not in ("false", "0")
        # A parent code named like a category ("Barriers") is a container, codable or not
        # (MAXQDA and NVivo make parent codes codable); everything under it takes its category.
        if as_category is None and codable and name:
            yield CodebookCode(name=_strip_suggested(name, description), definition=definition_of(description),
                               category=category, guid=_guid_or_none(el.get("guid")))
        yield from _walk(el, as_category or category)


def definition_of(description: str) -> str:
    """The definition part of a description: up to synth's own section markers, if it has them."""
    text = description.replace("\r\n", "\n")
    cut = min((i for i in (text.find(m) for m in DESCRIPTION_MARKERS) if i >= 0), default=len(text))
    return text[:cut].strip()


def _strip_suggested(name: str, description: str) -> str:
    if name.endswith(SUGGESTED_SUFFIX) and "Status: suggested" in description:
        return name[: -len(SUGGESTED_SUFFIX)].strip()
    return name


def _guid_or_none(value: str | None) -> str | None:
    return normalise_guid(value) if value and GUID_RE.match(value.strip()) else None


def read_csv(path: Path) -> list[CodebookCode]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="cp1252")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    if not rows:
        return []
    columns = {(c or "").strip().lower(): c for c in rows[0].keys()}
    name_col = next((columns[c] for c in NAME_COLUMNS if c in columns), None)
    if name_col is None:
        raise InputError(path, f"has no column naming the codes; name one of: {', '.join(NAME_COLUMNS)} "
                               f"(found: {', '.join(c for c in columns if c) or 'none'})")
    def_col = next((columns[c] for c in DEFINITION_COLUMNS if c in columns), None)
    cat_cols = [columns[c] for c in CATEGORY_COLUMNS if c in columns]
    out = []
    for row in rows:
        name = " ".join((row.get(name_col) or "").split())
        if not name:
            continue
        category = next((CATEGORY_NAMES[v] for v in ((row.get(c) or "").strip().lower() for c in cat_cols)
                         if v in CATEGORY_NAMES), None)
        out.append(CodebookCode(name=name, definition=definition_of(row.get(def_col) or "") if def_col else "",
                                category=category, guid=_guid_or_none(row.get(columns.get("guid", ""), ""))))
    return out


def _state(theme: ThemeRow) -> dict:
    """The theme as the review log snapshots it (same fields, same shape), so `synth theme undo` works on imports."""
    return {f: list(v) if isinstance(v, tuple) else v for f in THEME_FIELDS for v in [getattr(theme, f)]}


def import_codebook(project: Project, path: Path, *, reviewer: str) -> ImportReport:
    """Add the codebook's codes to the project as accepted themes (see the module docstring)."""
    path = Path(path)
    codes = read_codebook(path)
    report = ImportReport(path=path)
    with project.transaction():
        every = project.themes(statuses=("suggested", "accepted", "rejected", "merged", "retired"))
        by_guid = {normalise_guid(t.guid): t for t in every}
        by_label = {t.label.lower(): t for t in every if t.status in ("suggested", "accepted")}
        seen: set[str] = set()
        for code in codes:
            if code.name.lower() in seen:
                report.skipped.append(f"{code.name}: named twice in {path.name}; kept the first")
                continue
            seen.add(code.name.lower())
            theme = (by_guid.get(code.guid) if code.guid else None) or by_label.get(code.name.lower())
            if theme is None:
                theme_id = project.create_theme(label=code.name, definition=code.definition, status="accepted",
                                                label_by_human=True, definition_by_human=True, origin="codebook",
                                                guid=code.guid if code.guid and code.guid not in by_guid else None)
                before = None
                report.created.append(theme_id)
            else:
                theme_id = theme.id
                before = _state(theme)
            fields: dict[str, object] = {"label": code.name, "status": "accepted", "label_by_human": True,
                                         "definition_by_human": True}
            if code.definition or before is None:
                fields["definition"] = code.definition
            if code.category:
                fields.update(category=code.category, category_by_human=True,
                              category_reasons=[f"category from the imported codebook {path.name}"])
            current = project.theme(theme_id)
            if before is not None and all(getattr(current, k) == v for k, v in fields.items() if k != "category_reasons"):
                report.unchanged.append(theme_id)
                continue
            project.update_theme(theme_id, **fields)
            if before is not None:
                report.updated.append(theme_id)
            after = project.theme(theme_id)
            by_guid[normalise_guid(after.guid)] = after
            by_label[after.label.lower()] = after
            project.log_decision(
                reviewer=reviewer, action=ACTION, theme_id=theme_id,
                before={"themes": {str(theme_id): before}},
                after={"themes": {str(theme_id): _state(after)},
                       "codebook": {"file": path.name, "guid": code.guid, "category": code.category}},
            )
    return report
