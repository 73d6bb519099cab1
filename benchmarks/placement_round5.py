"""Placement by examples, fifth round (issue 14, item 4): adapt the encoder to the codebook.

Every earlier round changed the scores on frozen embeddings. Here the bundled sentence encoder is
fine-tuned on the codebook's own examples first, SetFit-style (Tunstall et al. 2022): the measured
setting ("setfit") is sentence-transformers' BatchAllTripletLoss (cosine distance, margin 0.25, as
SetFit's distance losses) on batches of whole themes, 30 steps; SetFit's default CosineSimilarityLoss
on sampled +/- pairs ("setfit-pairs") and MultipleNegativesRankingLoss ("mnrl") are here but were not
run (too slow on 2 shared cores; docs/benchmarks.md, round 5). Then every passage is re-embedded with
the tuned encoder and placed by nearest centroid and by the shipped scorer (synth/placement.py) on
the new vectors and their own neighbour graph.

With names, the name enters twice: as one more training text of its theme, and at placement as the
theme's text vector (embedded by the tuned encoder) through the shipped gate.

The training loop is plain PyTorch around sentence-transformers' own loss modules (its `fit` needs
the `datasets` and `accelerate` packages, which synth does not depend on). Nothing is downloaded: the
model is loaded from the bundled folder. Each tuned set of vectors is kept under /tmp/place15-cache
(keyed by the set, the draw's examples and the settings) so a rerun does not tune again.

    PYTHONPATH=. python -m benchmarks.placement_round5 [--sets "NHS subcategories"] [--examples 5] [--draws 1] [--configs setfit]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.placement import Data, shipped, unit
from synth import placement as pl

CACHE = Path("/tmp/place15-cache")
TIMES: list[dict] = []  # seconds of every tuning run in this process (fine-tune, re-embed)


@dataclass(frozen=True)
class Tuning:
    # "batch-all": sentence-transformers' BatchAllTripletLoss (one of SetFit's distance losses) on batches
    # of `themes_per_batch` themes x all their texts, every in-batch triplet used; "cosine": SetFit's
    # default CosineSimilarityLoss on +/- pairs; "mnrl": MultipleNegativesRankingLoss on anchor/positive pairs
    loss: str = "batch-all"
    steps: int = 30           # batch-all: optimiser steps
    themes_per_batch: int = 8
    pairs_per_example: int = 5  # SetFit's num_iterations: per example, this many positive (and negative) pairs
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 5e-5
    seed: int = 0
    max_tokens: int = 128     # while training only (re-embedding keeps the model's 256): long texts are rare and slow


CONFIGS = {"setfit": Tuning(), "setfit-lr2e-5": Tuning(learning_rate=2e-5), "setfit-60": Tuning(steps=60),
           "setfit-pairs": Tuning(loss="cosine"), "mnrl": Tuning(loss="mnrl")}


def name_text(label: str) -> str:
    return re.sub(r"([a-z])([A-Z])", r"\1 \2", str(label)).replace("_", " ").strip()


def _pairs(texts: list[str], labels: np.ndarray, t: Tuning, rng) -> list[tuple[str, str, float]]:
    """SetFit's pair generation (num_iterations): for every text, pairs_per_example rounds of one
    positive (another text of its theme) and one negative (a text of another theme)."""
    out = []
    by_label = {k: np.flatnonzero(labels == k) for k in np.unique(labels)}
    for _ in range(t.pairs_per_example):
        for i, k in enumerate(labels):
            same = by_label[k][by_label[k] != i]
            if len(same):
                out.append((texts[i], texts[int(rng.choice(same))], 1.0))
            out.append((texts[i], texts[int(rng.choice(np.flatnonzero(labels != k)))], 0.0))
    rng.shuffle(out)
    return out


def _anchor_batches(texts: list[str], labels: np.ndarray, t: Tuning, rng) -> list[list[tuple[str, str]]]:
    """(anchor, positive) pairs of one theme, in batches with no theme twice (in-batch negatives)."""
    pairs = []
    for _ in range(t.pairs_per_example):
        for i, k in enumerate(labels):
            same = np.flatnonzero((labels == k) & (np.arange(len(labels)) != i))
            if len(same):
                pairs.append((int(k), texts[i], texts[int(rng.choice(same))]))
    rng.shuffle(pairs)
    batches, current, seen = [], [], set()
    pending = pairs
    while pending:
        rest = []
        for k, a, p in pending:
            if k in seen:
                rest.append((k, a, p))
                continue
            current.append((a, p))
            seen.add(k)
            if len(current) == t.batch_size:
                batches.append(current)
                current, seen = [], set()
        if current and (not rest or len(rest) == len(pending)):
            batches.append(current)
            current, seen = [], set()
        pending = rest
    return batches


def _theme_batches(labels: np.ndarray, t: Tuning, rng) -> list[np.ndarray]:
    """t.steps batches, each every text of t.themes_per_batch themes (the themes cycled in shuffled order,
    so every theme is seen about equally often)."""
    themes = np.unique(labels)
    order: list[int] = []
    while len(order) < t.steps * t.themes_per_batch:
        order.extend(rng.permutation(themes).tolist())
    return [np.flatnonzero(np.isin(labels, order[s * t.themes_per_batch:(s + 1) * t.themes_per_batch]))
            for s in range(t.steps)]


def fine_tune(texts: list[str], labels: np.ndarray, t: Tuning):
    """A fresh copy of the bundled encoder, tuned on the labelled texts."""
    import torch
    from sentence_transformers import SentenceTransformer, losses

    from synth.embed import resolve_model

    torch.manual_seed(t.seed)
    rng = np.random.default_rng(t.seed)
    model = SentenceTransformer(str(resolve_model().folder), device="cpu")
    encode_tokens, model.max_seq_length = model.max_seq_length, t.max_tokens
    model.train()
    if t.loss == "cosine":
        loss = losses.CosineSimilarityLoss(model)
        items = _pairs(texts, labels, t, rng)
        batches = [items[i:i + t.batch_size] for i in range(0, len(items), t.batch_size)]
    else:
        loss = losses.MultipleNegativesRankingLoss(model)
        batches = None
    optimiser = torch.optim.AdamW(model.parameters(), lr=t.learning_rate)
    if t.loss == "batch-all":
        # SetFit's settings for its distance losses: cosine distance, margin 0.25
        loss = losses.BatchAllTripletLoss(model, losses.BatchHardTripletLossDistanceFunction.cosine_distance, 0.25)
        for step, rows in enumerate(_theme_batches(labels, t, rng)):
            for group in optimiser.param_groups:  # linear decay
                group["lr"] = t.learning_rate * (1 - step / t.steps)
            value = loss([model.preprocess([texts[i] for i in rows])], torch.tensor(labels[rows]))
            value.backward()
            optimiser.step()
            optimiser.zero_grad()
        model.eval()
        model.max_seq_length = encode_tokens
        return model
    steps = 0
    for epoch in range(t.epochs):
        if t.loss != "cosine":
            batches = _anchor_batches(texts, labels, t, rng)
        elif epoch:
            rng.shuffle(items)
            batches = [items[i:i + t.batch_size] for i in range(0, len(items), t.batch_size)]
        total = len(batches) * t.epochs
        for batch in batches:
            warm = min(1.0, (steps + 1) / max(1, 0.1 * total))  # linear warm-up over 10 %, then linear decay
            for group in optimiser.param_groups:
                group["lr"] = t.learning_rate * min(warm, (total - steps) / max(1, 0.9 * total))
            a = model.preprocess([b[0] for b in batch])
            p = model.preprocess([b[1] for b in batch])
            if t.loss == "cosine":
                value = loss([a, p], torch.tensor([b[2] for b in batch], dtype=torch.float32))
            else:
                value = loss([a, p], None)
            value.backward()
            optimiser.step()
            optimiser.zero_grad()
            steps += 1
    model.eval()
    model.max_seq_length = encode_tokens
    return model


def _key(d: Data, ex, with_names: bool, t: Tuning) -> str:
    h = hashlib.sha1()
    h.update(str(len(d.x)).encode())
    h.update(d.texts[0].encode() + d.texts[-1].encode())
    for e in ex:
        h.update(np.asarray(e, dtype=np.int64).tobytes())
    h.update(json.dumps([with_names, asdict(t)], sort_keys=True).encode())
    return h.hexdigest()[:16]


def adapted(d: Data, ex, with_names: bool, t: Tuning) -> tuple[np.ndarray, np.ndarray]:
    """(passages' vectors, names' vectors) under the encoder tuned on this draw's examples."""
    memo = d.__dict__.setdefault("_adapted", {})
    key = _key(d, ex, with_names, t)
    if key in memo:
        return memo[key]
    path = CACHE / f"{key}.npz"
    if path.exists():
        z = np.load(path)
        memo[key] = (z["x"].astype(np.float64), z["names"].astype(np.float64))
        return memo[key]
    rows = np.concatenate(ex)
    texts = [d.texts[i] for i in rows]
    labels = np.concatenate([[j] * len(e) for j, e in enumerate(ex)])
    names = [name_text(n) for n in d.labels]
    if with_names:
        texts, labels = texts + names, np.concatenate([labels, np.arange(len(names))])
    started = time.perf_counter()
    model = fine_tune(texts, labels, t)
    tuned = time.perf_counter() - started
    started = time.perf_counter()
    x = model.encode(d.texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    encoded = time.perf_counter() - started
    nv = model.encode(names, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    TIMES.append({"passages": len(d.texts), "training texts": len(texts), "fine-tune s": round(tuned, 1),
                  "re-embed s": round(encoded, 1), "names": with_names, **asdict(t)})
    print("tuned:", TIMES[-1], flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, names=nv)
    memo[key] = (unit(x), unit(nv))
    return memo[key]


class _On:
    """A view of a Data with other vectors (and their own neighbour graph) for the shipped scorer."""

    def __init__(self, d: Data, x: np.ndarray, own_graph: bool = True) -> None:
        self.x, self.texts = x, d.texts
        self.graph = pl.neighbour_graph(x) if own_graph else d.graph


def _view(d: Data, ex, with_names: bool, t: Tuning, own_graph: bool = True) -> tuple[_On, np.ndarray]:
    memo = d.__dict__.setdefault("_views", {})
    key = (_key(d, ex, with_names, t), own_graph)
    if key not in memo:
        x, names = adapted(d, ex, with_names, t)
        memo[key] = (_On(d, x, own_graph), names)
    return memo[key]


def tuned_centroid(d: Data, ex, with_names: bool, t: Tuning):
    on, _ = _view(d, ex, with_names, t)
    return on.x @ unit(np.stack([on.x[e].mean(0) for e in ex])).T


def tuned_shipped(d: Data, ex, with_names: bool, t: Tuning, own_graph: bool = True):
    on, names = _view(d, ex, with_names, t, own_graph)
    return shipped(on, ex, names if with_names else None)


def round5(names: np.ndarray, labels: np.ndarray, configs=("setfit",)) -> dict:
    out = {"nearest centroid": lambda d, ex: d.x @ unit(np.stack([d.x[e].mean(0) for e in ex])).T}
    for suffix, given in (("", None), (" + names", names)):
        out["synth" + suffix] = lambda d, ex, g=given: shipped(d, ex, g)
        for c in configs:
            t, w = CONFIGS[c], given is not None
            out[f"{c}: nearest centroid{suffix}"] = lambda d, ex, t=t, w=w: tuned_centroid(d, ex, w, t)
            out[f"{c}: synth{suffix}"] = lambda d, ex, t=t, w=w: tuned_shipped(d, ex, w, t)
    return out


def main() -> None:
    import torch
    from sklearn.metrics import accuracy_score, normalized_mutual_info_score

    from benchmarks.placement import dev_sets

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="NHS subcategories")
    parser.add_argument("--examples", default="5")
    parser.add_argument("--draws", type=int, default=1)
    parser.add_argument("--configs", default="setfit")
    parser.add_argument("--out", default="/tmp/place15-probe.json")
    args = parser.parse_args()
    torch.set_num_threads(2)
    wanted = args.sets.split(",")
    results = {}
    for name, (vectors, labels, texts) in dev_sets().items():
        if name not in wanted:
            continue
        d = Data(vectors, labels, texts)
        for m in map(int, args.examples.split(",")):
            scores: dict[str, list] = {}
            for seed in range(args.draws):
                rng = np.random.default_rng(seed)
                ex = [rng.choice(np.flatnonzero(d.y == k), size=m, replace=False) for k in range(len(d.labels))]
                rest = np.setdiff1d(np.arange(len(d.y)), np.concatenate(ex))
                for v, fn in round5(d.names, d.labels, args.configs.split(",")).items():
                    pred = fn(d, ex)[rest].argmax(1)
                    scores.setdefault(v, []).append((accuracy_score(d.y[rest], pred),
                                                     normalized_mutual_info_score(d.y[rest], pred)))
                    print(name, m, seed, v, "%.3f / %.3f" % scores[v][-1], flush=True)
            results[f"{name}, m = {m}"] = {v: (statistics.median(a for a, _ in s), statistics.median(b for _, b in s))
                                           for v, s in scores.items()}
    Path(args.out).write_text(json.dumps({"results": results, "times": TIMES}, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
