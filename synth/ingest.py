"""Ingest: files → sources and passages in the project, all or nothing.

Everything is read and segmented before the first write, so a bad file stops the command with
the project untouched. An unchanged file is recognised by its SHA-256 and skipped; a changed one
becomes a new version of its source, and human placements of its unchanged passages carry over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .embed import text_sha256
from .errors import InputError
from .readers import Skipped, read_sources
from .records import ExtractedDocument, PassageSpan
from .segment import segment_many
from .structure import annotate_document
from .store import Project


_SEGMENT_CHUNK = 2000  # documents between progress reports


@dataclass(frozen=True)
class IngestedSource:
    name: str
    path: str  # for a table row: "{table path}#row={n}"
    kind: str
    version: int
    passages: int
    codable: int
    notes: tuple[str, ...] = ()
    structure: int = 0  # passages that are headings, furniture, references or captions (not codable)


@dataclass
class IngestReport:
    added: list[IngestedSource] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    metadata_updated: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (name, same content as)
    skipped: list[Skipped] = field(default_factory=list)  # what a folder walk passed over, and why

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.metadata_updated)


def ingest(project: Project, paths: Sequence[Path], *, kind: str | None = None,
           metadata: Mapping[str, str] | None = None, text_column: str | None = None,
           id_column: str | None = None, code_interviewer: bool = False, max_chars: int = 600,
           progress: Callable[[str, int, int | None], None] | None = None,
           question_column: str | None = None) -> IngestReport:
    """`progress(stage, done, total)`: stages "files" and "rows" (reading), "segment" and "store"."""
    # The project's own files, if saved inside a folder being ingested, are passed over without a word.
    own_files = [Path(f"{project.path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal", ".lock")]
    read = read_sources(paths, kind=kind, metadata=metadata, text_column=text_column, id_column=id_column,
                        exclude=own_files, progress=progress, question_column=question_column)
    docs = read.documents
    _refuse_name_clashes(docs)
    report = IngestReport(skipped=read.skipped)
    to_add: list[ExtractedDocument] = []
    metadata_changes: list[tuple[int, ExtractedDocument]] = []
    for doc in docs:
        existing = project.current_source_by_name(doc.name)
        if existing and existing.sha256 == doc.sha256:
            if existing.metadata != doc.metadata or existing.kind != doc.kind:
                metadata_changes.append((existing.id, doc))
            else:
                report.unchanged.append(doc.name)
            continue
        twin = project.current_source_with_sha(doc.sha256)
        if twin is not None and twin.name != doc.name:
            report.duplicates.append((doc.name, twin.name))
            continue
        to_add.append(doc)

    spans_per_doc = []
    for at in range(0, len(to_add), _SEGMENT_CHUNK):  # in chunks, only to show progress on large tables
        if progress is not None:
            progress("segment", at, len(to_add))
        spans_per_doc += segment_many([(d.text, d.turns) for d in to_add[at:at + _SEGMENT_CHUNK]],
                                      max_chars=max_chars, code_interviewer=code_interviewer)
    # Structure (headings, publication furniture, references, captions) stays in the source but is
    # not codable; every passage also keeps the heading it sits under.
    spans_per_doc = [_with_structure(doc, spans) for doc, spans in zip(to_add, spans_per_doc, strict=True)]
    for doc, spans in zip(to_add, spans_per_doc, strict=True):
        for span in spans:
            # The promise every later stage relies on; a failure here is a bug, never the user's fault.
            if doc.text[span.start_char:span.end_char] != span.text:
                raise AssertionError(f"segmenter broke the offset invariant in {doc.path} at {span.start_char}")

    with project.transaction():
        for done, (doc, spans) in enumerate(zip(to_add, spans_per_doc, strict=True)):
            if progress is not None and done % _SEGMENT_CHUNK == 0:
                progress("store", done, len(to_add))
            source, _ = project.add_source(doc, spans, [text_sha256(s.text) for s in spans])
            codable = sum(s.codable for s in spans)
            structure = sum(s.structure_kind is not None for s in spans)
            # Kept for context (a one-word survey answer is still part of the record), but said.
            notes = doc.notes + (() if codable else ("no codable passage: too short, only interviewer turns, "
                                                     "or only headings and furniture",))
            report.added.append(IngestedSource(doc.name, doc.path, doc.kind, source.version, len(spans), codable, notes,
                                               structure))
        for source_id, doc in metadata_changes:
            project.replace_source_metadata(source_id, doc.kind, doc.metadata)
            report.metadata_updated.append(doc.name)
    return report


def _with_structure(doc: ExtractedDocument, spans: list[PassageSpan]) -> list[PassageSpan]:
    notes = annotate_document(doc, spans)
    return [replace(span, codable=span.codable and note.kind is None, structure_kind=note.kind,
                    structure_reason=note.reason, section_heading=note.section_heading)
            for span, note in zip(spans, notes, strict=True)]


def _refuse_name_clashes(docs: Sequence[ExtractedDocument]) -> None:
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.name in seen:
            raise InputError(doc.path, f"has the same source name {doc.name!r} as {seen[doc.name]}; "
                                       "rename one of them or ingest them separately")
        seen[doc.name] = doc.path
