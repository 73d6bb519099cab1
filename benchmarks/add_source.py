"""Stability when a source is added (issue 13, item 7): discover the demo without one interview, add it
back, discover again, and count the themes kept (same id, >= 90% of their placed passages).

    PYTHONPATH=. python -m benchmarks.add_source [INTERVIEW_FILE] [--clusterer=NAME] [--recluster]

The second discover extends the stored themes (a warm start, synth/incremental.py); with --recluster
it partitions every passage afresh and matches the new themes to the stored ones.

Uses the synth of the Python running it (set PYTHONPATH to compare checkouts).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.datasets import ROOT
from synth.store import Project

DEMO = ROOT / "corpora" / "demo"
SYNTH = [str(Path(sys.executable).parent / "synth")]  # the console script; PYTHONPATH picks the code


def _run(*args: object) -> None:
    subprocess.run([*SYNTH, *map(str, args)], check=True, capture_output=True)


def _members(path: Path) -> dict[int, set[str]]:
    """Each theme's placed passages, by text hash (ids change when a source is ingested again)."""
    with Project.open(path, create=False) as project:
        digest = {p.id: p.text_sha256 for p in project.passages()}
        return {t.id: {digest[m.passage_id] for m in project.memberships(theme_id=t.id, placed=True)}
                for t in project.themes()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("held", nargs="?", default="riverside-employer.txt", metavar="INTERVIEW_FILE",
                        help="the interview of corpora/demo/interviews to hold back, then add")
    parser.add_argument("--clusterer", help="synth discover's --clusterer (its default when not given)")
    parser.add_argument("--recluster", action="store_true",
                        help="the second discover partitions every passage afresh (discover --recluster)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    corpus = tmp / "demo"
    shutil.copytree(DEMO, corpus)
    shutil.move(corpus / "interviews" / args.held, tmp / args.held)
    manifest = corpus / "interviews" / "sources.csv"
    full = manifest.read_text()
    with manifest.open("w", newline="") as fh:
        csv.writer(fh).writerows(r for r in csv.reader(full.splitlines()) if r and r[0] != args.held)
    project = tmp / "p.synth"
    extra = ["--clusterer", args.clusterer] if args.clusterer else []
    _run("ingest", project, corpus)
    _run("discover", project, "--seed", "42", *extra)
    before = _members(project)
    shutil.move(tmp / args.held, corpus / "interviews" / args.held)
    manifest.write_text(full)
    _run("ingest", project, corpus)
    _run("discover", project, "--seed", "42", *extra, *(["--recluster"] if args.recluster else []))
    after = _members(project)
    kept = [t for t in before if t in after and len(before[t] & after[t]) >= 0.9 * len(before[t])]
    print(f"held back {args.held}: themes before {len(before)}, after {len(after)}, kept (same id, >= 90% of "
          f"passages) {len(kept)} = {len(kept) / len(before):.0%}")


if __name__ == "__main__":
    main()
