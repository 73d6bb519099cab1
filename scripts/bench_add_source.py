"""Stability when a source is added (issue 13, item 7): discover the demo without one interview, add it
back, discover again, and count the themes kept (same id, >= 90% of their placed passages).

    PYTHONPATH=. python scripts/bench_add_source.py [INTERVIEW_FILE] [--clusterer=NAME] [--recluster]

The second discover extends the stored themes (a warm start, synth/incremental.py); with --recluster
it partitions every passage afresh and matches the new themes to the stored ones.

Uses the synth of the Python running it (set PYTHONPATH to compare checkouts).
"""
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from synth.store import Project
DEMO = ROOT / "corpora" / "demo"
tmp = Path(tempfile.mkdtemp()); corpus = tmp / "demo"; shutil.copytree(DEMO, corpus)
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
CLUSTERER = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--clusterer=")]
HELD = ARGS[0] if ARGS else "riverside-employer.txt"
shutil.move(corpus / "interviews" / HELD, tmp / HELD)
man = corpus / "interviews" / "sources.csv"; full = man.read_text()
rows = list(csv.reader(full.splitlines()))
with man.open("w", newline="") as fh: csv.writer(fh).writerows(r for r in rows if r and r[0] != HELD)
P = tmp / "p.synth"; S = [str(Path(sys.executable).parent / "synth")]  # the console script; PYTHONPATH picks the code
def run(*a): subprocess.run([*S, *map(str, a)], check=True, capture_output=True)
def members():
    with Project.open(P, create=False) as p:
        h = {q.id: q.text_sha256 for q in p.passages()}
        return {t.id: {h[m.passage_id] for m in p.memberships(theme_id=t.id, placed=True)} for t in p.themes()}
EXTRA = ["--clusterer", CLUSTERER[0]] if CLUSTERER else []
run("ingest", P, corpus); run("discover", P, "--seed", "42", *EXTRA); before = members()
shutil.move(tmp / HELD, corpus / "interviews" / HELD); man.write_text(full)
run("ingest", P, corpus); run("discover", P, "--seed", "42", *EXTRA, *[a for a in sys.argv[1:] if a == "--recluster"])
after = members()
kept = [t for t in before if t in after and len(before[t] & after[t]) >= 0.9 * len(before[t])]
print(f"held back {HELD}: themes before {len(before)}, after {len(after)}, kept (same id, >= 90% of passages) {len(kept)} = {len(kept)/len(before):.0%}")
