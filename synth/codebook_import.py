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

A code that a draft codebook marks as suggested (synth's `--include-suggested` export: the name
ends in " (suggested)" with "Status: suggested" in the description, or a CSV `status` column says
so) comes in as a suggested theme, not an accepted one. A code whose GUID is a theme a reviewer
rejected or merged away is skipped, with the reason, never silently brought back. Files are
hostile: two codes sharing a GUID, names over 200 characters, binary data, undecodable bytes and
malformed tables are refused with one line naming the file.
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
from .readers.decoding import decode_text
from .records import CATEGORIES
from .statuses import LIVE, THEME_STATUSES
from .review.actions import MAX_LABEL, MAX_TEXT
from .review.decisionlog import Change
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
MAX_FILE_BYTES = 50_000_000  # a codebook is a list of codes; more than this is not one
# Control characters a name or definition cannot show (NUL would cut a name short in some readers).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CodebookCode:
    name: str
    definition: str = ""
    category: str | None = None
    guid: str | None = None
    suggested: bool = False  # marked suggested in a draft codebook


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
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(path, f"is {path.stat().st_size / 1e6:.0f} MB; a codebook file over "
                                   f"{MAX_FILE_BYTES // 1_000_000} MB is not a codebook")
        codes = reader(path)
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if not codes:
        raise InputError(path, "holds no codes to import")
    _check_codes(path, codes)
    return codes


def _check_codes(path: Path, codes: list[CodebookCode]) -> None:
    """Refuse what would be silently lost or cut: over-long names and two codes sharing a GUID."""
    owner: dict[str, str] = {}
    for code in codes:
        if len(code.name) > MAX_LABEL:
            raise InputError(path, f"code {code.name[:40]!r}… has a name of {len(code.name)} characters; "
                                   f"names stop at {MAX_LABEL}: shorten it and import again")
        if len(code.definition) > MAX_TEXT:
            raise InputError(path, f"code {code.name!r} has a definition of {len(code.definition)} characters; "
                                   f"definitions stop at {MAX_TEXT}: shorten it and import again")
        if code.guid:
            if code.guid in owner and owner[code.guid].lower() != code.name.lower():
                raise InputError(path, f"codes {owner[code.guid]!r} and {code.name!r} share the GUID {code.guid}; "
                                       "a GUID names one code: give one of them a new GUID (or remove it)")
            owner.setdefault(code.guid, code.name)


def _clean(text: str) -> str:
    return _CONTROLS.sub("", text)


def read_qdc(path: Path) -> list[CodebookCode]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, LookupError, ValueError) as exc:
        cause = getattr(exc, "msg", None) or str(exc)
        raise InputError(path, f"is not well-formed XML ({cause}); export the codebook again as REFI-QDA (.qdc)") from exc
    if etree.QName(root).localname != "CodeBook" or etree.QName(root).namespace != CODEBOOK_NS:
        raise InputError(path, f"is not a REFI-QDA codebook (root element {etree.QName(root).localname!r} in "
                               f"{etree.QName(root).namespace or 'no namespace'}; expected CodeBook in {CODEBOOK_NS})")
    codes_el = root.find(f"{{{CODEBOOK_NS}}}Codes")
    return list(_walk(codes_el, None)) if codes_el is not None else []


def _walk(parent: etree._Element, category: str | None) -> Iterator[CodebookCode]:
    for el in parent.findall(f"{{{CODEBOOK_NS}}}Code"):
        name = " ".join(_clean(el.get("name") or "").split())
        description = _clean(el.findtext(f"{{{CODEBOOK_NS}}}Description") or "")
        as_category = CATEGORY_NAMES.get(name.lower())
        codable = (el.get("isCodable") or "true").strip().lower() not in ("false", "0")
        # A parent code named like a category ("Barriers") is a container, codable or not
        # (MAXQDA and NVivo make parent codes codable); everything under it takes its category.
        if as_category is None and codable and name:
            bare = _strip_suggested(name, description)
            yield CodebookCode(name=bare, definition=definition_of(description), category=category,
                               guid=_guid_or_none(el.get("guid")), suggested=bare != name)
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
    text, _ = decode_text(path, path.read_bytes())  # UTF-8, UTF-16 with a BOM, or cp1252; binary refused
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    try:
        rows = list(reader)
    except csv.Error as exc:  # e.g. a field over the csv module's 128 KB limit
        raise InputError(path, f"row {reader.line_num}: {exc}; a codebook table holds short names and "
                               "definitions: check the file's quoting") from exc
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
    status_col = columns.get("status")
    for row in rows:
        name = " ".join(_clean(row.get(name_col) or "").split())
        if not name:
            continue
        category = next((CATEGORY_NAMES[v] for v in ((row.get(c) or "").strip().lower() for c in cat_cols)
                         if v in CATEGORY_NAMES), None)
        suggested = bool(status_col) and (row.get(status_col) or "").strip().lower() == "suggested"
        out.append(CodebookCode(name=name, definition=definition_of(_clean(row.get(def_col) or "")) if def_col else "",
                                category=category, guid=_guid_or_none(row.get(columns.get("guid", ""), "")),
                                suggested=suggested))
    return out


