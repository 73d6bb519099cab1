"""Benchmark what opening a project costs: the integrity checks (issue 12, item 7) at 100k passages.

A reader runs SQLite's quick_check and a writer the full integrity_check, unless the file is
exactly as the last synth writer left it (its state is recorded in the lock file). This measures
the four cases on a project of N passages filled directly through the store (benchmarks/synthetic.py:
sources of 100 passages, a 384-float embedding per passage, lemmas, memberships in 200 themes,
categories, a reviewer's decision log): the file has the size and the tables of a real project of
that size, without hours of discover.

  .venv/bin/python -m benchmarks.open --passages 100000        # prints a Markdown table
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
from pathlib import Path

from benchmarks import machine, synthetic, timing
from benchmarks.markdown import table
from synth.store import Project


def time_open(path: Path, *, write: bool, changed: bool, repeats: int) -> float:
    # A change synth did not make (a new mtime) makes the check run.
    return timing.repeat(lambda: Project.open(path, create=False, write=write).close(), repeats,
                         before=(lambda: os.utime(path)) if changed else None).median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.synth"
        synthetic.build(path, args.passages)
        Project.open(path, create=False, write=False).close()  # warm the page cache once
        rows = [
            ("read (themes, log, export, report), file as synth left it", time_open(path, write=False, changed=False, repeats=args.repeats)),
            ("read, file changed outside synth: quick_check", time_open(path, write=False, changed=True, repeats=args.repeats)),
            ("write (ingest, discover, theme …), file as synth left it", time_open(path, write=True, changed=False, repeats=args.repeats)),
            ("write, file changed outside synth: integrity_check", time_open(path, write=True, changed=True, repeats=args.repeats)),
        ]
        size = path.stat().st_size
    print(f"Opening a project of {args.passages:,} passages ({size / 2**20:.0f} MiB), median of {args.repeats}, "
          f"page cache warm; {machine.describe()}; SQLite {sqlite3.sqlite_version}.\n")
    print(table(["open", "median"], [(name, f"{seconds * 1000:.1f} ms") for name, seconds in rows]))


if __name__ == "__main__":
    main()
