"""Theme recovery on every dev set, beside both BERTopic anchors, in one run.

For each dev set (nhs-feedback: 8,791 comments, 44 staff subcategories; nhs2651: a fixed 2,651 of
them, the held-out set's size; NaPiRE: the 1,679 answers
with exactly one researcher code, sources = respondents; bills: 1,000 summaries, 21 topics) it runs
synth's clusterer(s), plain BERTopic (the anchor's settings: UMAP seeded 42, HDBSCAN min cluster
size 10) and BERTopic + `reduce_outliers` (strategy "embeddings", then "c-tf-idf"), all on the same
cached all-MiniLM-L6-v2 vectors, and scores them with ../shared/tools/theme_metrics.py, the
definitions of the held-out evaluation (unplaced = one cluster).

    python -m benchmarks.devsets [--cache DIR] [--sets nhs,nhs2651,napire,bills] [--methods synth,...]
                                 [--seeds 42,1] [--no-bertopic] [--json PATH] [--reuse-umap]

Vectors are cached in --cache as NAME_emb.npy (computed once with synth's bundled model if absent).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from benchmarks.datasets import headings, load, theme_report, vectors
from benchmarks.markdown import table
from benchmarks.multiview import forget
from synth.cluster import ClusterParams, cluster_passages


def bertopic_runs(texts: list[str], V: np.ndarray, seed: int = 42) -> dict[str, list]:
    """The anchor exactly as ../shared/tools/bertopic_anchor.py runs it, on the given vectors."""
    from bertopic import BERTopic
    from umap import UMAP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                         random_state=seed))
        start = time.perf_counter()
        topics, _ = model.fit_transform(texts, V)
        seconds = time.perf_counter() - start
        out = {"BERTopic defaults": (list(topics), seconds)}
        for strategy in ("embeddings", "c-tf-idf"):
            extra = {"embeddings": V} if strategy == "embeddings" else {}
            out[f"BERTopic + reduce_outliers({strategy})"] = (
                list(model.reduce_outliers(texts, topics, strategy=strategy, **extra)), seconds)
    return out


SYNTH_METHODS = {
    "synth": dict(),  # the defaults: consensus Ward + recurring-idea floor + loose-theme splits + near placement
    "synth --clusterer consensus-ward": dict(partition="ward"),  # the partition before the graph
    "synth --clusterer consensus-leiden": dict(partition="leiden"),  # the graph partition (an option)
    "synth before": dict(min_sources=0, split_loose=False, place_near=False, partition="ward"),  # main before issue 13
    "synth no splits": dict(split_loose=False),
    "synth no near placement": dict(place_near=False),
    # ... then discover's steps after the clusterer (synth/recurring.py), in discover's order: recurring
    # ideas carved and gathered, catch-alls split ("Coverage at 100k"; the same as "synth + recurring").
    "synth + recurring ideas": dict(recurring=True),
    "synth + recurring ideas, refits not settled": dict(recurring=True, settle_steps=0),
    "synth refits not settled": dict(settle_steps=0),  # refits fitted on the sample alone (the default before "Coverage at 100k")
    "synth --clusterer umap-hdbscan": dict(clusterer="umap-hdbscan"),
    # The clusterer + the steps discover runs after it on the Ward family (synth/recurring.py, no stance):
    # recurring ideas carved and gathered, then catch-alls split past fragments too small to stand;
    "synth + recurring": dict(shaping="after"),
    # ... as main had them before branch `catchall`: catch-alls split first, at the first bisection only.
    "synth + recurring (split first at one level)": dict(shaping="before"),
    # ... and literature catch-alls split along their sections (synth/section_split.py, as discover
    # does; headings: `benchmarks.datasets.headings`, the question for NaPiRE, none for NHS and bills).
    "synth + recurring + sections": dict(shaping="after", sections=True),
    # The embedding joined to the passages' LSA view (synth/lexical.py); w = the embedding's share.
    "synth --clusterer consensus-ward-lexical": dict(clusterer="consensus-ward-lexical"),
    "lexical w=0.9": dict(clusterer="consensus-ward-lexical", lexical_weight=0.9),
    "lexical w=0.7": dict(clusterer="consensus-ward-lexical", lexical_weight=0.7),
    "lexical w=0.6": dict(clusterer="consensus-ward-lexical", lexical_weight=0.6),
    # ... then every passage moved to the theme closest by meaning and by the theme's c-TF-IDF words.
    "lexical + word pass 0.8": dict(clusterer="consensus-ward-lexical", word_pass=0.8),
    "lexical + word pass 0.7": dict(clusterer="consensus-ward-lexical", word_pass=0.7),
    "word pass 0.8 alone": dict(clusterer="consensus-ward-lexical", lexical_weight=1.0, word_pass=0.8),
    # Consensus Ward on a UMAP-reduced space (synth/umap_space.py; branch umap13): dims, neighbours,
    # and the number of themes (sqrt(n/2), or HDBSCAN's count on the reduced points, min size h);
    # the steps after it on the original vectors, or ("space") on the reduced ones.
    **{f"umap{d}n{nb}{k}{' +rec' if rec else ''}": dict(clusterer="consensus-ward-umap", n_components=d,
                                                        n_neighbors=nb, shaping="after" if rec else None,
                                                        **({"k_from": "hdbscan", "hdbscan_size": int(k[1:])}
                                                           if k else {}))
       for d in (5, 10) for nb in (15, 30) for k in ("", "h10", "h20", "h30") for rec in (False, True)},
    "umap5n15 +rec space": dict(clusterer="consensus-ward-umap", shaping="after", downstream="space"),
    "umap5n15h10 +rec space": dict(clusterer="consensus-ward-umap", shaping="after", downstream="space",
                                   k_from="hdbscan", hdbscan_size=10),
    # Multi-view variants (benchmarks/multiview.py; coverage = consensus Ward's placed passages):
    # evidence accumulation of Ward, lexical Ward and Leiden, cut at Ward's theme count (x1.5);
    "multi-view EAC": dict(variant="eac"),
    "multi-view EAC x1.5": dict(variant="eac", k_factor=1.5),
    # co-training: the lexical view's classifier and the embedding's, alternated until they agree
    # ("co-training": the first measurement, benchmarks/multiview.py; the option: synth.lexical.co_train);
    "co-training": dict(variant="cotrain"),
    "synth --clusterer consensus-ward-cotrain": dict(clusterer="consensus-ward-cotrain"),
    # the unsure passages (some refit disagreed) take their 10 nearest neighbours' weighted majority.
    "propagation": dict(variant="propagate"),
    "propagation lexical": dict(variant="propagate", lexical=True),
    "propagation lexical agreement<0.9": dict(variant="propagate", lexical=True, unsure_below=0.9),
    # Over-cluster, then merge (benchmarks/fine_merge.py, branch short13): consensus Ward at x{f} its themes,
    # the fine themes merged by complete linkage on centroid cosine within distance d (cap: no union above
    # c typical themes' passages), votes pooled; then discover's recurring-idea steps ("+rec").
    **{f"fine x{f:g} merged d{d:g}{f' cap{c:g}' if c else ''}{' +rec' if rec else ''}":
       dict(merge=dict(factor=f, distance=d, cap=c), shaping="after" if rec else None)
       for f in (2.0, 3.0) for d in (0.2, 0.3, 0.4) for c in (None, 2.0, 4.0) for rec in (False, True)},
    # ... and a merge refused when the union is looser (mean cosine of its passages' own vectors to their
    # centre) than the q-quantile of the fine themes' (q = 0.1, 0.25, 0.5).
    **{f"fine x3 merged d0.3 tight{q:g}{' +rec' if rec else ''}":
       dict(merge=dict(factor=3.0, distance=0.3, tight=q), shaping="after" if rec else None)
       for q in (0.1, 0.25, 0.5) for rec in (False, True)},
    # ... or merged by shared neighbours instead of centroid distance: the pair whose union's 15-nearest-
    # neighbour links cross between the two most, while that share is at least s (benchmarks/fine_merge.py).
    **{f"fine x{f:g} merged by neighbours s{sh:g}{' +rec' if rec else ''}":
       dict(merge=dict(factor=f, share=sh), shaping="after" if rec else None)
       for f in (2.0, 3.0) for sh in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4) for rec in (False, True)},
    # ... or by centroid distance, then every merged theme looser than the median one taken apart again.
    **{f"fine x{f:g} merged d{d:g} undo loose{' +rec' if rec else ''}":
       dict(merge=dict(factor=f, distance=d, undo_loose=True), shaping="after" if rec else None)
       for f in (1.0, 1.5, 2.0, 3.0) for d in (0.3, 0.4) for rec in (False, True)},
    # ... and the fine themes of a loose merged theme merged again at half the distance.
    **{f"fine x{f:g} merged d{d:g} undo loose halve{' +rec' if rec else ''}":
       dict(merge=dict(factor=f, distance=d, undo_loose="halve"), shaping="after" if rec else None)
       for f in (2.0, 3.0) for d in (0.3, 0.4) for rec in (False, True)},
    # Near-duplicate themes merged after the clusterer (centroids of the passages' own vectors within
    # complete-linkage distance d, loose merges undone), placement kept; then the recurring-idea steps.
    **{f"near-duplicates merged d{d:g}{' +rec' if rec else ''}": dict(merge_after=d, shaping="after" if rec else None)
       for d in (0.2, 0.3, 0.4, 0.5) for rec in (False, True)},
    # Gather before merging (branch dup13): the recurring ideas gathered from the unmerged partition's
    # unplaced kept as themes of the merged one, at x{f} the clusterer's themes; the merge as "fine xF
    # merged dD undo loose"; then discover's steps. Since branch merge13 synth's own code
    # (synth.merge_near, ClusterParams(merge=NearMerge(f, d, place_pooled=...))).
    **{f"fine x{f:g} merged d{d:g} undo loose gathered first +rec":
       dict(merge=dict(factor=f, distance=d, undo_loose=True), gather_first=True, shaping="after")
       for f in (1.0, 1.3, 1.6, 2.0) for d in (0.3, 0.4, 0.5)},
    # ... and the passages a loose merged theme taken apart leaves unplaced placed as the merged theme
    # would have placed them, in their nearest part (synth.merge_near.placed_as_pooled).
    **{f"fine x{f:g} merged d{d:g} undo loose placed gathered first +rec":
       dict(merge=dict(factor=f, distance=d, undo_loose=True, place_pooled=True), gather_first=True,
            shaping="after")
       for f in (1.0, 1.3, 1.6, 2.0) for d in (0.3, 0.4)},
    # What `synth discover --partition merged` runs (and `auto` on short-answer corpora): synth.merge_near's
    # defaults (x1.6, d0.4, placed, gathered first), then discover's steps (branch merge13).
    "synth + recurring + merged partition": dict(near_merge=True, shaping="after"),
    # ... with no merged union above a share of the passages (NearMerge.max_share, 0.25 since branch
    # share15), and without that bound (the merged partition as branch merge13 shipped it).
    **{f"synth + recurring + merged partition share{s:.2g}": dict(near_merge={"max_share": s}, shaping="after")
       for s in (0.1, 0.15, 0.2, 0.25, 0.3, 1 / 3)},
    "synth + recurring + merged partition unbounded": dict(near_merge={"max_share": None}, shaping="after"),
}


def synth_run(V: np.ndarray, groups, seed: int, texts=None, **params) -> tuple[list[int], float, object]:
    if params.get("variant"):
        from benchmarks.multiview import run_variant

        labels, seconds = run_variant(V, groups, texts, seed, **params)
        return labels, seconds, None
    start = time.perf_counter()
    shaping = params.pop("shaping", None)
    downstream = params.pop("downstream", None)
    sections = params.pop("sections", None)
    if params.pop("recurring", False):  # the name the coverage section's commands use
        shaping = "after"
    after = params.pop("merge_after", None)
    if after:  # near-duplicate themes merged after the clusterer, placement kept (benchmarks/fine_merge.py)
        from benchmarks.fine_merge import merge_near_duplicates

        result = merge_near_duplicates(cluster_passages(V, group_ids=groups, params=ClusterParams(seed=seed, **params)),
                                       V, after)
        if shaping:
            result = shaped(result, V, groups, texts=texts)
        return result.labels.tolist(), time.perf_counter() - start, result
    near_merge = params.pop("near_merge", False)
    if near_merge:  # the shipped merged partition, at its defaults (or those given)
        from synth.merge_near import NearMerge

        near = NearMerge(**near_merge) if isinstance(near_merge, dict) else NearMerge()
        result = cluster_passages(V, group_ids=groups, params=ClusterParams(seed=seed, merge=near, **params))
        result = shaped(result, V, groups, texts=texts) if shaping else result
        return result.labels.tolist(), time.perf_counter() - start, result
    merge = params.pop("merge", None)
    if merge and params.pop("gather_first", False):  # recurring ideas gathered before the merge (dup13), in synth
        from synth.merge_near import NearMerge

        near = NearMerge(factor=merge["factor"], distance=merge["distance"],
                         place_pooled=merge.get("place_pooled", False))
        result = cluster_passages(V, group_ids=groups, params=ClusterParams(seed=seed, merge=near, **params))
        result = shaped(result, V, groups, texts=texts)
        return result.labels.tolist(), time.perf_counter() - start, result
    if merge:  # the over-cluster-then-merge experiment, around the default clusterer
        from benchmarks.fine_merge import merged_fine_themes

        with merged_fine_themes(**merge):
            result = cluster_passages(V, group_ids=groups, params=ClusterParams(seed=seed, **params))
        if shaping:
            result = shaped(result, V, groups, texts=texts)
        return result.labels.tolist(), time.perf_counter() - start, result
    if params.get("clusterer"):
        from synth.clusterers import NEEDS_TEXTS, make_clusterer

        name = params.pop("clusterer")
        model = make_clusterer(name, seed=seed).set_params(**params)
        extra = {"texts": texts} if name in NEEDS_TEXTS else {}
        result = model.fit(V, groups=groups, **extra).clustering_
        if downstream == "space":  # discover's later steps in the clustering space, not the embedding's
            result, V = model.space_clustering_, model.space_
    else:
        result = cluster_passages(V, group_ids=groups, params=ClusterParams(seed=seed, **params))
    if shaping:
        result = shaped(result, V, groups, before=shaping == "before", sections=sections, texts=texts)
    return result.labels.tolist(), time.perf_counter() - start, result


def shaped(result, V: np.ndarray, groups, *, before: bool = False, sections=None, texts=None):
    """`result` after discover's recurring-idea steps (groups: one source per passage when None).
    `sections`: each passage's heading, to split literature catch-alls along them as discover does
    (their embeddings made with the bundled model)."""
    from synth.recurring import carve_recurring, gather_unplaced, shape_themes, split_catch_alls
    from synth.section_split import Sections

    groups = np.arange(len(V)) if groups is None else np.asarray(groups)
    if not before:
        if sections is None:
            return shape_themes(result, V, groups)[0]
        return shape_themes(result, V, groups, sections=Sections.of(groups, sections), texts=texts,
                            encode=_heading_encoder())[0]
    result, _ = split_catch_alls(result, V, fragment_depth=1)  # main's order and split before `catchall`
    result, _ = carve_recurring(result, V, groups)
    return gather_unplaced(result, V, groups)[0]


def _memoise_umap() -> None:
    """Make synth.umap_space.reduce remember its results for the same vectors and settings."""
    import hashlib

    import synth.umap_space as space

    original, memo = space.reduce, {}

    def reduce(X, **kwargs):
        key = (hashlib.blake2b(np.ascontiguousarray(X).tobytes()).hexdigest(), tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = original(X, **kwargs)
        return memo[key]

    space.reduce = reduce


def _heading_encoder():
    """The bundled model's encoder, loaded on first use (only when some theme reaches the heading view)."""
    from benchmarks.datasets import embed

    return lambda headings: embed(list(headings))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("SYNTH_DEV_CACHE", "/tmp/tm-cache")))
    ap.add_argument("--sets", default="nhs,nhs2651,napire,bills")
    ap.add_argument("--methods", default=",".join(SYNTH_METHODS))
    ap.add_argument("--seeds", default="42")
    ap.add_argument("--no-bertopic", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON lines here")
    ap.add_argument("--reuse-umap", action="store_true",
                    help="compute each UMAP space once per set and reuse it across methods (for iterating: "
                         "the umap variants' seconds then leave out the reduction)")
    args = ap.parse_args()
    if args.reuse_umap:
        _memoise_umap()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for name in args.sets.split(","):
        texts, gold, groups = load(name)
        V = vectors(name, texts, args.cache)
        forget()  # multi-view variants share one set's base partitions, keyed by the vectors
        if not args.no_bertopic:
            for variant, (labels, seconds) in bertopic_runs(texts, V).items():
                rows.append({"set": name, "method": variant, **theme_report(labels, gold), "seconds": round(seconds, 1)})
                print(json.dumps(rows[-1]), flush=True)
        for method in args.methods.split(","):
            runs = []
            params = dict(SYNTH_METHODS[method])
            if params.get("sections"):
                params["sections"] = headings(name)
            for seed in seeds:
                labels, seconds, _ = synth_run(V, groups, seed, texts, **params)
                runs.append(labels)
                if seed == seeds[0]:
                    row = {"set": name, "method": method, **theme_report(labels, gold), "seconds": round(seconds, 1)}
            if len(runs) > 1:
                row["seed_ARI"] = round(statistics.median(adjusted_rand_score(runs[i], runs[j])
                                                          for i in range(len(runs)) for j in range(i + 1, len(runs))), 4)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print()
    many = len(seeds) > 1
    print(table(["set", "method", "themes", "coverage", "harmonic purity", "NMI", "ARI", "seconds"]
                + (["seed ARI"] if many else []),
                [[r["set"], r["method"], r["themes"], f"{r['coverage']:.3f}", f"{r['harmonic_purity']:.3f}",
                  f"{r['NMI']:.3f}", f"{r['ARI']:.3f}", r["seconds"]] + ([r.get("seed_ARI", "")] if many else [])
                 for r in rows]))

if __name__ == "__main__":
    main()
