"""`sources.csv`: a folder's manifest giving each file's kind and metadata.

Columns: `file` (a path relative to the manifest's folder; subfolders allowed), optional `kind`, and any
other columns, which become metadata (empty cells skipped).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from synth.errors import InputError
from synth.readers.decoding import decode_text
from synth.readers.limits import check_file_size
from synth.readers.tables import csv_grid
from synth.records import SOURCE_KINDS

MANIFEST_NAME = "sources.csv"


@dataclass(frozen=True)
class Entry:
    kind: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def under(self, nearer: Entry) -> Entry:
        """This entry with a nearer manifest's entry applied on top."""
        return Entry(nearer.kind or self.kind, {**self.metadata, **nearer.metadata})


def load_manifest(path: Path) -> dict[Path, Entry]:
    """Entries by the resolved path of the file they describe. Every named file must exist."""
    try:
        check_file_size(path, path.stat().st_size)
        data = path.read_bytes()
    except OSError as e:
        raise InputError(path, f"cannot read the manifest ({e.strerror})") from None
    text, _ = decode_text(path, data)
    grid = [row for row in csv_grid(path, text) if any(cell.strip() for cell in row)]
    if not grid:
        raise InputError(path, "empty manifest: give a header row with a 'file' column, or delete it")
    header = [" ".join(cell.split()) for cell in grid[0]]
    folded = [h.casefold() for h in header]
    if "file" not in folded:
        raise InputError(path, "a sources.csv manifest needs a 'file' column (and optionally 'kind'); "
                               f"its columns are: {', '.join(repr(h) for h in header)}")
    file_idx = folded.index("file")
    kind_idx = folded.index("kind") if "kind" in folded else None
    entries: dict[Path, Entry] = {}
    for line, row in enumerate(grid[1:], start=2):
        row = row + [""] * (len(header) - len(row))
        name = row[file_idx].strip()
        if not name:
            raise InputError(path, f"row {line} has an empty 'file' cell: name the file or remove the row")
        target = Path(os.path.normpath(path.parent / name))
        if not target.is_file():
            raise InputError(path, f"row {line} names '{name}', which is not a file in {path.parent}: "
                                   "fix the name or remove the row")
        kind = row[kind_idx].strip().lower() if kind_idx is not None else ""
        if kind and kind not in SOURCE_KINDS:
            raise InputError(path, f"row {line} has kind '{kind}': use one of {', '.join(SOURCE_KINDS)} "
                                   "(or leave it empty to infer it)")
        metadata = {header[i]: cell.strip() for i, cell in enumerate(row[: len(header)])
                    if i not in (file_idx, kind_idx) and cell.strip() and header[i]}
        entries[target] = Entry(kind or None, metadata)
    return entries
