"""What the section split (synth/section_split.py) sees in a project's big themes, theme by theme.

Re-runs discover's partition on the project's cached vectors (the default clusterer, `--seed`, then
recurring ideas carved and gathered and catch-alls split on the vectors, as `shape_themes` does
before the section split), and prints for every theme at least twice the median size: its size,
sources, the share its two largest sources hold, how many sections those span, the section test's
z, the section-view cut (sizes, and its word-profile cosine as a share of random parts'), and the
decision. Then the themes the split made, with each passage's source and heading.

    PYTHONPATH=. python -m benchmarks.section_split PROJECT [--seed 42]

The project must have been discovered once (its vectors are read from its cache).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np

from synth.cluster import ClusterParams, cluster_passages
from synth.embed import Embedder, resolve_model
from synth.recurring import carve_recurring, gather_unplaced, split_catch_alls
from synth.refine import bisect
from synth.section_split import (FEW_SOURCES, SECTION_Z, WORD_OVERLAP, Sections, _SEED, literature_catch_all,
                                 section_view, section_z, split_by_sections, word_weights)
from synth.store import Project
from synth.vectors import UnitRows, unit_rows


def word_ratio(weights, a, b, draws: int = 100) -> float:
    """The cut's word-profile cosine over random parts' (as `distinct_in_words` compares them)."""
    def cosine(x, y):
        px = np.asarray(weights[x].sum(axis=0)).ravel()
        py = np.asarray(weights[y].sum(axis=0)).ravel()
        n = np.linalg.norm(px) * np.linalg.norm(py)
        return float(px @ py / n) if n else 0.0

    both = np.concatenate([a, b])
    rng = np.random.default_rng(_SEED)
    chance = np.mean([cosine(p[:len(a)], p[len(a):]) for p in (rng.permutation(both) for _ in range(draws))])
    return cosine(a, b) / chance if chance else float("nan")


def cuts(view, mine, weights, m: int, depth: int = 3) -> str:
    """The section-view bisections `section_parts` tries, in words: sizes and words / chance."""
    Z = view.rows(mine)
    rest, said = np.arange(len(mine)), []
    for _ in range(depth):
        if len(rest) < 2 * m:
            break
        side = bisect(Z, rest)
        a, b = rest[~side], rest[side]
        if len(b) > len(a):
            a, b = b, a
        ratio = word_ratio(weights, a, b)
        said.append(f"{len(a)} / {len(b)} ({ratio:.2f})")
        if ratio > WORD_OVERLAP or len(b) >= m:
            break
        rest = a
    return " → ".join(said)


def themes_table(clustering, X, view, groups, sections, texts) -> None:
    m = int(clustering.stats.get("min_theme_size", 3))
    members = [np.flatnonzero(clustering.labels == j) for j in range(clustering.n_themes)]
    sizes = np.array([len(x) for x in members])
    big = max(2 * float(np.median(sizes[sizes > 0])), 2 * m)
    print(f"min theme size {m}; catch-all size from {big:g} passages\n")
    print(f"| theme | size | sources | {FEW_SOURCES} largest hold | their sections | literature catch-all | "
          f"section z (≥ {SECTION_Z:g}) | section-view cuts (words / chance, ≤ {WORD_OVERLAP:g} to split) |")
    print("|---|---|---|---|---|---|---|---|")
    for j in np.flatnonzero(sizes >= big):
        mine = members[j]
        counts = Counter(groups[mine].tolist())
        top = [s for s, _ in counts.most_common(FEW_SOURCES)]
        held = sum(counts[s] for s in top) / len(mine)
        spanned = {sections.keys[i] for i in mine if groups[i] in top and sections.keys[i] >= 0}
        z = section_z(X, mine, groups, sections.keys)
        weights = word_weights([texts[i] for i in mine])
        said = cuts(view, mine, weights, m) if weights is not None else "no words"
        print(f"| {j} | {len(mine)} | {len(counts)} | {held:.2f} | {len(spanned)} | "
              f"{literature_catch_all(mine, groups, sections.keys)} | {z:.2f} | {said} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("project", type=Path)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    with Project.open(args.project, write=False) as project:
        passages = project.passages(codable_only=True)
        run = project.latest_run()
        if run is None:
            raise SystemExit(f"{args.project}: run `synth discover` first (its vectors are read from the cache)")
        cached = project.cached_embeddings(run["model_id"], [p.text_sha256 for p in passages])
        names = project.source_names()
    V = np.stack([cached[p.text_sha256] for p in passages]).astype(np.float32)
    groups = np.array([p.source_id for p in passages])
    texts = [p.text for p in passages]
    headings = [p.section_heading for p in passages]
    X = unit_rows(V)
    clustering = cluster_passages(UnitRows.of(V), group_ids=groups, params=ClusterParams(seed=args.seed))
    clustering, _ = carve_recurring(clustering, X, groups)
    clustering, _ = gather_unplaced(clustering, X, groups)
    clustering, _ = split_catch_alls(clustering, X)
    sections = Sections.of(groups, headings)
    encode = Embedder(resolve_model(), device="cpu").encode
    view = section_view(X, sections, encode)
    print("Before the section split:\n")
    themes_table(clustering, X, view, groups, sections, texts)
    out, made = split_by_sections(clustering, X, groups, sections, texts, encode=encode)
    print(f"\nsplits made: {made}; after them:\n")
    themes_table(out, X, view, groups, sections, texts)
    members = [np.flatnonzero(clustering.labels == j) for j in range(clustering.n_themes)]
    for j in range(out.n_themes):
        mine = np.flatnonzero(out.labels == j)
        if j < clustering.n_themes and np.array_equal(mine, members[j]):
            continue
        print(f"\ntheme {j} ({len(mine)} passages):")
        for i in mine:
            print(f"  {passages[i].id} {names.get(groups[i], '')[-40:]} | {headings[i] or ''} | {texts[i][:80]}")


if __name__ == "__main__":
    main()
