"""Learning curves: how much better synth gets as a reviewer teaches it (synth/learn.py).

Categories: a simulated reviewer sets the right category on k passages; synth's learned model
(the machine's cues and prototypes plus what those k taught) then categorises the passages the
reviewer did not touch. Two reviewers are simulated:
  - "labels": sets the category of k passages drawn at random (whether synth had them right or not);
  - "fixes": reads passages in random order and fixes only synth's mistakes, until k are fixed
    (every passage read is touched, and left out of the score; only the fixes are training data).
Data: NHS phase-1 feedback (criticality < 0 → barrier / "what could be better", > 0 → enabler /
"what was good"; scored as the side of barrier+practice against enabler), NaPiRE (barrier /
enabler / practice answers; three-class macro-F1 and barrier-vs-enabler accuracy).

Placement: a codebook of themes, each given by m example passages (3 / 5 / 10), places every other
passage; accuracy and NMI against the human themes, for synth's refined centres (learn.place_by_examples
without thresholds) and for a nearest-centroid baseline on the same examples. Data: NHS subcategories
(themes with more than 10 comments), bills topics and subtopics (themes with more than 10 bills).

Every figure is the median over --draws random draws (seeds 0..draws-1).

    python scripts/bench_learning.py [--draws 5] [--update-docs]

Embeddings of every text (the bundled model) and synth's machine categories are cached as .npy
under /tmp/synth-learn-cache, so a re-run only computes the learning.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, normalized_mutual_info_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchdocs import replace_section  # noqa: E402
from synth import learn  # noqa: E402
from synth.records import CATEGORIES  # noqa: E402

DEV = ROOT.parent / "shared" / "dev-data"
CACHE = Path("/tmp/synth-learn-cache")
DOCS = ROOT / "docs" / "benchmarks.md"
KS = (0, 10, 20, 40)
MS = (3, 5, 10)


def _embed(name: str, texts: list[str]) -> np.ndarray:
    path = CACHE / f"{name}_emb.npy"
    if path.exists():
        return np.load(path)
    from synth.embed import Embedder, resolve_model

    CACHE.mkdir(parents=True, exist_ok=True)
    vectors = np.asarray(Embedder(resolve_model(), device="cpu").encode(texts), dtype=np.float32)
    np.save(path, vectors)
    return vectors


def _machine(name: str, texts: list[str], vectors: np.ndarray) -> np.ndarray:
    path = CACHE / f"{name}_machine.npy"
    if path.exists():
        return np.load(path)
    from synth.categorise import categorise_passages

    scored = categorise_passages(texts, vectors)
    scores = np.array([[r.scores[c] for c in CATEGORIES] for r in scored])
    np.save(path, scores)
    return scores


def load_nhs():
    import pandas as pd

    frame = pd.read_csv(DEV / "nhs-feedback" / "phase1_feedback.csv")
    texts = frame.feedback.astype(str).tolist()
    vectors = _embed("nhs", texts)
    crit = pd.to_numeric(frame.criticality, errors="coerce").to_numpy()
    return frame, texts, vectors, crit


def load_napire():
    rows = [json.loads(line) for line in (DEV / "napire" / "labels_by_question.jsonl").read_text().splitlines() if line.strip()]
    vectors = _embed("napire", [r["text"] for r in rows])
    return rows, vectors


def load_bills():
    rows = [json.loads(line) for line in (DEV / "bills" / "bills_subset.jsonl").read_text().splitlines() if line.strip()]
    vectors = _embed("bills", [r["summary"] for r in rows])
    return rows, vectors


# --- categories ---------------------------------------------------------------------------------------

def simulate(truth: np.ndarray, machine_pred: np.ndarray, k: int, protocol: str, rng) -> tuple[np.ndarray, np.ndarray]:
    """(taught rows, touched rows) for a reviewer who makes k category decisions."""
    order = rng.permutation(len(truth))
    if protocol == "labels" or k == 0:
        return order[:k], order[:k]
    wrong = np.flatnonzero(machine_pred[order] != truth[order])
    if len(wrong) < k:
        return order[wrong], order
    last = wrong[k - 1]
    read = order[:last + 1]
    return read[machine_pred[read] != truth[read]], read


def learned_scores(vectors, machine, texts, truth, taught, contexts=None) -> np.ndarray:
    """(n, 4) scores after learning from the taught rows (a taught row: the reviewer's category, 1.0)."""
    if len(taught) == 0:
        return machine.copy()
    examples = [learn.TaughtPassage(int(i), str(truth[i]), texts[i]) for i in taught]
    out = learn.learn_categories(examples, vectors[taught], vectors, machine, shown=0, taught_rows=taught,
                                 contexts=contexts)
    scores = np.array([[o.scores[c] for c in CATEGORIES] for o in out])
    scores[taught] = [[float(c == truth[i]) for c in CATEGORIES] for i in taught]  # never overridden
    return scores


def category_curves(name: str, texts, vectors, machine, truth, score, draws: int, contexts=None) -> list[str]:
    lines = []
    # What the reviewer sees as a mistake: the machine's category against the true one.
    machine_pred = np.array([CATEGORIES[i] for i in machine.argmax(axis=1)])
    for protocol in ("labels", "fixes"):
        cells = []
        for k in KS:
            values = []
            for seed in range(draws):
                rng = np.random.default_rng(seed)
                taught, touched = simulate(truth, machine_pred, k, protocol, rng)
                scores = learned_scores(vectors, machine, texts, truth, taught, contexts)
                rest = np.setdiff1d(np.arange(len(truth)), touched)
                values.append(score(truth[rest], scores[rest]))
            med = {key: statistics.median(v[key] for v in values) for key in values[0]}
            cells.append(med)
        keys = list(cells[0])
        for key in keys:
            lines.append(f"| {name} | {protocol} | {key} | " + " | ".join(f"{c[key]:.3f}" for c in cells) + " |")
    return lines


def _argmax_among(scores: np.ndarray, among: tuple[str, ...]) -> np.ndarray:
    cols = [CATEGORIES.index(c) for c in among]
    return np.array(among)[scores[:, cols].argmax(axis=1)]


def nhs_side_score(truth, scores):
    """The side of a comment: enabler ("what was good") against barrier or practice ("what could be
    better"), context left out of the choice, as for a comment that must be one or the other."""
    good = scores[:, CATEGORIES.index("enabler")]
    better = scores[:, CATEGORIES.index("barrier")] + scores[:, CATEGORIES.index("practice")]
    return {"right side": float(((good > better) == (truth == "enabler")).mean())}


def napire_score(truth, scores):
    """As scripts/bench_categories.py scores it: three classes (context left out), and barrier against
    enabler on the barrier and enabler answers."""
    three = ("barrier", "enabler", "practice")
    pred3 = _argmax_among(scores, three)
    be = np.isin(truth, ("barrier", "enabler"))
    pred_be = _argmax_among(scores, ("barrier", "enabler"))
    return {"macro-F1 (3 classes)": float(f1_score(truth, pred3, labels=list(three), average="macro")),
            "barrier-vs-enabler acc": float((pred_be[be] == truth[be]).mean())}


# --- placement ----------------------------------------------------------------------------------------

def placement_rows(name: str, vectors: np.ndarray, labels: np.ndarray, draws: int, min_size: int = 11) -> list[str]:
    values, counts = np.unique(labels, return_counts=True)
    keep_labels = values[counts >= min_size]
    rows = np.flatnonzero(np.isin(labels, keep_labels))
    x, y = vectors[rows], labels[rows]
    out = []
    for m in MS:
        ours, base = [], []
        for seed in range(draws):
            rng = np.random.default_rng(seed)
            themes, examples = [], set()
            for k, label in enumerate(keep_labels):
                pick = rng.choice(np.flatnonzero(y == label), size=m, replace=False)
                themes.append(learn.TaughtTheme(k, tuple(int(i) for i in pick)))
                examples.update(int(i) for i in pick)
            rest = np.array(sorted(set(range(len(y))) - examples))
            truth = np.searchsorted(keep_labels, y[rest])
            centroid = learn.theme_centres(x, themes, rounds=0)
            refined = learn.theme_centres(x, themes)
            xn = x / np.linalg.norm(x, axis=1, keepdims=True)
            for centres, sink in ((refined, ours), (centroid, base)):
                pred = (xn[rest] @ centres.T).argmax(axis=1)
                sink.append((accuracy_score(truth, pred), normalized_mutual_info_score(truth, pred)))
        med = lambda v, i: statistics.median(t[i] for t in v)  # noqa: E731
        out.append(f"| {name} ({len(keep_labels)} themes) | {m} | {med(ours, 0):.3f} | {med(ours, 1):.3f} | "
                   f"{med(base, 0):.3f} | {med(base, 1):.3f} |")
    return out


METHOD = """\
Method (`synth/learn.py`): categories — two logistic regressions on the passages' embeddings (and,
where the project has it, where each passage comes from: its source's kind and metadata, here the
survey question and trust), one fitted to the machine's own categories of the project's passages,
one to the same plus the reviewer's examples weighing a quarter of the project together; the
difference of their log-probabilities is added to the machine's (cues + prototypes) log-scores. A
reviewer's own category is never changed. Placement — each theme's centre starts at the mean of its
example passages and is refined by five rounds of seeded spherical k-means over all passages, the
examples held in their themes; every other passage goes to the nearest centre (discover also requires
similarity >= 0.40 and a margin of 0.03, leaving the rest to clustering; here every passage is placed,
as the baseline places every passage). Nearest centroid: the same examples' mean, no refinement.\
"""


def run(draws: int) -> str:
    started = time.perf_counter()
    frame, nhs_texts, nhs_vec, crit = load_nhs()
    sided = np.flatnonzero(~np.isnan(crit) & (crit != 0))
    nhs_machine = _machine("nhs", nhs_texts, nhs_vec)[sided]
    nhs_truth = np.where(crit[sided] < 0, "barrier", "enabler")
    napire_rows, napire_vec = load_napire()
    three = [i for i, r in enumerate(napire_rows) if r["label"] in ("barrier", "enabler", "practice")]
    napire_texts = [napire_rows[i]["text"] for i in three]
    napire_machine = _machine("napire", [r["text"] for r in napire_rows], napire_vec)[three]
    napire_truth = np.array([napire_rows[i]["label"] for i in three])

    lines = ["| set | reviewer | measure | " + " | ".join(f"k = {k}" for k in KS) + " |",
             "|---|---|---|" + "---|" * len(KS)]
    nhs_context = [(f"question={frame.question.iloc[i]}", f"organization={frame.organization.iloc[i]}") for i in sided]
    for label, ctx in (("text only", None), ("text + survey question", nhs_context)):
        lines += category_curves(f"NHS ({len(sided)}), {label}", [nhs_texts[i] for i in sided], nhs_vec[sided],
                                 nhs_machine, nhs_truth, nhs_side_score, draws, ctx)
    napire_context = [(f"question={napire_rows[i]['question']}",) for i in three]
    for label, ctx in (("text only", None), ("text + survey question", napire_context)):
        lines += category_curves(f"NaPiRE ({len(three)}), {label}", napire_texts, napire_vec[three], napire_machine,
                                 napire_truth, napire_score, draws, ctx)

    bills_rows, bills_vec = load_bills()
    place = ["| set | examples per theme | synth accuracy | synth NMI | nearest-centroid accuracy | nearest-centroid NMI |",
             "|---|---|---|---|---|---|"]
    place += placement_rows("NHS subcategories", nhs_vec, frame.subcategory.astype(str).to_numpy(), draws)
    place += placement_rows("bills topics", bills_vec, np.array([r["topic"] for r in bills_rows]), draws)
    place += placement_rows("bills subtopics", bills_vec, np.array([r["subtopic"] for r in bills_rows]), draws)
    seconds = time.perf_counter() - started
    return "\n".join([
        "Command: `python scripts/bench_learning.py --draws %d --update-docs` (embeddings and machine categories "
        "cached under /tmp/synth-learn-cache; medians over %d random draws; %.0f s on 2 shared cores)." % (draws, draws, seconds),
        "", METHOD, "", "Categories on the passages the simulated reviewer did not touch, after k category decisions:", "",
        *lines, "", "Placement of every other passage by a codebook given as m example passages per theme:", "",
        *place])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    report = run(args.draws)
    print(report)
    if args.update_docs:
        replace_section(DOCS, "Learning from the reviewer", report)


if __name__ == "__main__":
    main()
