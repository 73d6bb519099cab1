"""The survey question as a prior for its answers' category (issue 13, item 5), on NaPiRE.

The 559 NaPiRE answers labelled barrier / enabler / practice, each with the question it answers
(labels_by_question.jsonl), scored by synth's categoriser with and without the question (what
`synth ingest --question-column question` gives discover), as three-class macro-F1 and accuracy.

    python -m benchmarks.question_prior [--data PATH]
    python -m benchmarks.question_prior --nhs [--cache DIR]

`--nhs`: the 8,791 NHS comments with their question column ("Trust A - Q1": codes, no wording),
scored as barrier vs enabler against the sign of the staff's criticality (comments rated 0 or NA left out),
with and without the question (the trial of branch trial13: a weak cue in a code must lean nothing).
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
    ap.add_argument("--nhs", action="store_true", help="NHS comments, barrier vs enabler by criticality sign")
    ap.add_argument("--cache", type=Path, help="--nhs: a folder holding nhs_emb.npy (benchmarks.devsets --cache)")
    args = ap.parse_args()
    if args.nhs:
        return nhs_polarity(args.cache)
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


def nhs_polarity(cache: Path | None) -> None:
    """Barrier vs enabler on the NHS comments rated non-zero, with and without their question column."""
    from benchmarks.datasets import nhs

    rows = nhs()
    texts = [r["feedback"] for r in rows]
    vectors = (np.load(cache / "nhs_emb.npy") if cache and (cache / "nhs_emb.npy").exists()
               else Embedder(resolve_model(), device="cpu").encode(texts))
    keep = [i for i, r in enumerate(rows) if r["criticality"].lstrip("-").isdigit() and int(r["criticality"]) != 0]
    truth = ["barrier" if int(rows[i]["criticality"]) < 0 else "enabler" for i in keep]
    print(f"{len(keep)} comments rated non-zero: barrier {truth.count('barrier')}, enabler {truth.count('enabler')}")
    for q in sorted({r["question"] for r in rows}):
        print(f"  prior {cat.question_prior(q).category or 'none':8} ← {q!r}")
    out = []
    for name, qs in (("without the question", None), ("with the question column", [r["question"] for r in rows])):
        scored = cat.categorise_passages(texts, vectors, questions=qs)
        pred = [max(("barrier", "enabler"), key=lambda c: scored[i].scores[c]) for i in keep]
        out.append((name, f"{accuracy_score(truth, pred):.3f}",
                    f"{f1_score(truth, pred, labels=['barrier', 'enabler'], average='macro'):.3f}"))
    print(table(["run", "accuracy", "macro-F1"], out))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
