"""The groups of unplaced passages that gathering recurring ideas considers, to be read (issue 13,
item 2; docs/benchmarks.md, "Coverage at 100k passages").

Runs discover's clustering path on a discovered project's cached vectors (consensus Ward with the
defaults or --params, recurring ideas carved), then lists the candidate groups
(`synth.recurring.candidate_groups`): their number, size, nearest theme, the cosine of the group's
centre to that theme's centre against the theme's floor, and whether gathering makes the group a
theme or leaves it inside its nearest theme. A seeded sample (or --groups) is printed with a few of
its passages and the nearest theme's most central passages, to be read.

    python -m benchmarks.gathered PROJECT [--sample 20] [--seed 0] [--groups 7,13] [--params JSON]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("project", type=Path)
    ap.add_argument("--sample", type=int, default=20, help="how many candidate groups to print")
    ap.add_argument("--seed", type=int, default=0, help="draws the sample")
    ap.add_argument("--groups", default="", help="print these candidate numbers instead of a sample")
    ap.add_argument("--params", default="{}", help="ClusterParams fields, as JSON")
    args = ap.parse_args()

    from benchmarks.coverage import project_vectors
    from synth.cluster import ClusterParams, cluster_passages
    from synth.recurring import MAX_UNPLACED, candidate_groups, carve_recurring, cohesion
    from synth.store import Project
    from synth.vectors import unit

    X, groups = project_vectors(args.project)
    with Project.open(args.project, create=False, write=False) as project:
        texts = [p.text for p in project.passages(codable_only=True)]
    started = time.perf_counter()
    clustering = cluster_passages(X, group_ids=groups, params=ClusterParams(**json.loads(args.params)))
    clustering, carved = carve_recurring(clustering, X, groups)  # discover gathers after carving, before the split
    candidates = candidate_groups(clustering, X, groups)
    inside = [c for c in candidates if c.inside]
    unplaced = int((clustering.labels < 0).sum())
    print(json.dumps({"passages": len(X), "themes": clustering.n_themes, "carved": carved,
                      "unplaced": unplaced, "candidates": len(candidates),
                      # discover's gather_unplaced makes none of them themes above MAX_UNPLACED
                      "gathering_skipped": unplaced > MAX_UNPLACED,
                      "inside_their_theme": len(inside), "gathered": len(candidates) - len(inside),
                      "passages_gathered": int(sum(len(c.passages) for c in candidates if not c.inside)),
                      "seconds": round(time.perf_counter() - started, 1)}))
    if args.groups:
        shown = [int(g) for g in args.groups.split(",")]
    else:
        rng = np.random.default_rng(args.seed)
        shown = sorted(rng.choice(len(candidates), size=min(args.sample, len(candidates)), replace=False).tolist())
    U = unit(X, np.float32)
    for number in shown:
        c = candidates[number]
        verdict = "inside its theme: stays unplaced" if c.inside else "gathered: a new theme"
        print(f"\n=== candidate {number}: {len(c.passages)} passages, nearest theme {c.theme} "
              f"(centre cosine {c.similarity:.3f}, floor {c.floor:.3f}): {verdict}")
        for i in c.passages[:6]:
            print("   -", texts[i][:160].replace("\n", " "))
        members = np.flatnonzero(clustering.labels == c.theme)
        centre, _ = cohesion(U, members)
        for i in members[np.argsort(-(U[members] @ centre.astype(np.float32)))[:3]]:
            print("   theme:", texts[i][:120].replace("\n", " "))


if __name__ == "__main__":
    main()
