"""Learned categories with other views of the answer and its question (issue 14 item 4, branch quest14).

Each variant replaces `synth.learn.learned_probabilities` for the run and is scored exactly as
`benchmarks.learning` scores the shipped model (its `reviewer_rounds`, untouched passages only,
medians over seeds); "base" is this checkout's `learn.learned_probabilities`, "main" the model before
branch quest14 (one fit, no self-training), on which every other variant builds. Variants (`NAME` or
`NAME:w`, w a weight, 1 unless given):

  daume:w   per-stratum slopes (Daume 2007, "Frustratingly easy domain adaptation"): the features gain
            one copy of the embedding per stratum (zero outside it), scaled by w, so each question gets
            its own direction, shrunk towards the shared one by the regression's L2 penalty (smaller w:
            more shrinkage).
  polar:w   a polarity direction from the taught examples only: the unit embedding projected on the
            difference of the taught enabler and barrier means (project-wide, and per stratum shrunk
            towards it by 5 pseudo-examples), standardised, times w: two extra columns.
  qa:w      the answer embedded after its question ("<question> <answer>") as an extra view, times w.
  qadiff:w  that embedding less the answer's own: what reading the question adds.
  qaonly    the "<question> <answer>" embedding in place of the answer's.
  self:n    self-training: the "main" model, refitted n times (1 unless given) with its own
            probabilities in place of the prior-adjusted machine's as the untouched passages'
            pseudo-labels (after 40 decisions they are right more often than the machine's), each
            round on another random pool of MAX_POOL passages, in any number of strata (the shipped
            model does it once, and only in two strata or more: learn.SELF_TRAINING_ROUNDS).

The word view (branch cat14; synth/word_view.py, learn.with_word_view). "base" has it, as shipped:
  nowords   the shipped model read without the passages' texts: as it was before branch cat14.
  words:w   the shipped model with the word view at weight w (words:0.5 is "base").
  wordsall:w  the word view judging every category (both models' log-probabilities averaged), not the side only.
  wordsctx:w  wordsall with the machine's log-scores and the context one-hot beside the words.
  wordscat:w  no second model: the TF-IDF columns, times w, join the one regression's features.
  clause    the word view reads a mixed comment after its contrast only ("but", "however", "except"; after
            the comma of an opening "although", "though", "while", "whilst", "despite").
  wordsc:C  the word regression's inverse L2 strength (learn.WORD_REGULARISATION unless given).
These build on the shipped model (self-training in two strata or more) unless "self" is given.

Variants joined by "+" combine ("qaonly+self:1"). The question view needs the question's wording. NaPiRE carries it. The NHS set carries only question
ids ("Trust A - Q1"), so a stand-in wording is used per id, chosen from the share of positive answers
(under 50 %: "What could we do better?"; over 90 %: "What did we do well?"; else "Is there anything
else you would like to tell us?"): an assumption the docs state beside the figures. NHS embeddings with
a question cost one more embedding per comment (minutes on 2 shared cores for all 6,258), so
`--nhs-subset N` scores a fixed random subset of N comments (seed 0), base included.

    python -m benchmarks.learning_views --sets nhs,napire --variants base,daume:1,polar:1 \\
        --reviewers labels,fixes --seeds 0,1,2 --ks 40 [--nhs-subset 1500] [--ceiling]

`--ceiling` adds, for NHS, a 5-fold cross-validated logistic regression on every label per view (what
a view could give with all the labels, not with 40). Embeddings cached under /tmp/synth-learn-cache.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from benchmarks import datasets
from benchmarks import learning as bench
from synth import learn
from synth.vectors import unit
from synth.word_view import word_matrix

STAND_IN = {"better": "What could we do better?", "good": "What did we do well?",
            "other": "Is there anything else you would like to tell us?"}
WORD_VARIANTS = ("words", "wordsall", "wordsctx", "wordscat")
# A mixed comment's side is said after its contrast ("lovely staff but the wait was too long"; "although
# the wait was long, the staff were lovely": after the comma); "clause" reads only that part for the words.
_CONTRAST = re.compile(r"\b(?:but|however|except)\b", re.IGNORECASE)
_CONCESSIVE = re.compile(r"^\W*(?:although|though|while|whilst|despite)\b[^,]*,", re.IGNORECASE)


def after_contrast(text: str) -> str:
    """The part of `text` after its last contrast word, or after an opening concessive clause; else `text`."""
    last = None
    for last in _CONTRAST.finditer(text):
        pass
    if last is not None and text[last.end():].strip(" .!?"):
        return text[last.end():]
    opening = _CONCESSIVE.match(text)
    return text[opening.end():] if opening else text
POLAR_SHRINK = 5.0  # pseudo-examples of the project-wide direction in each stratum's own


def stand_in_questions(question_ids: Sequence[str], positive: np.ndarray) -> dict[str, str]:
    """A wording for each NHS question id, from the share of positive answers to it (see the docstring)."""
    ids = np.asarray(question_ids)
    out = {}
    for q in sorted(set(question_ids)):
        share = float(positive[ids == q].mean())
        out[q] = STAND_IN["better"] if share < 0.5 else STAND_IN["good"] if share > 0.9 else STAND_IN["other"]
    return out


def _polar_columns(x: np.ndarray, strata: np.ndarray, rows: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(n, 2) the projection on the taught enabler-minus-barrier direction, project-wide and per stratum."""
    pos, neg = labels == "enabler", labels == "barrier"
    taught = x[rows]

    def direction(mask: np.ndarray) -> np.ndarray | None:
        if not (pos & mask).any() or not (neg & mask).any():
            return None
        d = taught[pos & mask].mean(axis=0) - taught[neg & mask].mean(axis=0)
        return d / np.linalg.norm(d)

    out = np.zeros((len(x), 2))
    overall = direction(np.ones(len(rows), dtype=bool))
    if overall is None:
        return out

    def standard(v: np.ndarray) -> np.ndarray:
        return (v - v.mean()) / (v.std() + 1e-9)

    out[:, 0] = standard(x @ overall)
    taught_strata = strata[rows]
    for s in np.unique(strata):
        own = direction(taught_strata == s)
        if own is None:
            own = overall
        else:
            k = float(((taught_strata == s) & (pos | neg)).sum())
            own = k * own + POLAR_SHRINK * overall
            own /= np.linalg.norm(own)
        m = strata == s
        out[m, 1] = standard(x[m] @ own)
    return out


