"""Readers: files and folders → `ExtractedDocument`s, the text that every later offset points into.

`read_sources` reads everything it is given before returning, and raises `InputError` for the first file
that cannot be read, so the caller can store all of it or none of it. What a folder walk passes over on
purpose (links that leave the folder, project files) comes back as `Skipped`, for the caller to say.
Every reader bounds what it reads (`limits.py`): files are hostile.

Formats: .txt .md (as is), .docx (paragraphs and table cells), .pdf (text layer, page by page),
.csv .xlsx (one document per row), .vtt .srt (captions → "Name: words" turns).
Kind: the `kind` argument, else the folder's `sources.csv` manifest, else inferred from the format
(tables → survey, captions → interview, a speaker-labelled transcript → interview, else literature).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from synth.errors import InputError
from synth.readers.decoding import decode_text
from synth.readers.limits import check_chars, check_file_size, check_text_file_size
from synth.readers.manifest import MANIFEST_NAME, Entry, load_manifest
from synth.readers.pdf import read_pdf
from synth.readers.subtitles import captions_to_transcript, parse_cues
from synth.readers.tables import read_table
from synth.readers.transcript import (
    find_turns,
    interviewer_names,
    is_interviewer,
    looks_like_transcript,
)
from synth.readers.word import read_docx
from synth.records import SOURCE_KINDS, ExtractedDocument, Turn

__all__ = ["SUPPORTED_EXTENSIONS", "PROJECT_SUFFIXES", "ReadResult", "Skipped", "read_paths", "read_sources"]

TEXT_EXTENSIONS = frozenset({".txt", ".md"})
TABLE_EXTENSIONS = frozenset({".csv", ".xlsx"})
CAPTION_EXTENSIONS = frozenset({".vtt", ".srt"})
SUPPORTED_EXTENSIONS: frozenset[str] = TEXT_EXTENSIONS | TABLE_EXTENSIONS | CAPTION_EXTENSIONS | {".docx", ".pdf"}

# Files a folder walk passes over: the manifest, and housekeeping files that are not evidence.
_SKIPPED_NAMES = frozenset({MANIFEST_NAME, "thumbs.db", "desktop.ini"})
_SKIPPED_STEMS = frozenset({"readme", "license", "licence"})

# A synth project (and SQLite's files beside it) saved in a folder being ingested is not a source.
PROJECT_SUFFIXES = (".synth", ".synth-wal", ".synth-shm", ".synth-journal", ".synth.lock")

NO_SPEAKERS_NOTE = "no speaker labels found: its passages will have no speaker"

# progress(stage, done, total): stage "files" (files read) or "rows" (rows of a large sheet); total None
# when unknown.
Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class Skipped:
    """A file or folder a walk passed over on purpose, and why (to be said, not kept quiet)."""

    path: str
    reason: str


@dataclass(frozen=True)
class ReadResult:
    documents: list[ExtractedDocument]
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class _Planned:
    path: Path  # resolved
    name: str
    entry: Entry


def read_paths(
    paths: Sequence[Path],
    *,
    kind: str | None = None,
    metadata: Mapping[str, str] | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
) -> list[ExtractedDocument]:
    """The documents of `read_sources` (what a walk skipped is dropped: use `read_sources` to say it)."""
    return read_sources(paths, kind=kind, metadata=metadata, text_column=text_column, id_column=id_column).documents


def read_sources(
    paths: Sequence[Path],
    *,
    kind: str | None = None,
    metadata: Mapping[str, str] | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    exclude: Collection[Path] = (),
    progress: Progress | None = None,
    question_column: str | None = None,
) -> ReadResult:
    """Read files and folders (recursively, in sorted order) into documents, all of them or none.

    `kind` overrides manifests and inference; `metadata` is applied on top of manifest (and row) metadata;
    `text_column`/`id_column` choose the columns of .csv/.xlsx tables; `exclude`: files a folder walk passes
    over without a word (the project being written, and its journal files). A folder walk does not follow
    links that lead out of the folder; a file named directly is read wherever it lives.
    """
    if kind is not None and kind not in SOURCE_KINDS:
        raise InputError("--kind", f"unknown kind '{kind}': use one of {', '.join(SOURCE_KINDS)}")
    extra = {str(k): str(v) for k, v in (metadata or {}).items()}
    excluded = {Path(p).expanduser().resolve() for p in exclude}
    planned: list[_Planned] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    for given in paths:
        for item in _plan(Path(given), excluded, skipped):
            if item.path not in seen:
                seen.add(item.path)
                planned.append(item)
    documents: list[ExtractedDocument] = []
    for done, item in enumerate(planned):
        if progress is not None:
            progress("files", done, len(planned))
        rows = None if progress is None else (lambda n, total: progress("rows", n, total))
        documents.extend(_read(item, kind=kind, extra=extra, text_column=text_column, id_column=id_column,
                               row_progress=rows, question_column=question_column))
    if progress is not None:
        progress("files", len(planned), len(planned))
    return ReadResult(documents, skipped)


def _plan(given: Path, excluded: set[Path], skipped: list[Skipped]) -> list[_Planned]:
    path = given.expanduser()
    if not path.exists():
        raise InputError(path, "no such file or folder: check the path")
    path = path.resolve()
    if path.is_file():
        manifest = path.parent / MANIFEST_NAME
        entries = load_manifest(manifest) if manifest.is_file() and path.name != MANIFEST_NAME else {}
        return [_Planned(path, path.name, entries.get(path, Entry()))]
    manifests: dict[Path, dict[Path, Entry]] = {}
    items: list[_Planned] = []
    for file in _walk(path, path, set(), excluded, skipped):
        if file.name.casefold() == MANIFEST_NAME:
            manifests[file.parent] = load_manifest(file)
            continue
        items.append(_Planned(file, file.relative_to(path).as_posix(), Entry()))
    planned = []
    for item in items:
        entry = Entry()
        folders = [f for f in (item.path.parent, *item.path.parent.parents) if f == path or path in f.parents]
        for folder in reversed(folders):  # the outermost manifest first, the nearest one last (it wins)
            if item.path in manifests.get(folder, {}):
                entry = entry.under(manifests[folder][item.path])
        planned.append(_Planned(item.path, item.name, entry))
    if not planned:
        raise InputError(path, "folder holds nothing readable: add files of a supported type "
                               f"({_supported()}) or give another folder")
    return planned


def _walk(folder: Path, root: Path, visited: set[Path], excluded: set[Path], skipped: list[Skipped]) -> list[Path]:
    """Every file under `folder` that a walk reads (plus manifests), in a deterministic order."""
    if folder.resolve() in visited:  # a symlink back up the tree
        return []
    visited.add(folder.resolve())
    try:
        children = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as e:
        raise InputError(folder, f"cannot list the folder ({e.strerror}): check its permissions") from None
    found: list[Path] = []
    for child in children:
        if child.name.startswith((".", "~$")):  # hidden files, and Word's "~$name.docx" lock files
            continue
        if child.is_symlink():
            # A link inside the folder may point anywhere (passwd.txt -> /etc/passwd): follow it only when
            # it stays inside the folder the user named.
            target = child.resolve()
            if not target.exists():
                skipped.append(Skipped(str(child), "a broken link: it points to nothing"))
                continue
            if target != root and root not in target.parents:
                skipped.append(Skipped(str(child), f"a link to {target}, outside {root}: not followed "
                                                   "(name the file itself to ingest it)"))
                continue
        if child.resolve() in excluded:
            continue  # the project being written (and its journal files)
        if child.name.casefold().endswith(PROJECT_SUFFIXES):
            skipped.append(Skipped(str(child), "a synth project file, not a source"))
            continue
        if child.is_dir():
            found.extend(_walk(child, root, visited, excluded, skipped))
        elif child.is_file():
            if child.name.casefold() == MANIFEST_NAME:
                found.append(child)
            elif child.name.casefold() not in _SKIPPED_NAMES and child.stem.casefold() not in _SKIPPED_STEMS:
                found.append(child)
    return found


def _read(item: _Planned, *, kind: str | None, extra: dict[str, str], text_column: str | None,
          id_column: str | None, row_progress: Callable[[int, int | None], None] | None = None,
          question_column: str | None = None) -> list[ExtractedDocument]:
    path, ext = item.path, item.path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise InputError(path, f"unsupported file type '{ext or '(no extension)'}': supported are {_supported()}; "
                               "convert it (e.g. save as .docx, .pdf or .txt) or move it out of the folder")
    try:
        size = path.stat().st_size
        check_file_size(path, size)
        if ext in TEXT_EXTENSIONS | CAPTION_EXTENSIONS:
            check_text_file_size(path, size)
        data = path.read_bytes()
    except OSError as e:
        raise InputError(path, f"cannot read the file ({e.strerror})") from None
    if not data.strip():
        raise InputError(path, "empty file (nothing but whitespace): add its text or leave it out")
    if ext in TABLE_EXTENSIONS:
        return _read_rows(item, data, kind=kind, extra=extra, text_column=text_column, id_column=id_column,
                          progress=row_progress, question_column=question_column)

    metadata = {**item.entry.metadata, **extra}
    notes: tuple[str, ...] = ()
    caption_turns: list[tuple[int, int, str]] | None = None
    if ext in TEXT_EXTENSIONS:
        text, notes = decode_text(path, data)
    elif ext == ".docx":
        text = read_docx(path)
    elif ext == ".pdf":
        text = read_pdf(path, data)
    else:
        raw, notes = decode_text(path, data)
        check_chars(path, len(raw))
        segments, caption_notes = parse_cues(path, raw)
        notes += caption_notes
        text, caption_turns = captions_to_transcript(segments)
        if not text.strip():
            raise InputError(path, "captions hold no words: nothing to ingest")
    check_chars(path, len(text))

    doc_kind = kind or item.entry.kind or (
        "interview" if caption_turns is not None or looks_like_transcript(text) else "literature")

    turns: tuple[Turn, ...] = ()
    if doc_kind == "interview":
        names = interviewer_names(metadata)
        if caption_turns is not None:
            turns = tuple(Turn(s, e, who, is_interviewer(who, names)) for s, e, who in caption_turns)
        else:
            turns = find_turns(text, names)
        if not turns:
            notes += (NO_SPEAKERS_NOTE,)
    return [ExtractedDocument(name=item.name, path=str(path), kind=doc_kind, text=text,
                              sha256=hashlib.sha256(data).hexdigest(), metadata=metadata,
                              turns=turns, notes=notes)]


def _read_rows(item: _Planned, data: bytes, *, kind: str | None, extra: dict[str, str],
               text_column: str | None, id_column: str | None,
               progress: Callable[[int, int | None], None] | None = None,
               question_column: str | None = None) -> list[ExtractedDocument]:
    table = read_table(item.path, data, text_column=text_column, id_column=id_column, progress=progress,
                       question_column=question_column)
    doc_kind = kind or item.entry.kind or "survey"
    # An id that repeats (one respondent answering several questions) names each of its rows by
    # row number too, so every row stays its own source with a stable, readable name.
    id_counts = Counter(row.row_id for row in table.rows if row.row_id)
    documents = []
    for i, row in enumerate(table.rows):
        # The hash covers the row's own cells, so an unchanged row is recognised even if the table grew.
        row_hash = hashlib.sha256(json.dumps({"text": row.text, "metadata": row.metadata}, sort_keys=True,
                                             ensure_ascii=False).encode("utf-8")).hexdigest()
        metadata = {**item.entry.metadata, **row.metadata, **extra}
        notes = table.notes
        if i == 0 and table.skipped:
            notes += (f"{table.skipped} row(s) of {item.name} with an empty '{table.text_column}' cell skipped",)
        turns: tuple[Turn, ...] = ()
        if doc_kind == "interview":
            turns = find_turns(row.text, interviewer_names(metadata))
            if not turns:
                notes += (NO_SPEAKERS_NOTE,)
        documents.append(ExtractedDocument(
            name=_row_name(item.name, row.row_id, row.number, id_counts), path=f"{item.path}#row={row.number}",
            kind=doc_kind,
            text=row.text, sha256=row_hash, metadata=metadata, turns=turns, notes=notes))
    return documents


def _row_name(table_name: str, row_id: str | None, number: int, id_counts: Counter) -> str:
    if not row_id:
        return f"{table_name}#{number}"
    return f"{row_id} (row {number})" if id_counts[row_id] > 1 else row_id


def _supported() -> str:
    return ", ".join(sorted(SUPPORTED_EXTENSIONS))
