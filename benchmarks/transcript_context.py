"""Context for transcript passages, measured on the transcript proxies' projects (issue 13).

`python -m benchmarks.transcripts --keep DIR` leaves the ingested and discovered proxies in DIR
(napire.synth, nhs.synth). This re-clusters their codable passages from the stored vectors under
variants and scores each like `benchmarks.transcripts` (each coded span takes the theme of the placed
passage overlapping it most; ../shared/tools/theme_metrics.py):

- `base`: the stored vectors as they are;
- `noise=S`: Gaussian noise of sd 1e-3 (seed S) on every vector, renormalised: how far the partition moves
  when nothing meaningful changes (consensus Ward draws its subsets from a hash of the vectors, so any
  change to any vector redraws them); a difference inside this band is not a finding;
- `turn=W`: each passage moved towards its neighbours in its speaker turn by W
  (`synth.turn_context`, the code `synth discover --turn-context W` runs);
- `turns=same|file|rand,turn=W`: the same, over made-up turns, because the proxies have one passage per
  answer: runs of three passages of one code (an answer cut into three passages that keeps its code:
  the upside), of three consecutive passages of a file (nhs: 36 % of neighbours share a code, napire:
  4 %), of three passages drawn at random (codes at chance: the downside);
- `q=W`: the interviewer's last question before the passage's turn, embedded, added with weight W;
- `m=F`: the minimum theme size times F (the number of themes follows it).

Only clustering and `recurring.shape_themes` run (no stance split, no labels): faster than discover and
enough to compare variants, but its figures are not discover's (on napire 41 themes, not 57).

    PYTHONPATH=. HF_HUB_OFFLINE=1 python -m benchmarks.transcripts --keep DIR --no-bertopic
    PYTHONPATH=. HF_HUB_OFFLINE=1 python -m benchmarks.transcript_context DIR napire base noise=1 turn=0.25 q=0.6 m=0.5
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.datasets import theme_report
from benchmarks.transcripts import build_napire, build_nhs, span_themes
from synth.cluster import ClusterParams, cluster_passages, default_min_theme_size
from synth.embed import embed_with_cache, text_sha256
from synth.fast_embed import AUTO, choose_route, embedder_for, route_of_model_id
from synth.readers.transcript import find_turns, interviewer_names
from synth.recurring import shape_themes
from synth.store import Project
from synth.turn_context import turn_neighbours, with_turn_context
from synth.vectors import UnitRows, unit


class Proxy:
    """A kept proxy project: its codable passages, their stored vectors, the coded spans, each passage's
    real turn neighbours and the interviewer question before it."""

    def __init__(self, root: Path, name: str, per_group: int) -> None:
        folder = root / f"{name}-spans"
        folder.mkdir(exist_ok=True)
        self.spans = build_napire(folder) if name == "napire" else build_nhs(folder, per_group)
        with Project.open(root / f"{name}.synth", write=False) as project:
            sources = {s.id: s for s in project.sources()}
            metadata = project.source_metadata()
            self.passages = project.passages(codable_only=True)
            every = project.passages()
            model_id = project.latest_run()["model_id"]
            stored = project.cached_embeddings(model_id, [p.text_sha256 for p in self.passages])
        self.X = unit(np.array([stored[p.text_sha256] for p in self.passages], dtype=np.float32))
        self.groups = np.array([p.source_id for p in self.passages])
        self.file_of = {s.id: Path(s.path).name for s in sources.values()}
        self.neighbours = turn_neighbours(self.passages, every)
        self.questions = self._questions(sources, metadata)
        asked = sorted({q for q in self.questions if q})
        embedder = embedder_for(choose_route(AUTO, None, previous=route_of_model_id(model_id)).name, None)
        vectors = unit(embed_with_cache(asked, [text_sha256(q) for q in asked], {}, embedder).vectors)
        self.question_vectors = dict(zip(asked, vectors))

    def _questions(self, sources, metadata) -> list[str | None]:
        turns = {sid: find_turns(s.text, interviewer_names(metadata.get(sid, {})))
                 for sid, s in sources.items() if s.kind == "interview"}
        out = []
        for p in self.passages:
            ts = turns.get(p.source_id, ())
            k = next((i for i, t in enumerate(ts) if t.start_char <= p.start_char < t.end_char), None)
            asked = next((t for t in reversed(ts[:k]) if t.is_interviewer), None) if k is not None else None
            out.append(" ".join(sources[p.source_id].text[asked.start_char:asked.end_char].split()) if asked else None)
        return out

    def made_up_turns(self, how: str, size: int = 3) -> list[list[int]]:
        """Neighbours (adjacent in a run, as `turn_neighbours` gives them) over made-up runs of `size`."""
        spans_of: dict[str, list[int]] = defaultdict(list)
        for k, span in enumerate(self.spans):
            spans_of[span.file].append(k)
        runs: dict[tuple, list[int]] = defaultdict(list)
        for i, p in enumerate(self.passages):
            file = self.file_of[p.source_id]
            k = next((k for k in spans_of[file] if self.spans[k].start <= p.start_char < self.spans[k].end), None)
            if k is not None:
                runs[(file.rsplit("-group-", 1)[0], self.spans[k].code) if how == "same" else (file,)].append(i)
        if how == "rand":
            runs = {("rand",): list(np.random.default_rng(0).permutation([i for r in runs.values() for i in r]))}
        near: list[list[int]] = [[] for _ in self.passages]
        for run in runs.values():
            for at in range(0, len(run), size):
                chunk = run[at:at + size]
                for a, b in zip(chunk, chunk[1:]):
                    near[a].append(b)
                    near[b].append(a)
        return near

    def score(self, variant: str) -> dict:
        opts = dict(kv.split("=") for kv in variant.split(",")) if variant != "base" else {}
        units = UnitRows(self.X.copy())
        if "turn" in opts:
            near = self.made_up_turns(opts["turns"]) if "turns" in opts else self.neighbours
            with_turn_context(units, near, float(opts["turn"]))
        if "q" in opts:
            for i, q in enumerate(self.questions):
                if q:
                    units.rows[i] += float(opts["q"]) * self.question_vectors[q]
            units.rows[:] = unit(units.rows)
        if "noise" in opts:
            noise = np.random.default_rng(int(opts["noise"])).normal(0, 1e-3, units.shape).astype(np.float32)
            units.rows[:] = unit(units.rows + noise)
        m = round(default_min_theme_size(len(units)) * float(opts["m"])) if "m" in opts else None
        started = time.perf_counter()
        clustering = cluster_passages(units, group_ids=self.groups,
                                      params=ClusterParams(min_theme_size=max(3, m) if m else None))
        clustering, _ = shape_themes(clustering, units, self.groups)
        theme_of = {p.id: int(t) for p, t in zip(self.passages, clustering.labels) if t >= 0}
        r = theme_report(span_themes(self.spans, self.passages, self.file_of, theme_of), [s.code for s in self.spans])
        return {"variant": variant, "themes": r["themes"], "coverage": r["coverage"], "HP": r["harmonic_purity"],
                "NMI": r["NMI"], "ARI": r["ARI"], "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path, help="the --keep folder of a benchmarks.transcripts run")
    ap.add_argument("set", choices=["napire", "nhs"])
    ap.add_argument("variants", nargs="+", help="base, noise=S, turn=W, turns=same|file|rand,turn=W, q=W, m=F")
    ap.add_argument("--per-group", type=int, default=8, help="as the benchmarks.transcripts run that made nhs")
    args = ap.parse_args()
    proxy = Proxy(args.root, args.set, args.per_group)
    print(json.dumps({"set": args.set, "passages": len(proxy.passages),
                      "with turn neighbours": sum(bool(n) for n in proxy.neighbours),
                      "distinct questions": len(proxy.question_vectors)}), flush=True)
    for variant in args.variants:
        print(json.dumps({"set": args.set, **proxy.score(variant)}), flush=True)


if __name__ == "__main__":
    main()
