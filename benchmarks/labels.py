"""Label quality on every dev set: are theme labels phrases an analyst can keep (issue 13, item 4)?

For each dev set it clusters the cached all-MiniLM-L6-v2 vectors with synth's clusterer (seed 42;
no recurring-idea or stance steps, no passage categories) and labels the themes with
`synth.label.describe_themes`, phrases embedded by the bundled model. It reports, over themes:

- phrase: share of labels that are 2-6-word phrases found verbatim (`label_locations`) in the
  theme's passages from at least two sources (every row of NHS and bills is its own source);
- unique: distinct labels / themes;  keywords: share of keyword-list labels (a comma inside);
- gold word: share of themes whose label holds a content word of the gold category most of the
  theme's passages carry (NHS subcategories, NaPiRE codes, bill topics), e.g. "car parking" for
  "Parking"; a rough sign that the label names what the theme is about;
- covers: the median over themes of the share of the theme's passages that say one of the label's
  content words (any form `label_locations` finds): does the label name what most passages share
  ("Warehouse jobs" is said by 2 of its theme's 7 passages, "bus" by 4)?

    PYTHONPATH=. python -m benchmarks.labels [--cache DIR] [--sets nhs,napire,bills] [--labels] [--nil]

`--nil` gives describe_themes each passage's nil-answer phrase (found by the cue matcher, as discover
finds it), so a theme of nil answers is labelled by the one most of them give (branch trial13).

Run it with PYTHONPATH pointing at another checkout to compare label code (the clusterings are
the same: cluster.py is the same). Vectors come from benchmarks.devsets' cache.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks.datasets import load, vectors

from synth.cluster import ClusterParams, cluster_passages
from synth.label import describe_themes
from synth.label_spans import label_locations
from synth.nlp import display_forms_of, passage_terms

_WORD = re.compile(r"[a-z]+")
_STOP = {"and", "or", "of", "the", "a", "to", "in", "for", "with", "on", "other", "general", "issues", "issue"}


def _nil_answers(texts: list[str]) -> list[str | None]:
    from synth.cue_match import NIL_LEMMA, match_cues, parse

    return [next((c.phrase for c in match_cues(t, doc) if c.lemma == NIL_LEMMA), None)
            for t, doc in zip(texts, parse(texts))]


def measure(name: str, cache: Path, nil: bool = False) -> dict:
    texts, gold, groups = load(name)
    groups = np.arange(len(texts)) if groups is None else np.unique(groups, return_inverse=True)[1]
    V = vectors(name, texts, cache)
    clustering = cluster_passages(V, group_ids=groups, params=ClusterParams(seed=42))
    terms = passage_terms(texts)
    from synth.embed import Embedder, resolve_model

    model = Embedder(resolve_model(), device="cpu", batch_size=64)
    start = time.perf_counter()
    accepts = inspect.signature(describe_themes).parameters  # older checkouts: no written forms, no sources
    kwargs = {"written": [t.forms for t in terms]} if "written" in accepts else {}
    if nil and "nil_answers" in accepts:
        kwargs["nil_answers"] = _nil_answers(texts)
    out = describe_themes(texts, clustering, V, groups, [t.lemmas for t in terms], forms=display_forms_of(terms),
                          encode=lambda xs: model.encode(list(xs)), **kwargs)
    seconds = time.perf_counter() - start
    phrased = gold_word = 0
    labels, covers = [], []
    for j, d in enumerate(out):
        idx = np.flatnonzero(clustering.labels == j)
        if not len(idx):
            idx = np.flatnonzero(clustering.nearest == j)
        labels.append(d.label)
        words = d.label.split()
        found = label_locations(d.label, [texts[i] for i in idx])
        if 2 <= len(words) <= 6 and "," not in d.label and len({groups[idx[k]] for k, _, _ in found}) >= 2:
            phrased += 1
        top = Counter(gold[i] for i in idx).most_common(1)[0][0]
        gold_words = {w for w in _WORD.findall(top.lower()) if w not in _STOP and len(w) > 2}
        label_words = set(_WORD.findall(d.label.lower()))
        if any(g[:5] == w[:5] for g in gold_words for w in label_words):  # "parking" ~ "park"
            gold_word += 1
        content = [w for w in words if w.lower() not in _STOP and len(w) > 2] or words
        said = {k for w in content for k, _, _ in label_locations(w, [texts[i] for i in idx])}
        covers.append(len(said) / len(idx))
    k = len(out)
    return {"set": name, "themes": k, "phrase": phrased / k, "unique": len({x.lower() for x in labels}) / k,
            "keywords": sum("," in x for x in labels) / k, "gold_word": gold_word / k, "label_s": seconds,
            "covers": float(np.median(covers)),
            "examples": labels[:8], "labels": labels}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("SYNTH_DEV_CACHE", "/tmp/tm-cache")))
    ap.add_argument("--sets", default="nhs,napire,bills")
    ap.add_argument("--labels", action="store_true", help="print every theme's label, one per line, after the table")
    ap.add_argument("--nil", action="store_true", help="label themes of nil answers by their nil phrase (discover does)")
    args = ap.parse_args()
    print("| set | themes | phrase in ≥ 2 sources | unique | keyword lists | gold word | covers | labelling s |")
    print("|---|---|---|---|---|---|---|---|")
    rows = [measure(name, args.cache, args.nil) for name in args.sets.split(",")]
    for r in rows:
        print(f"| {r['set']} | {r['themes']} | {r['phrase']:.2f} | {r['unique']:.2f} | {r['keywords']:.2f} "
              f"| {r['gold_word']:.2f} | {r['covers']:.2f} | {r['label_s']:.1f} |")
    for r in rows:
        print(f"{r['set']}: " + "; ".join(r["examples"]))
    if args.labels:  # all of them, for a before/after diff
        for r in rows:
            for j, label in enumerate(r["labels"]):
                print(f"{r['set']}\t{j}\t{label}")


if __name__ == "__main__":
    main()