def _geometric(p: np.ndarray, q: np.ndarray, w: float) -> np.ndarray:
    """Rows of p^(1-w) q^w, normalised: a weighted average of two models' log-odds on every category."""
    z = (1 - w) * np.log(p) + w * np.log(q)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def variant(name: str, qa: np.ndarray | None = None) -> Callable[..., np.ndarray]:
    """A function with `learn.learned_probabilities`' signature computing variant `name` (variants
    joined by "+" combine: "qaonly+self:1")."""
    if name == "base":
        return learn.learned_probabilities
    if name == "nowords":  # the shipped model as it was before the word view (branch cat14)
        shipped = learn.learned_probabilities  # bound now: curves() puts the variant in its place
        return lambda *args, texts=None, **kwargs: shipped(*args, **kwargs)
    parts_of = {}
    for part in name.split("+"):
        kind, _, arg = part.partition(":")
        if kind not in ("main", "daume", "polar", "qa", "qadiff", "qaonly", "self", *WORD_VARIANTS, "wordsc", "clause"):
            raise SystemExit(f"--variants: unknown variant {part!r}")
        parts_of[kind] = float(arg) if arg else 1.0
    reads_words = bool(set(WORD_VARIANTS) & set(parts_of))
    word_c = parts_of.get("wordsc", learn.WORD_REGULARISATION)

    def probabilities(vectors, machine, taught_rows, taught_labels, *, contexts=None, texts=None, seed=0):
        if len(taught_rows) == 0:
            return learn._probabilities(machine)
        rows = np.asarray(taught_rows, dtype=int)
        strata = learn.context_strata(contexts, len(vectors))
        adjusted = learn.adjusted_priors(machine, strata, rows, taught_labels)
        x = unit(vectors, np.float64)
        parts = [x, np.log(learn._probabilities(machine))]
        if contexts is not None:
            parts.append(learn.context_features(contexts))
        if "daume" in parts_of:
            parts += [parts_of["daume"] * x * (strata == s)[:, None] for s in np.unique(strata)]
        if "polar" in parts_of:
            parts.append(parts_of["polar"] * _polar_columns(x, strata, rows, np.asarray(taught_labels)))
        if qa is not None:  # a set without questions: the "main" model
            z = unit(qa, np.float64)
            if "qa" in parts_of:
                parts.append(parts_of["qa"] * z)
            if "qadiff" in parts_of:
                parts.append(parts_of["qadiff"] * (z - x))
            if "qaonly" in parts_of:
                parts[0] = z
        features = np.hstack(parts)
        if texts is not None and "clause" in parts_of:
            texts = [after_contrast(t) for t in texts]
        lexical = word_matrix(texts) if reads_words and texts is not None else None
        if lexical is not None and "wordsctx" in parts_of:  # the words, the machine's log-scores, the context
            lexical = sparse.hstack([lexical, sparse.csr_matrix(np.hstack(parts[1:]))]).tocsr()
        if lexical is not None and "wordscat" in parts_of:
            features = sparse.hstack([sparse.csr_matrix(features), parts_of["wordscat"] * lexical]).tocsr()

        def fit(pseudo: np.ndarray, at: int) -> np.ndarray:
            probs = learn._fit_on_pseudo_labels(features, pseudo, rows, taught_labels, at)
            if lexical is None or "wordscat" in parts_of:
                return probs
            said = learn._fit_on_pseudo_labels(lexical, pseudo, rows, taught_labels, at, regularisation=word_c)
            if "words" in parts_of:
                return learn.with_word_view(probs, said, parts_of["words"])
            return _geometric(probs, said, parts_of.get("wordsall", parts_of.get("wordsctx")))

        probs = fit(adjusted, seed)
        # The word variants build on the shipped model: self-training as it ships unless "self" says otherwise.
        rounds = (learn.SELF_TRAINING_ROUNDS if len(set(strata.tolist())) >= 2 else 0) \
            if reads_words and "self" not in parts_of else int(parts_of.get("self", 0))
        for r in range(rounds):
            # Another random pool each round, so that most pseudo-labels are the model's predictions on
            # passages it was not fitted to (on a project under MAX_POOL passages every round sees all).
            probs = fit(probs, seed + 1 + r)
        return probs

    return probabilities


