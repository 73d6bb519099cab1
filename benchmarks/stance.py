"""What the two steps discover runs after clustering do to theme quality on the dev sets (issue 13).

`synth/recurring.py` (catch-all themes split, recurring ideas carved out of broader themes, or gathered from the unplaced) and `synth/stance.py` (themes
divided between barrier and enabler/practice become siblings) run in discover after the clusterer;
`benchmarks.devsets` scores the clusterer alone. This scores, on the same cached vectors and
with ../shared/tools/theme_metrics.py: the clusterer, + carving, + carving and stance. Groups are
what discover uses: one source per NaPiRE respondent, one per NHS comment and per bill.

    python -m benchmarks.stance [--cache DIR] [--sets napire,bills,nhs] [--seeds 42,1] [--partitions sections,merged]

`--partitions`: the clusterer's partition as fitted ("sections", discover's when long documents are
present) and/or the merged one (`synth.merge_near`, discover's for short answers).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from benchmarks import datasets as dev  # the sets and their cached vectors, as benchmarks.devsets loads them
from synth.categorise import PrototypeIndex, categorise_passages
from synth.cluster import ClusterParams, cluster_passages
from synth.embed import Embedder, resolve_model
from synth.recurring import shape_themes
from synth.stance import split_by_stance


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("SYNTH_DEV_CACHE", "/tmp/tm-cache")))
    ap.add_argument("--sets", default="napire,bills,nhs")
    ap.add_argument("--seeds", default="42,1")
    ap.add_argument("--partitions", default="sections")
    args = ap.parse_args()
    from synth.merge_near import NearMerge

    prototypes = PrototypeIndex.build(Embedder(resolve_model(), device="cpu").encode)
    print("| set | seed | method | themes | coverage | NMI | harmonic purity | ARI | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        texts, gold, groups = dev.load(name)
        V = dev.vectors(name, texts, args.cache)
        groups = np.arange(len(texts)) if groups is None else groups
        started = time.perf_counter()
        cats = [c.category for c in categorise_passages(texts, V, prototypes=prototypes)]
        cat_seconds = time.perf_counter() - started
        for seed, partition in ((int(s), p) for s in args.seeds.split(",") for p in args.partitions.split(",")):
            t0 = time.perf_counter()
            merge = NearMerge() if partition == "merged" else None
            base = cluster_passages(V, group_ids=groups, params=ClusterParams(seed=seed, merge=merge))
            t1 = time.perf_counter()
            carved, made = shape_themes(base, V, groups)
            n_carved, n_gathered, n_split = made.carved, made.gathered, made.split
            t2 = time.perf_counter()
            stance = split_by_stance(carved, V, groups, cats, texts=texts)
            t3 = time.perf_counter()
            for method, result, seconds in (("clusterer", base, t1 - t0),
                                            (f"+ recurring ({n_split} catch-alls split, {n_carved} carved, {n_gathered} gathered)", carved, t2 - t0),
                                            (f"+ recurring + stance ({len(stance.splits)} split)", stance.clustering,
                                             t3 - t0 + cat_seconds)):
                r = dev.theme_report(result.labels.tolist(), gold)
                method = method if partition == "sections" else f"{method} (merged partition)"
                print(f"| {name} | {seed} | {method} | {r['themes']} | {r['coverage']:.3f} | {r['NMI']:.3f} | "
                      f"{r['harmonic_purity']:.3f} | {r['ARI']:.3f} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
