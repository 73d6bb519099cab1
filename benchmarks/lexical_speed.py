"""Cost of the lexical clusterer's cluster step beside consensus Ward, on the first N nhs comments.

    PYTHONPATH=. python -m benchmarks.lexical_speed [--sizes 1000,8791] [--cache /tmp/quality-cache]

Medians of 3 interleaved runs, wall and CPU seconds (user + system of this process, all threads),
for: consensus Ward (`cluster_passages`), consensus-ward-lexical (LSA view joined, weight 0.8), the
same with the word pass, and Ward with the word pass alone. Vectors come from benchmarks.devsets' cache.
Also prints the CPU cost of importing the scikit-learn modules the lexical view needs, which
discover does not otherwise import on the default path.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.datasets import ROOT, load, vectors


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,8791")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/quality-cache"))
    args = ap.parse_args()
    probe = ("import resource, synth.discover; u = resource.getrusage(resource.RUSAGE_SELF); "
             "t = u.ru_utime + u.ru_stime; import sklearn.feature_extraction.text, sklearn.decomposition; "
             "u = resource.getrusage(resource.RUSAGE_SELF); print(round(u.ru_utime + u.ru_stime - t, 2))")
    imports = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    print(json.dumps({"sklearn_text_and_svd_import_cpu_s": imports}), flush=True)

    from synth.cluster import ClusterParams, cluster_passages
    from synth.clusterers import ConsensusWardLexical

    texts, _, _ = load("nhs")
    V = vectors("nhs", texts, args.cache)
    for n in [int(x) for x in args.sizes.split(",")]:
        X, T = V[:n], texts[:n]
        runs = {
            "ward": lambda: cluster_passages(X, params=ClusterParams(seed=42)),
            "lexical": lambda: ConsensusWardLexical().fit(X, texts=T),
            "lexical+pass": lambda: ConsensusWardLexical(word_pass=0.8).fit(X, texts=T),
            "ward+pass": lambda: ConsensusWardLexical(lexical_weight=1.0, word_pass=0.8).fit(X, texts=T),
        }
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(3):
            for name, run in runs.items():
                wall, used = time.perf_counter(), cpu()
                run()
                timings[name].append((time.perf_counter() - wall, cpu() - used))
        print(json.dumps({"n": n, **{name: {"wall": round(statistics.median(w for w, _ in t), 2),
                                            "cpu": round(statistics.median(c for _, c in t), 2)}
                                     for name, t in timings.items()}}), flush=True)


if __name__ == "__main__":
    main()