def nhs_job(subset: int | None):
    frame, texts, vectors, crit = bench.load_nhs()
    sided = np.flatnonzero(~np.isnan(crit) & (crit != 0))
    machine, forms = bench._machine("nhs", texts, vectors)
    wording = stand_in_questions(frame.question.iloc[sided].astype(str).tolist(), crit[sided] > 0)
    tag = "all"
    if subset:
        sided = sided[np.sort(np.random.default_rng(0).choice(len(sided), size=subset, replace=False))]
        tag = f"sub{subset}"
    truth = np.where(crit[sided] < 0, "barrier", "enabler")
    ctx = [(f"question={frame.question.iloc[i]}", f"organization={frame.organization.iloc[i]}", *forms[i]) for i in sided]
    # The question view is embedded only when a variant reads it (all of NHS: most of an hour here).
    qa = lambda: datasets.cached_vectors(bench.CACHE / f"nhs_{tag}_qa_emb.npy",
                                         [f"{wording[frame.question.iloc[i]]} {texts[i]}" for i in sided])
    name = f"NHS ({len(sided)}{', a random subset' if subset else ''}), text + survey question"
    return [(name, vectors[sided], machine[sided], truth, bench.nhs_side_score, ctx, qa, [texts[i] for i in sided])]


def napire_jobs():
    rows, vectors = bench.load_napire()
    three = [i for i, r in enumerate(rows) if r["label"] in ("barrier", "enabler", "practice")]
    machine, forms = bench._machine("napire", [r["text"] for r in rows], vectors)
    truth = np.array([rows[i]["label"] for i in three])
    qa = lambda: datasets.cached_vectors(bench.CACHE / "napire3_qa_emb.npy",
                                         [f"{rows[i]['question']} {rows[i]['text']}" for i in three])
    texts = [rows[i]["text"] for i in three]
    ctx = [(f"question={rows[i]['question']}", *forms[i]) for i in three]
    return [(f"NaPiRE ({len(three)}), text only", vectors[three], machine[three], truth, bench.napire_score,
             [forms[i] for i in three], None, texts),
            (f"NaPiRE ({len(three)}), text + survey question", vectors[three], machine[three], truth,
             bench.napire_score, ctx, qa, texts)]


