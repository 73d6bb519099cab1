"""Coverage at scale (issue 13, item 3: coverage >= 0.95 at 100k passages too).

Three parts, each one command:

- `--build DIR --size N`: the speed benchmark's table of N rows (benchmarks.corpus.make_corpus, the
  same rows `benchmarks.speed` ingests; each row one passage and its own source) as DIR/base.csv,
  and its 1 % of new rows as DIR/extra.csv. Then `synth ingest` and `synth discover` are run as
  documented (under `/usr/bin/time -v` for seconds and peak memory).
- `--report PROJECT`: what discover left: live themes, placed passages in them, codable passages,
  coverage (placed / codable), and the latest run's clustering stats.
- `--stages PROJECT` (or `--vectors NPY`): the clustering's coverage after each of its steps
  (refits' agreement, small themes dissolved, loose themes split, near placement; then discover's
  catch-all splits, carved and gathered recurring ideas) on the project's cached vectors, so that
  where coverage goes can be seen without embedding again. `--params` passes ClusterParams fields
  as JSON.

    python -m benchmarks.coverage --build /tmp/cov --size 100000
    python -m benchmarks.coverage --report /tmp/cov/p.synth
    python -m benchmarks.coverage --stages /tmp/cov/p.synth --params '{"max_fit": 4000}'
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def build(out: Path, size: int) -> None:
    from benchmarks.corpus import make_corpus, write_csv

    out.mkdir(parents=True, exist_ok=True)
    base, extra = make_corpus(size, max(1, size // 100))
    write_csv(base, out / "base.csv")
    write_csv(extra, out / "extra.csv")
    print(f"{out / 'base.csv'}: {len(base)} rows; {out / 'extra.csv'}: {len(extra)} rows")


def report(project_path: Path) -> dict:
    from synth.statuses import LIVE
    from synth.store import Project

    with Project.open(project_path, create=False) as project:
        codable = len(project.passages(codable_only=True))
        live = {t.id for t in project.themes(statuses=LIVE)}
        placed = sum(1 for m in project.memberships(placed=True) if m.theme_id in live)
        run = project.latest_run() or {}
    stats = {k: v for k, v in (run.get("stats") or {}).items() if not isinstance(v, (list, dict))}
    return {"themes": len(live), "placed": placed, "codable": codable,
            "coverage": round(placed / codable, 4) if codable else 0.0,
            "partition": (run.get("params") or {}).get("partition"), "cluster_stats": stats,
            "seconds": (run.get("report") or {}).get("seconds")}


def project_vectors(project_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The codable passages' cached vectors (the latest run's model) and source ids, in discover's order."""
    from synth.store import Project

    with Project.open(project_path, create=False) as project:
        passages = project.passages(codable_only=True)
        cached = project.cached_embeddings(project.latest_run()["model_id"], [p.text_sha256 for p in passages])
    return (np.stack([cached[p.text_sha256] for p in passages]).astype(np.float32),
            np.array([p.source_id for p in passages]))


def stages(X: np.ndarray, groups: np.ndarray, params) -> dict:
    """synth.cluster's steps after the consensus, one by one, with the coverage after each."""
    from threadpoolctl import threadpool_limits

    from synth import cluster as C
    from synth.assign import majority
    from synth.consensus_themes import renumber
    from synth.consensus_votes import ward_votes
    from synth.fit_sample import fit_set
    from synth.refine import place_near, split_loose, undo_weak_splits
    from synth.block_maps import Blocks, map_in_threads
    from synth.small_themes import dissolve_small, recurring_floor, typical_cohesion, viable

    started = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        X = C._normalised(X)
        g = C._checked_groups(groups, len(X))
        n = len(X)
        m = params.min_theme_size or C.default_min_theme_size(n)
        k = params.n_themes or C.default_n_themes(n, m)
        fit = fit_set(X, params.max_fit)
        n_neighbors = max(0, min(params.n_neighbors, m - 1, len(fit) - 1))
        workers = C._worker_count(params.workers)
        smoothed, ref, votes = ward_votes(X, fit, g, k, n_neighbors, params, C.Steps(None, 0),
                                          workers, {}, Blocks(map_in_threads(workers)))
        k, rows = votes.shape[1], np.arange(n)
        nearest = majority(votes, ref)
        agree = votes[rows, nearest] / params.n_resamples
        out = {"passages": n, "min_theme_size": m, "themes_asked": k, "fit": len(fit),
               "agreement": float((agree >= params.place_threshold).mean()),
               "agreement_fit_set": float((agree[fit] >= params.place_threshold).mean())}
        stands = viable(X, m, recurring_floor(m, params.min_sources, g), typical_cohesion(X, nearest, m), None)
        dissolved_nearest, dissolved = dissolve_small(smoothed, nearest, votes, k, m, stands)
        moved = dissolved_nearest != nearest
        agree = votes[rows, dissolved_nearest] / params.n_resamples
        out.update(dissolved=int(dissolved), moved_by_dissolving=int(moved.sum()),
                   after_dissolving=float((agree >= params.place_threshold).mean()))
        split_nearest, parent, splits = split_loose(smoothed, smoothed, dissolved_nearest, lambda s: len(s) >= m)
        placed = votes[rows, parent[split_nearest]] / params.n_resamples >= params.place_threshold
        out.update(splits=int(splits), after_splits=float(placed.mean()))
        placed = place_near(X, split_nearest, placed)
        out["after_near_placement"] = float(placed.mean())
        final_nearest, undone = undo_weak_splits(split_nearest, parent, placed, lambda s: len(s) >= m)
        placed = place_near(X, final_nearest, placed)
        out.update(splits_undone=int(undone), coverage=float(placed.mean()),
                   themes=int(len(np.unique(final_nearest))))
        # discover's next steps on the Ward partitions (synth/recurring.shape_themes): recurring ideas
        # carved and gathered (groups inside an existing theme left unplaced: `inside_themes`), catch-alls split.
        from synth.recurring import shape_themes

        renumbered, labels, centroids = renumber(X, final_nearest, placed)
        clustering = C.Clustering(labels, renumbered, agree, centroids, {"min_theme_size": m})
        clustering, made = shape_themes(clustering, X, g)
        catch_alls, carved, gathered = made.split, made.carved, made.gathered
        out.update(catch_alls_split=int(catch_alls), carved=int(carved),
                   gathered=gathered if gathered else clustering.stats.get("recurring_gathered", 0),
                   inside_themes=clustering.stats.get("recurring_inside_themes", 0),
                   coverage_after_gathering=float((clustering.labels >= 0).mean()),
                   themes_after_gathering=int(clustering.n_themes))
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--build", type=Path, metavar="DIR", help="write the table of --size rows as DIR/base.csv")
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--report", type=Path, metavar="PROJECT", help="coverage and themes of a discovered project")
    ap.add_argument("--stages", type=Path, metavar="PROJECT", help="coverage after each clustering step")
    ap.add_argument("--vectors", type=Path, metavar="NPY", help="--stages on these vectors (each its own source)")
    ap.add_argument("--params", default="{}", help="ClusterParams fields for --stages, as JSON")
    args = ap.parse_args()
    if args.build:
        build(args.build, args.size)
    if args.report:
        print(json.dumps(report(args.report), indent=1))
    if args.stages or args.vectors:
        from synth.cluster import ClusterParams

        if args.vectors:
            X = np.load(args.vectors)
            groups = np.arange(len(X))
        else:
            X, groups = project_vectors(args.stages)
        print(json.dumps({"params": json.loads(args.params),
                          **stages(X, groups, ClusterParams(**json.loads(args.params)))}))


if __name__ == "__main__":
    main()
