"""Benchmark what opening a project costs: the integrity checks (issue 12, item 7) at 100k passages.

A reader runs SQLite's quick_check and a writer the full integrity_check, unless the file is
exactly as the last synth writer left it (its state is recorded in the lock file). This measures
the four cases on a project of N passages filled directly through the store (sources of 100
passages, a 384-float embedding per passage, lemmas, memberships in 200 themes, categories): the
file has the size and the tables of a real project of that size, without hours of discover.

  .venv/bin/python scripts/bench_open.py --passages 100000        # prints a Markdown table
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from synth.store import Project, now_iso


def build(path: Path, n: int) -> None:
    rng, vectors = random.Random(0), np.random.default_rng(0)
    words = [f"word{i}" for i in range(5000)]
    with Project.open(path) as project, project.transaction() as db:
        for s in range(n // 100):
            texts = [" ".join(rng.choice(words) for _ in range(45)) + "." for _ in range(100)]
            full = "\n\n".join(texts)
            sid = db.execute("INSERT INTO sources (name, kind, path, sha256, text, version, is_current, notes, ingested_at)"
                             " VALUES (?, 'literature', ?, ?, ?, 1, 1, '[]', ?)",
                             (f"s{s}.txt", f"/x/s{s}.txt", hashlib.sha256(full.encode()).hexdigest(), full, now_iso())).lastrowid
            rows, at = [], 0
            for i, t in enumerate(texts):
                rows.append((sid, i, at, at + len(t), t, None, 1, hashlib.sha256(t.encode()).hexdigest()))
                at += len(t) + 2
            db.executemany("INSERT INTO passages (source_id, seq, start_char, end_char, text, speaker, codable, text_sha256)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            vecs = vectors.standard_normal((100, 384)).astype(np.float32)
            db.executemany("INSERT INTO embeddings VALUES ('m', ?, ?)", [(r[7], v.tobytes()) for r, v in zip(rows, vecs)])
            db.executemany("INSERT INTO passage_terms VALUES ('p', ?, ?, '')",
                           [(r[7], "\x1f".join(r[4].split()[:30])) for r in rows])
        run = db.execute("INSERT INTO runs (started_at, finished_at, seed, model_id, params, stats, report)"
                         " VALUES (?, ?, 42, 'm', '{}', '{}', '{}')", (now_iso(), now_iso())).lastrowid
        for t in range(200):
            db.execute("INSERT INTO themes (guid, label, updated_at, centroid, created_run, last_run) VALUES (?, ?, ?, ?, ?, ?)",
                       (f"g{t}", f"theme {t}", now_iso(), vectors.standard_normal(384).astype(np.float32).tobytes(), run, run))
        ids = [r[0] for r in db.execute("SELECT id FROM passages")]
        db.executemany("INSERT INTO memberships VALUES (?, ?, 0.8, 1, 0, ?)", [(i, 1 + i % 200, run) for i in ids])
        db.executemany("INSERT INTO passage_categories (passage_id, category, barrier, enabler, practice, context, cues, made_by)"
                       " VALUES (?, 'barrier', 0.5, 0.2, 0.2, 0.1, ?, 'x')", [(i, json.dumps([{"cue": "lack of"}])) for i in ids])


def time_open(path: Path, *, write: bool, changed: bool, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        if changed:
            os.utime(path)  # a change synth did not make: the check runs
        started = time.perf_counter()
        Project.open(path, create=False, write=write).close()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.synth"
        build(path, args.passages)
        Project.open(path, create=False, write=False).close()  # warm the page cache once
        rows = [
            ("read (themes, log, export, report), file as synth left it", time_open(path, write=False, changed=False, repeats=args.repeats)),
            ("read, file changed outside synth: quick_check", time_open(path, write=False, changed=True, repeats=args.repeats)),
            ("write (ingest, discover, theme …), file as synth left it", time_open(path, write=True, changed=False, repeats=args.repeats)),
            ("write, file changed outside synth: integrity_check", time_open(path, write=True, changed=True, repeats=args.repeats)),
        ]
        size = path.stat().st_size
    print(f"Opening a project of {args.passages:,} passages ({size / 2**20:.0f} MiB), median of {args.repeats}, "
          f"page cache warm; {platform.machine()}, {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end), "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}.\n")
    print("| open | median |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
