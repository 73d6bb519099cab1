"""Benchmark ingesting one large survey sheet: CPU seconds per stage (reading, cutting, saving) and peak memory.

    python -m benchmarks.ingest [--rows 1048575] [--xlsx PATH]

Builds (or reuses, with --xlsx naming an existing file) a sheet of `id, answer, area` rows, 12 words an
answer, and ingests it into a new project in a temporary folder through `synth.ingest.ingest`, timing each
stage by its first progress report. CPU time is quoted rather than wall time: the benchmark machine is
shared, and wall time there says more about the neighbours than about synth.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.markdown import table
from synth.ingest import ingest
from synth.store import Project

WORDS = "the bus fares were too high and childcare was hard to find near the jobcentre advisers helped".split()


def build_sheet(path: Path, rows: int) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["id", "answer", "area"])
    rng = random.Random(1)
    for i in range(rows):
        sheet.append([f"R{i}", " ".join(rng.choice(WORDS) for _ in range(12)), rng.choice(["North", "East"])])
    workbook.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_048_575)
    parser.add_argument("--xlsx", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sheet = args.xlsx or Path(tmp) / "sheet.xlsx"
        if not sheet.exists():
            build_sheet(sheet, args.rows)
        started, marks = time.process_time(), {}

        def progress(stage: str, done: int, total: int | None) -> None:
            marks.setdefault(stage, time.process_time() - started)

        with Project.open(Path(tmp) / "bench.synth") as project:
            report = ingest(project, [sheet], progress=progress)
        total = time.process_time() - started
    stages = [("read (files, rows)", 0.0, marks.get("segment", total)),
              ("cut into passages", marks.get("segment", total), marks.get("store", total)),
              ("save", marks.get("store", total), total)]
    print(f"{len(report.added):,} rows of {sheet.name} ingested; CPU seconds by stage:")
    print(table(["stage", "CPU s"], [*((name, f"{end - start:.1f}") for name, start, end in stages),
                                     ("total", f"{total:.1f}")], align="lr"))
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