def curves(job, variants: Sequence[str], reviewers: Sequence[str], seeds: Sequence[int], ks: Sequence[int]) -> list[str]:
    """Table rows: set | variant | reviewer | measure | median at each k (per-seed values in brackets)."""
    name, x, machine, truth, score, ctx, qa, texts = job
    bench.KS = tuple(sorted({0, *ks}))
    out = []
    for v in variants:
        original = learn.learned_probabilities
        reads_question = any(p.split(":")[0] in ("qa", "qadiff", "qaonly") for p in v.split("+"))
        learn.learned_probabilities = variant(v, qa() if qa is not None and reads_question else None)  # benchmarks.learning calls it through the module
        try:
            for reviewer in reviewers:
                started = time.perf_counter()
                got: dict[tuple[str, int], list[float]] = {}
                for seed in seeds:
                    rounds = bench.reviewer_rounds(reviewer, truth, x, machine, ctx, np.random.default_rng(seed), texts)
                    for k, (_, touched, scores) in rounds.items():
                        if k in ks:
                            rest = np.setdiff1d(np.arange(len(truth)), touched)
                            for key, value in score(truth[rest], scores[rest]).items():
                                got.setdefault((key, k), []).append(value)
                for key in dict.fromkeys(key for key, _ in got):
                    cells = [f"{statistics.median(got[key, k]):.3f} ({'/'.join(f'{s:.3f}' for s in got[key, k])})" for k in ks]
                    out.append(f"| {name} | {v} | {reviewer} | {key} | " + " | ".join(cells) + " |")
                    print(out[-1], f"({time.perf_counter() - started:.0f} s)", flush=True)
        finally:
            learn.learned_probabilities = original
    return out


def ceiling(job) -> list[str]:
    """Every label, 5-fold cross-validated: right side and the within-question ROC AUC, per view."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    name, vectors, machine, truth, _, ctx, qa, _ = job
    qa = qa()
    y = (truth == "enabler").astype(int)
    x, z = unit(vectors, np.float64), unit(qa, np.float64)
    m, c = np.log(learn._probabilities(machine)), learn.context_features(ctx)
    strata = learn.context_strata(ctx, len(x))
    question = np.array([next(i for i in t if i.startswith("question=")) for t in ctx])
    views = {"base": [x, m, c], "daume": [x, m, c, *(x * (strata == s)[:, None] for s in np.unique(strata))],
             "qa": [x, z, m, c], "qadiff": [x, z - x, m, c], "qaonly": [z, m, c]}
    out = []
    for view, parts in views.items():
        features, p = np.hstack(parts), np.zeros(len(y))
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(features, y):
            p[test] = LogisticRegression(C=learn.REGULARISATION, max_iter=1000).fit(features[train], y[train]).predict_proba(features[test])[:, 1]
        aucs = [roc_auc_score(y[question == q], p[question == q]) for q in np.unique(question)
                if 0 < y[question == q].mean() < 1]
        out.append(f"| {name} | {view} | {((p > 0.5) == y).mean():.3f} | " + " / ".join(f"{a:.3f}" for a in aucs) + " |")
        print(out[-1], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="nhs,napire", help="comma-separated: nhs, napire")
    parser.add_argument("--variants", default="base,daume:1,polar:1,qa:1,qadiff:1")
    parser.add_argument("--reviewers", default="labels,fixes", help=f"comma-separated: {', '.join(bench.STRATEGIES)}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--ks", default="40", help="comma-separated numbers of decisions, each a multiple of 10")
    parser.add_argument("--nhs-subset", type=int, default=0, help="score a random subset of this many NHS comments")
    parser.add_argument("--ceiling", action="store_true", help="NHS: every label, 5-fold CV, per view")
    args = parser.parse_args()
    sets = set(args.sets.split(","))
    jobs = (nhs_job(args.nhs_subset) if "nhs" in sets else []) + (napire_jobs() if "napire" in sets else [])
    ks = [int(k) for k in args.ks.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for job in jobs:
        rows += curves(job, args.variants.split(","), args.reviewers.split(","), seeds, ks)
    print("\n| set | variant | reviewer | measure | " + " | ".join(f"k = {k}" for k in ks) + " |")
    print("|---|---|---|---|" + "---|" * len(ks))
    print("\n".join(rows))
    if args.ceiling and "nhs" in sets:
        print("\n| set | view | right side (5-fold CV, every label) | within-question ROC AUC |\n|---|---|---|---|")
        print("\n".join(ceiling(jobs[0])))


if __name__ == "__main__":
    main()
