"""The survey question as a prior for its answers' category (issue 13, item 5), on NaPiRE.

The 559 NaPiRE answers labelled barrier / enabler / practice, each with the question it answers
(labels_by_question.jsonl), scored by synth's categoriser with and without the question (what
`synth ingest --question-column question` gives discover), as three-class macro-F1 and accuracy.

    python -m benchmarks.question_prior [--data PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from benchmarks.categories import DEFAULT_DATA, THREE
from benchmarks.datasets import jsonl
from benchmarks.markdown import table
from synth import categorise as cat
from synth.embed import Embedder, resolve_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    rows = [r for r in jsonl(args.data) if r["label"] in THREE]
    texts, questions, truth = [r["text"] for r in rows], [r["question"] for r in rows], [r["label"] for r in rows]
    embedder = Embedder(resolve_model(), device="cpu")
    vectors = embedder.encode(texts)
    prototypes = cat.PrototypeIndex.build(embedder.encode)
    print(f"{len(rows)} answers: " + ", ".join(f"{c} {truth.count(c)}" for c in THREE))
    for q in sorted(set(questions)):
        prior = cat.question_prior(q)
        print(f"  prior {prior.category or 'none':8} ← {q[:90]!r}")
    rows = []
    for name, qs in (("without the question", None), ("with the question column", questions)):
        scored = cat.categorise_passages(texts, vectors, prototypes=prototypes, questions=qs)
        pred = [max(THREE, key=lambda c: s.scores[c]) for s in scored]
        rows.append((name, f"{accuracy_score(truth, pred):.3f}",
                     f"{f1_score(truth, pred, labels=list(THREE), average='macro'):.3f}"))
    print(table(["run", "accuracy", "macro-F1"], rows))

if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