def _kept_out(project: Project, code: CodebookCode, theme: ThemeRow) -> str:
    """Why a code naming a rejected or merged theme is not imported, and how to bring the theme back."""
    how = f"`synth theme restore {project.path} {theme.id}`"
    if theme.status == "merged":
        return (f"{code.name}: is theme {theme.id}, which a reviewer merged into theme {theme.merged_into}; "
                f"kept merged (to bring it back: {how}, then import again)")
    return (f"{code.name}: is theme {theme.id}, which a reviewer rejected; kept rejected "
            f"(to accept it: `synth theme accept {project.path} {theme.id}`)")


def import_codebook(project: Project, path: Path, *, reviewer: str) -> ImportReport:
    """Add the codebook's codes to the project as accepted themes (see the module docstring)."""
    path = Path(path)
    codes = read_codebook(path)
    report = ImportReport(path=path)
    with project.transaction():
        every = project.themes(statuses=THEME_STATUSES)
        by_guid = {normalise_guid(t.guid): t for t in every}
        by_label = {t.label.lower(): t for t in every if t.status in LIVE}
        seen: set[str] = set()
        for code in codes:
            if code.name.lower() in seen:
                report.skipped.append(f"{code.name}: named twice in {path.name}; kept the first")
                continue
            seen.add(code.name.lower())
            theme = (by_guid.get(code.guid) if code.guid else None) or by_label.get(code.name.lower())
            if theme is not None and theme.status in ("rejected", "merged"):
                report.skipped.append(_kept_out(project, code, theme))
                continue
            status = "accepted"
            if code.suggested:  # a draft's suggestion stays one; a theme accepted since stays accepted
                status = theme.status if theme is not None and theme.status == "accepted" else "suggested"
            # Through the decision log's Change, as every review action: `synth theme undo` works on imports.
            change = Change(project)
            if theme is None:
                theme_id = project.create_theme(label=code.name, definition=code.definition, status=status,
                                                label_by_human=True, definition_by_human=True, origin="codebook",
                                                guid=code.guid if code.guid and code.guid not in by_guid else None)
                report.created.append(theme_id)
            else:
                theme_id = theme.id
            fields: dict[str, object] = {"label": code.name, "status": status, "label_by_human": True,
                                         "definition_by_human": True}
            if code.suggested and theme is not None:
                # synth's own suggestion coming back: only what the analyst changed becomes theirs
                fields = {"status": status}
                if code.name != theme.label:
                    fields.update(label=code.name, label_by_human=True)
                if code.definition and code.definition != theme.definition:
                    fields.update(definition=code.definition, definition_by_human=True)
            if (code.definition or theme is None) and not (code.suggested and theme is not None):
                fields["definition"] = code.definition
            if code.category and not (code.suggested and theme is not None and code.category == theme.category):
                fields.update(category=code.category, category_by_human=True,
                              category_reasons=[f"category from the imported codebook {path.name}"])
            current = project.theme(theme_id)
            if theme is not None and all(getattr(current, k) == v for k, v in fields.items() if k != "category_reasons"):
                report.unchanged.append(theme_id)
                continue
            if theme is None:
                project.update_theme(theme_id, **fields)
                change.created_theme(theme_id)
            else:
                change.theme(theme_id, **fields)
                report.updated.append(theme_id)
            after = project.theme(theme_id)
            by_guid[normalise_guid(after.guid)] = after
            by_label[after.label.lower()] = after
            change.log(reviewer=reviewer, action=ACTION, theme_id=theme_id,
                       extra={"codebook": {"file": path.name, "guid": code.guid, "category": code.category}})
    return report
