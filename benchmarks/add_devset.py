"""Adding 1 % new sources to a dev set (issue 13, item 7): themes kept by a warm start and by a full re-run.

For each dev set (NaPiRE: sources = respondents; nhs and bills: every comment or summary its own
source) it holds back 1 % of the sources (those whose id hashes lowest), clusters the rest as
discover does (consensus Ward, recurring ideas carved and gathered; no stance step, which needs
categories), then adds the held-back sources two ways: a warm start (`synth.incremental.warm_start`,
what discover does when at most 10 % is new) and a full re-partition matched to the stored themes
(`synth.match.match_themes`, what `discover --recluster` does). It counts the themes kept (same id,
at least 90 % of their placed passages), the new passages placed, and scores both on the whole set
with ../shared/tools/theme_metrics.py.

    PYTHONPATH=. python -m benchmarks.add_devset [--cache DIR] [--sets napire,nhs,bills] [--share 0.01]
        [--partition sections|merged]

`--partition merged`: the clusterer makes the merged partition (`synth.merge_near`, what `discover
--partition merged` and `auto` on short answers run); the warm start itself is the same code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from benchmarks.datasets import load, theme_report, vectors

from synth.cluster import ClusterParams, cluster_passages
from synth.incremental import StoredMembership, StoredTheme, warm_start
from synth.match import PreviousTheme, match_themes
from synth.records import Passage
from synth.recurring import carve_recurring, gather_unplaced


def discover_like(V: np.ndarray, groups: np.ndarray, merge=None):
    clustering = cluster_passages(V, group_ids=groups, params=ClusterParams(merge=merge))
    clustering, _ = carve_recurring(clustering, V, groups)
    clustering, _ = gather_unplaced(clustering, V, groups)
    return clustering


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/tm-cache"))
    ap.add_argument("--sets", default="napire,nhs,bills")
    ap.add_argument("--share", type=float, default=0.01)
    ap.add_argument("--partition", choices=["sections", "merged"], default="sections")
    args = ap.parse_args()
    from synth.merge_near import NearMerge

    merge = NearMerge() if args.partition == "merged" else None
    for name in args.sets.split(","):
        texts, gold, groups = load(name)
        V = vectors(name, texts, args.cache)
        groups = np.asarray(groups) if groups is not None else np.arange(len(texts))
        sources = sorted(set(groups.tolist()), key=lambda s: hashlib.sha256(str(s).encode()).digest())
        held = set(sources[:max(1, round(args.share * len(sources)))])
        new = np.array([g in held for g in groups.tolist()])
        base_rows = np.flatnonzero(~new)
        # Old passages first, then the new ones, as a project lists them after an ingest.
        order = np.concatenate([base_rows, np.flatnonzero(new)])
        V, groups, gold = V[order], groups[order], [gold[i] for i in order]
        n_base = len(base_rows)
        base = discover_like(V[:n_base], groups[:n_base], merge)
        passages = [Passage(id=i + 1, source_id=int(i), start_char=0, end_char=0, text="", text_sha256=str(i),
                            codable=True, speaker=None) for i in range(len(V))]
        themes = [StoredTheme(theme_id=j + 1, label="", definition="", top_terms=(), centroid=base.centroids[j],
                              quotes=()) for j in range(base.n_themes)]
        stored = {i + 1: StoredMembership(int(base.nearest[i]) + 1, float(base.probability[i]), bool(base.labels[i] >= 0))
                  for i in range(n_base)}
        before = {j + 1: set(np.flatnonzero(base.labels == j).tolist()) for j in range(base.n_themes)}

        warm = warm_start(passages, V, groups, themes, stored, removed=0, since_before=0, base_run=1)
        warm_members = {warm.theme_ids[j]: set(np.flatnonzero(warm.clustering.labels == j).tolist())
                        for j in range(len(warm.theme_ids))}

        full = discover_like(V, groups, merge)
        previous = {t: PreviousTheme(frozenset(str(i) for i in m), base.centroids[t - 1]) for t, m in before.items()}
        matching = match_themes(previous, [{str(i) for i in np.flatnonzero(full.labels == j)} for j in range(full.n_themes)],
                                full.centroids, present={str(i) for i in range(len(V))})
        full_members = {m.old_theme_id: set(np.flatnonzero(full.labels == m.new_index).tolist())
                        for m in matching.matches if m.old_theme_id is not None}

        def kept(after: dict) -> int:
            return sum(1 for t, m in before.items() if m and len(m & after.get(t, set())) >= 0.9 * len(m))

        fresh = np.arange(n_base, len(V))
        row = {"set": name, "partition": args.partition, "sources": len(sources), "held_back_sources": len(held), "new_passages": int(len(fresh)),
               "themes_before": base.n_themes,
               "warm_kept": kept(warm_members), "warm_new_themes": warm.n_new_themes,
               "warm_new_placed": int((warm.clustering.labels[fresh] >= 0).sum()),
               "full_kept": kept(full_members), "full_themes": full.n_themes,
               "full_new_placed": int((full.labels[fresh] >= 0).sum())}
        for key, labels in (("warm", warm.clustering.labels), ("full", full.labels)):
            r = theme_report(labels.tolist(), gold)
            row.update({f"{key}_coverage": round(r["coverage"], 3), f"{key}_HP": round(r["harmonic_purity"], 3),
                        f"{key}_NMI": round(r["NMI"], 3)})
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
