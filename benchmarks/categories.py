"""Benchmark passage categories (barrier / enabler / practice) against the NaPiRE dev set.

Reports, on the 559 barrier/enabler/practice answers of labels_by_question.jsonl:
  - the zero-shot anchor (nearest label description in the bundled model's space),
  - synth's method (cues + prototypes) and its ablations,
  - how sensitive it is to its two weights and k,
  - for reference only, a classifier trained on the dev set itself (5-fold cross-validated),
and the same method on a small set of self-written employment-support statements
(tests/fixtures/categories_heldout.jsonl) and on 184 labelled passages of real policy literature
(tests/fixtures/categories_seeds.jsonl).

    python -m benchmarks.categories [--data PATH] [--embeddings PATH] [--update-docs]

--embeddings takes precomputed vectors of every line of the data file, in file order (made with
synth's default model); without it the texts are embedded now (a minute or two on a CPU).
--update-docs rewrites the "Categories" section of docs/benchmarks.md with the printed report.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from benchmarks.datasets import NAPIRE, ROOT
from benchmarks.markdown import publish
from synth import categorise as cat
from synth import cues
from synth.embed import Embedder, resolve_model
from synth.records import CATEGORIES
from synth.vectors import unit

THREE = ("barrier", "enabler", "practice")
DEFAULT_DATA = NAPIRE
DEFAULT_EMB = Path("/tmp/synth-dev-cache/napire_emb.npy")
HELDOUT = ROOT / "tests" / "fixtures" / "categories_heldout.jsonl"
SEEDS = ROOT / "tests" / "fixtures" / "categories_seeds.jsonl"
# The seed set's first measurement, before the two changes it led to (context bias -0.5 -> 0; report
# shortfall words such as "patchy", "deficiency"): the only figures on it not chosen by looking at it.
SEEDS_BLIND = {"four": (0.473, 0.456), "three": (0.645, 0.653), "be": 0.688}

# What a BERTopic user would do with zero-shot labels: one description per class, nearest wins.
# Four wordings, because the anchor moves with the wording; the first is the headline anchor.
ANCHOR_WORDINGS = {
    "problem/strength/change": ("A barrier or problem that makes things difficult",
                                "An enabler or strength that helps things work well",
                                "A practice, recommendation or change to adopt"),
    "bare label": ("barrier", "enabler", "practice"),
    "label: definition": ("a barrier: something that prevents or hinders success",
                          "an enabler: something that helps or supports success",
                          "a practice: an action, recommendation or change that should be made"),
    "short definition": ("barrier: an obstacle that hinders", "enabler: a factor that helps",
                         "practice: what should be done or changed"),
}


METHOD = """\
Method (`synth/categorise.py`, lexicon and prototypes in `synth/cues.py`): every passage gets
`logit[c] = SIM_WEIGHT × mean of its top-k cosine similarities to category c's prototype statements
+ CUE_WEIGHT × log(1 + cue weight counted for c) + bias[c]`, softmaxed over barrier, enabler,
practice and context. Cues are phrases matched over lemmas with spaCy's `PhraseMatcher` ("lack of",
"struggled to", "worked well", "should", "could be adopted" …), plus sentence-opening instructions
("Offer …") and requests ("More …", "Better pay"); a negator within three tokens before a cue in the
same clause flips it ("did not help" counts for barrier, "no problems" for enabler), and an enabler
word up to five tokens after a wish in the same clause ("we need better …", "I would like a clearer
…", "staff should be more flexible") counts for practice: it names the state wanted, not the
present. Context cues and prototypes include research-design language ("fieldwork", "this report",
"commissioned … a qualitative evaluation"), which evaluation reports use at length. Prototypes are
152 hand-written statements about public services and work, plus template
statements that cross each category's typical forms with the same 35 everyday topics, so that a passage's topic cannot decide
its category. Nothing is trained on the dev set; the analyst sees the cues (with offsets), the
similarities, and the closest prototype. A theme's category is the weighted vote of its passages,
with the mix, the most telling passages, and a split suggestion when at least two of barrier /
enabler / practice each hold ≥ 25 % of the weight and ≥ 2 passages.\
"""


NOTES = """\
Reading these figures: synth beats the zero-shot anchor on every measure without seeing the dev
labels, and its barrier-vs-enabler accuracy is above that of a classifier trained on the dev set
itself; that classifier's three-class scores stay higher, because it learns what NaPiRE's
"practice" means. Most of the remaining errors are where the dev
labels follow the question rather than the statement: "practice" includes answers to "what
happened to make you satisfied?" (narratives of change that read as enablers) and non-answers
("NO", "x"), and enablers include descriptions of the current method ("We use Scrum"). Negation
barely moves the dev figures (few dev answers negate a cue); it is checked case by case in
`tests/test_categorise.py`. Known weakness: bare noun phrases with no cue word ("Waiting months for
a first appointment") often lean to practice, because requests are also bare noun phrases; the
barrier-vs-enabler choice is more reliable on them than the three-way one.

On the policy literature the weak point is barrier against enabler: evaluation reports describe a
shortfall in the vocabulary of the service ("support for those who might benefit from specialist
interventions was less widespread"), and the bundled model's vectors follow that vocabulary, so
many such passages still score as enablers. The issue's held-out target (barrier-vs-enabler 0.85,
three-class macro-F1 0.70) is therefore probably missed on text like this; reaching it needs a
stronger signal for polarity than this embedding model gives (a larger local model, or labelled
policy text to train a small classifier on).\
"""


def metrics(y: np.ndarray, pred3: np.ndarray, pred_be: np.ndarray) -> dict:
    be = np.isin(y, ("barrier", "enabler"))
    return {"acc": accuracy_score(y, pred3), "f1": f1_score(y, pred3, average="macro", labels=list(THREE)),
            "be": float(np.mean(pred_be[be] == y[be])) if be.any() else float("nan")}


def predict(results: list[cat.PassageCategory]) -> tuple[np.ndarray, np.ndarray]:
    """Three-class prediction (context left out, as the dev labels have none) and barrier-vs-enabler."""
    p3 = np.array([max(THREE, key=lambda c: r.scores[c]) for r in results])
    pbe = np.array([max(("barrier", "enabler"), key=lambda c: r.scores[c]) for r in results])
    return p3, pbe


def score_labelled_set(path: Path, embedder: Embedder, protos: cat.PrototypeIndex):
    """A JSONL file of {"text", "label"} scored by synth: its rows, labels, results, three-class
    metrics (over the barrier/enabler/practice rows), four-class predictions, four-class (accuracy,
    macro-F1), and the count of each label."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    y = np.array([r["label"] for r in rows])
    results = cat.categorise_passages([r["text"] for r in rows], embedder.encode([r["text"] for r in rows]),
                                      prototypes=protos)
    p3, pbe = predict(results)
    in3 = np.isin(y, THREE)
    p4 = np.array([r.category for r in results])
    four = (accuracy_score(y, p4), f1_score(y, p4, average="macro", labels=list(CATEGORIES)))
    return rows, y, results, metrics(y[in3], p3[in3], pbe[in3]), p4, four, {c: int((y == c).sum()) for c in CATEGORIES}


def row(name: str, m: dict, extra: str = "") -> str:
    return f"| {name} | {m['acc']:.3f} | {m['f1']:.3f} | {m['be']:.3f} |{extra}"


def confusion(y: np.ndarray, pred: np.ndarray, labels: tuple[str, ...]) -> list[str]:
    cm = confusion_matrix(y, pred, labels=list(labels))
    out = ["| true \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    out += [f"| {lab} | " + " | ".join(str(v) for v in cm[i]) + " |" for i, lab in enumerate(labels)]
    return out


def run(args: argparse.Namespace) -> str:
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    embedder = Embedder(resolve_model(), device="cpu")
    if args.embeddings and args.embeddings.exists():
        all_emb = np.load(args.embeddings)
        if len(all_emb) != len(rows):
            raise SystemExit(f"{args.embeddings}: {len(all_emb)} rows, but {args.data} has {len(rows)} lines")
        emb_note = f"precomputed vectors ({args.embeddings.name}) of synth's default model"
    else:
        all_emb = embedder.encode([r["text"] for r in rows])
        emb_note = "embedded now with synth's default model"
    idx = [i for i, r in enumerate(rows) if r["label"] in THREE]
    y = np.array([rows[i]["label"] for i in idx])
    texts = [rows[i]["text"] for i in idx]
    X = all_emb[idx]

    t0 = time.perf_counter()
    protos = cat.PrototypeIndex.build(embedder.encode)
    proto_secs = time.perf_counter() - t0
    hand_only = cat.PrototypeIndex.build(embedder.encode, cues.PROTOTYPES)

    out: list[str] = [METHOD, ""]
    counts = {c: int((y == c).sum()) for c in THREE}
    out += [(f"Dev set: NaPiRE 2018 free-text answers, {len(y)} labelled barrier/enabler/practice "
             f"({', '.join(f'{v} {k}' for k, v in counts.items())}); {emb_note}. "
             "Three-class scores take the best of barrier/enabler/practice (context is left out: the "
             "dev labels have none); barrier-vs-enabler accuracy is over the barrier and enabler "
             "answers, choosing between those two scores."), ""]
    out += ["| method | accuracy | macro-F1 | barrier-vs-enabler acc |", "|---|---|---|---|"]

    for k, (name, wording) in enumerate(ANCHOR_WORDINGS.items()):
        L = embedder.encode(list(wording))
        s = unit(X) @ L.T
        m = metrics(y, np.array(THREE)[s.argmax(1)], np.array(("barrier", "enabler"))[s[:, :2].argmax(1)])
        tag = "**anchor**: " if k == 0 else "anchor variant: "
        out.append(row(f"{tag}nearest label description ({name})", m))

    t0 = time.perf_counter()
    full = cat.categorise_passages(texts, X, prototypes=protos)
    secs = time.perf_counter() - t0
    full3, fullbe = predict(full)
    m_full = metrics(y, full3, fullbe)
    out.append(row("**synth: cues + prototypes**", m_full))
    ablations = {
        "prototypes only (no cues)": {"use_cues": False},
        "cues only (no embeddings; ties go to barrier)": {"use_prototypes": False},
        "cues + hand-written prototypes only (no template statements)": {"prototypes": hand_only},
    }
    for name, kw in ablations.items():
        res = cat.categorise_passages(texts, X, **{"prototypes": protos, **kw})
        out.append(row(name, metrics(y, *predict(res))))
    window = cues.NEGATION_WINDOW
    try:
        cues.NEGATION_WINDOW = 0
        out.append(row("cues + prototypes, negation off", metrics(y, *predict(
            cat.categorise_passages(texts, X, prototypes=protos)))))
    finally:
        cues.NEGATION_WINDOW = window

    # Reference, not a method synth uses: what training on this very set reaches, cross-validated.
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    lr = LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced")
    cvp = cross_val_predict(lr, X, y, cv=cv)
    proba = cross_val_predict(lr, X, y, cv=cv, method="predict_proba")
    order = list(np.unique(y))
    cvbe = np.where(proba[:, order.index("barrier")] >= proba[:, order.index("enabler")], "barrier", "enabler")
    out.append(row("reference: logistic regression trained on this set (5-fold CV)", metrics(y, cvp, cvbe)))

    no_cue = sum(1 for r in full if not any(c.counts_for for c in r.cues))
    context_wins = sum(1 for r in full if r.category == "context")
    out += ["", (f"synth's confusion matrix (rows true, columns predicted); {no_cue} of {len(y)} answers "
                 f"have no cue phrase at all, and {context_wins} would be called context in four-class use:"), ""]
    out += confusion(y, full3, THREE)

    cause_idx = [i for i, r in enumerate(rows) if r["label"] == "barrier_cause"]
    if cause_idx:
        res = cat.categorise_passages([rows[i]["text"] for i in cause_idx], all_emb[cause_idx], prototypes=protos)
        p3, _ = predict(res)
        share = float(np.mean(p3 == "barrier"))
        out += ["", (f"Extra row: the {len(cause_idx)} `barrier_cause` answers (causes of named RE problems, "
                     f"read as barrier): {share:.1%} are called barrier, "
                     f"{np.mean(p3 == 'enabler'):.1%} enabler, {np.mean(p3 == 'practice'):.1%} practice.")]

    out += ["", (f"Sensitivity (same dev set; shipped: SIM_WEIGHT={cat.SIM_WEIGHT:g}, "
                 f"CUE_WEIGHT={cat.CUE_WEIGHT:g}, TOP_K={cat.TOP_K}):"), "", "| setting | accuracy | macro-F1 | barrier-vs-enabler acc |", "|---|---|---|---|"]
    saved = (cat.SIM_WEIGHT, cat.CUE_WEIGHT, cat.TOP_K)
    try:
        for sw, cw, k in [(10, 1, 20), (30, 1, 20), (20, 0.5, 20), (20, 2, 20), (20, 1, 5), (20, 1, 40)]:
            cat.SIM_WEIGHT, cat.CUE_WEIGHT, cat.TOP_K = sw, cw, k
            res = cat.categorise_passages(texts, X, prototypes=protos)
            out.append(row(f"SIM_WEIGHT={sw}, CUE_WEIGHT={cw}, TOP_K={k}", metrics(y, *predict(res))))
    finally:
        cat.SIM_WEIGHT, cat.CUE_WEIGHT, cat.TOP_K = saved

    held, hy, hres, hm, h4, (acc4, f4), hcounts = score_labelled_set(HELDOUT, embedder, protos)
    out += ["", (f"Small self-written check ({HELDOUT.relative_to(ROOT)}): {len(held)} employment-support "
                 f"statements ({', '.join(f'{v} {k}' for k, v in hcounts.items())}), written by the same "
                 "author as the prototypes and cues, before any measuring. Choices were made on the dev-set "
                 "figures, but these scores were printed alongside them during development, so the set is "
                 "not untouched. Same author, same domain: an optimistic check that the method works on the "
                 "kind of text synth is for, not evidence of the held-out target."), "",
            "| set | accuracy | macro-F1 | barrier-vs-enabler acc |", "|---|---|---|---|",
            row("self-written, three classes (42)", hm),
            f"| self-written, four classes incl. context (48) | {acc4:.3f} | {f4:.3f} | |", ""]
    out += confusion(hy, h4, CATEGORIES)
    wrong = [(h["text"], h["label"], r.category) for h, r in zip(held, hres) if r.category != h["label"]]
    if wrong:
        out += ["", "Misses: " + "; ".join(f'"{t}" ({lab} → {got})' for t, lab, got in wrong)]

    seeds, sy, _, sm, s4, (sacc4, sf4), scounts = score_labelled_set(SEEDS, embedder, protos)
    blind = SEEDS_BLIND
    out += ["", (f"Policy literature ({SEEDS.relative_to(ROOT)}): the {len(seeds)} codable passages that synth cuts "
                 "from four DWP evaluation summaries and announcements in `../shared/seeds/` "
                 f"({', '.join(f'{v} {k}' for k, v in scounts.items())}), labelled by one developer from the text "
                 "alone, before any prediction was seen; three of the four documents are also in the demo corpus, "
                 "which guided the research-design context cues. Its first measurement (the method as it then "
                 f"was): four-class accuracy / macro-F1 {blind['four'][0]:.3f} / {blind['four'][1]:.3f}, three-class "
                 f"{blind['three'][0]:.3f} / {blind['three'][1]:.3f}, barrier-vs-enabler {blind['be']:.3f}: "
                 "headings and method text came out as enablers, and so did shortfalls worded as evaluators word "
                 "them. Two changes followed from reading those errors (no category bias against context; "
                 "\"patchy\", \"deficiency\", \"reluctance\", \"at odds with\", \"undermine\", \"weak\", "
                 "\"difficulty\", \"constraint\" as barrier cues), so the figures below are development "
                 "figures, not held-out ones. They left synth's NaPiRE row unchanged (ablation and sensitivity "
                 "rows moved by at most 0.004); in four-class use 35 NaPiRE answers are now called context "
                 "(6 before), and one self-written practice statement (\"Last year we started pairing ...\")."), "",
            "| set | accuracy | macro-F1 | barrier-vs-enabler acc |", "|---|---|---|---|",
            row(f"policy literature, three classes ({int(np.isin(sy, THREE).sum())})", sm),
            f"| policy literature, four classes incl. context ({len(seeds)}) | {sacc4:.3f} | {sf4:.3f} | |", ""]
    out += confusion(sy, s4, CATEGORIES)

    out += ["", (f"Speed: {len(texts) / secs:.0f} passages/s for cue matching and scoring on 2 shared CPU cores "
                 f"(embeddings excluded); embedding the {sum(len(v) for v in protos.texts.values())} prototype "
                 f"statements once per process took {proto_secs:.1f} s.")]
    out += ["", NOTES]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--embeddings", type=Path, default=DEFAULT_EMB if DEFAULT_EMB.exists() else None)
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    publish("Categories", run(args), args.update_docs)


if __name__ == "__main__":
    main()
