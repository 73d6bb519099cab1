"""Learning curves: how much better synth gets as a reviewer teaches it (synth/learn.py).

Categories: a simulated reviewer sets the right category on k passages; synth's learned model then
categorises the passages the reviewer did not touch. Three reviewers are simulated:
  - "labels": sets the category of k passages drawn at random (whether synth had them right or not);
  - "fixes": reads passages in random order and fixes only synth's mistakes, until k are fixed
    (every passage read is touched, and left out of the score; only the fixes are training data);
  - "check next": works through `synth passage next` (the passages the current model is least sure
    of), ten at a time, confirming or correcting each; synth relearns after every ten.
Data: NHS phase-1 feedback (criticality < 0 → barrier / "what could be better", > 0 → enabler /
"what was good"; scored as the side of barrier+practice against enabler), NaPiRE (barrier /
enabler / practice answers; three-class macro-F1 and barrier-vs-enabler accuracy). The passages'
context is the survey question (and, for NHS, the trust), as source metadata carries it in a project.

Placement: a codebook of themes, each given by m example passages (3 / 5 / 10), places every other
passage; accuracy and NMI against the human themes, for synth's learned placement (placement.theme_scores:
embedding + TF-IDF similarity to the examples, spread over the neighbour graph; discover's thresholds
left out, every passage placed) and for a nearest-centroid baseline on the same examples. Data: NHS
subcategories, bills topics and subtopics, NaPiRE codes (themes with more than 10 passages).

Every figure is the median over --draws random draws (seeds 0..draws-1).

    python -m benchmarks.learning [--draws 3] [--sets nhs,napire,bills] [--parts categories,placement] [--update-docs]

Embeddings of every text (the bundled model) and synth's machine categories are cached as .npy
under /tmp/synth-learn-cache, so a re-run only computes the learning.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, normalized_mutual_info_score

from benchmarks import datasets
from benchmarks.markdown import replace_section
from synth import learn, placement
from synth.records import CATEGORIES

CACHE = Path("/tmp/synth-learn-cache")
KS = (0, 10, 20, 40)
MS = (3, 5, 10)


def _embed(name: str, texts: list[str]) -> np.ndarray:
    return datasets.cached_vectors(CACHE / f"{name}_emb.npy", texts)


def _machine(name: str, texts: list[str], vectors: np.ndarray) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """synth's machine scores (n, 4) and each text's form of reply (relearn.reply_forms: a nil answer)."""
    from synth.categorise import categorise_passages, categoriser_fingerprint
    from synth.relearn import reply_forms

    # Keyed by the categoriser's fingerprint: a changed cue or prototype must not reuse stale scores.
    path = CACHE / f"{name}_machine_{categoriser_fingerprint()}.npy"
    # The forms also depend on relearn.reply_forms, which the categoriser's fingerprint does not cover.
    import hashlib
    import synth.relearn

    forms_key = hashlib.sha256(Path(synth.relearn.__file__).read_bytes()).hexdigest()[:8]
    forms_path = CACHE / f"{name}_forms_{categoriser_fingerprint()}_{forms_key}.json"
    if path.exists() and forms_path.exists():
        return np.load(path), [tuple(f) for f in json.loads(forms_path.read_text(encoding="utf-8"))]

    scored = categorise_passages(texts, vectors)
    scores = np.array([[r.scores[c] for c in CATEGORIES] for r in scored])
    forms = reply_forms(scored)
    np.save(path, scores)
    forms_path.write_text(json.dumps([list(f) for f in forms]), encoding="utf-8")
    return scores, forms


def load_nhs():
    import pandas as pd

    frame = pd.read_csv(datasets.NHS)
    texts = frame.feedback.astype(str).tolist()
    vectors = _embed("nhs", texts)
    crit = pd.to_numeric(frame.criticality, errors="coerce").to_numpy()
    return frame, texts, vectors, crit


def load_napire():
    rows = datasets.napire()
    vectors = _embed("napire", [r["text"] for r in rows])
    return rows, vectors


def load_bills():
    rows = datasets.bills()
    vectors = _embed("bills", [r["summary"] for r in rows])
    return rows, vectors


# --- categories ---------------------------------------------------------------------------------------

STRATEGIES = ("labels", "fixes", "check next")
BATCH = 10  # the "check next" reviewer's decisions between two relearns


def learned_scores(vectors, machine, truth, taught, contexts=None, texts=None) -> np.ndarray:
    """(n, 4) scores after learning from the taught rows (a taught row: the reviewer's category, 1.0)."""
    taught = np.asarray(taught, dtype=int)
    scores = learn.learned_probabilities(vectors, machine, taught, list(truth[taught]), contexts=contexts,
                                         texts=texts)
    scores[taught] = [[float(c == truth[i]) for c in CATEGORIES] for i in taught]  # never overridden
    return scores


def reviewer_rounds(strategy: str, truth, vectors, machine, contexts, rng, texts=None
                    ) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """k -> (taught rows, touched rows, scores after learning) for every k in KS (`texts`: each row's text,
    for the learned model's word view)."""
    machine_pred = np.array(CATEGORIES)[machine.argmax(axis=1)]
    order = rng.permutation(len(truth))
    out = {}
    if strategy == "check next":
        taught, scores = np.zeros(0, dtype=int), machine.copy()
        for k in range(0, max(KS) + 1, BATCH):
            if k in KS:
                out[k] = (taught, taught, scores)
            doubt = learn.uncertainty(scores)
            doubt[taught] = -1.0
            pick = np.lexsort((rng.random(len(doubt)), -doubt))[:BATCH]
            taught = np.concatenate([taught, pick])
            scores = learned_scores(vectors, machine, truth, taught, contexts, texts)
        return out
    wrong = np.flatnonzero(machine_pred[order] != truth[order])
    for k in KS:
        if strategy == "labels" or k == 0:
            taught = touched = order[:k]
        else:
            touched = order[:wrong[min(k, len(wrong)) - 1] + 1]
            taught = touched[machine_pred[touched] != truth[touched]]
        out[k] = (taught, touched, learned_scores(vectors, machine, truth, taught, contexts, texts) if k else machine.copy())
    return out


def category_curves(name: str, vectors, machine, truth, score, draws: int, contexts=None, texts=None) -> list[str]:
    lines = []
    for strategy in STRATEGIES:
        per_k = {k: [] for k in KS}
        for seed in range(draws):
            for k, (_, touched, scores) in reviewer_rounds(strategy, truth, vectors, machine, contexts,
                                                           np.random.default_rng(seed), texts).items():
                rest = np.setdiff1d(np.arange(len(truth)), touched)
                per_k[k].append(score(truth[rest], scores[rest]))
        for key in per_k[0][0]:
            lines.append(f"| {name} | {strategy} | {key} | "
                         + " | ".join(f"{statistics.median(v[key] for v in per_k[k]):.3f}" for k in KS) + " |")
        print("\n".join(lines[-len(per_k[0][0]):]), flush=True)
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
    """As benchmarks.categories scores it: three classes (context left out), and barrier against
    enabler on the barrier and enabler answers."""
    three = ("barrier", "enabler", "practice")
    pred3 = _argmax_among(scores, three)
    be = np.isin(truth, ("barrier", "enabler"))
    pred_be = _argmax_among(scores, ("barrier", "enabler"))
    return {"macro-F1 (3 classes)": float(f1_score(truth, pred3, labels=list(three), average="macro")),
            "barrier-vs-enabler acc": float((pred_be[be] == truth[be]).mean())}


# --- placement ----------------------------------------------------------------------------------------

def placement_rows(name: str, vectors: np.ndarray, labels: np.ndarray, texts: list[str], draws: int,
                   min_size: int = 11) -> list[str]:
    values, counts = np.unique(labels, return_counts=True)
    keep_labels = values[counts >= min_size]
    rows = np.flatnonzero(np.isin(labels, keep_labels))
    x, y = vectors[rows], labels[rows]
    sub_texts = [texts[i] for i in rows]
    graph = placement.neighbour_graph(x)  # depends on the passages only: built once for every draw
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    out = []
    for m in MS:
        ours, base = [], []
        for seed in range(draws):
            rng = np.random.default_rng(seed)
            themes, examples = [], set()
            for k, label in enumerate(keep_labels):
                pick = rng.choice(np.flatnonzero(y == label), size=m, replace=False)
                themes.append(placement.TaughtTheme(k, tuple(int(i) for i in pick)))
                examples.update(int(i) for i in pick)
            rest = np.array(sorted(set(range(len(y))) - examples))
            truth = np.searchsorted(keep_labels, y[rest])
            share, _ = placement.theme_scores(x, themes, sub_texts, graph=graph)
            centroid = (xn[rest] @ placement.theme_centres(x, themes).T).argmax(axis=1)
            for pred, sink in ((share[rest].argmax(axis=1), ours), (centroid, base)):
                sink.append((accuracy_score(truth, pred), normalized_mutual_info_score(truth, pred)))
        med = lambda v, i: statistics.median(t[i] for t in v)  # noqa: E731
        out.append(f"| {name} ({len(keep_labels)} themes) | {m} | {med(ours, 0):.3f} | {med(ours, 1):.3f} | "
                   f"{med(base, 0):.3f} | {med(base, 1):.3f} |")
        print(out[-1], flush=True)
    return out


METHOD = """\
Method (`synth/learn.py`): categories — once a reviewer has taught anything, (1) each stratum of
passages with the same context (the survey question, the trust: a source's metadata; a nil answer
apart, relearn.reply_forms) gets its own
category prior, estimated by EM from the machine's scores and the reviewer's categories (Saerens et
al. 2002), which re-weights the machine's scores; (2) a logistic regression on [embedding, context
one-hot, the machine's log-scores] is fitted to those adjusted categories of up to 2,000 untouched
passages as weak pseudo-labels (weight 1 x confidence) and to the reviewer's categories (weight 20),
then, in two strata or more, once more with its own probabilities as the pseudo-labels (self-training);
beside it, each time, a regression on the passages' words (TF-IDF of negation-marked words and pairs)
fitted to the same labels, whose barrier-against-enabler log-odds are averaged with the first's (the word
view, weight 0.5); its probabilities are the learned category. A reviewer's own category is never changed; with nothing
taught the machine's category stands (k = 0). Placement — every passage's cosine similarity to each
theme's example centroid plus half its TF-IDF similarity to the examples' mean, a softmax
(temperature 0.05), spread over the passages' 10-nearest-neighbour graph (label spreading, alpha 0.8,
30 rounds); here every passage goes to its best theme (discover also requires cosine >= 0.40 to the
theme's examples and a share margin of 0.10, leaving the rest to clustering). Nearest centroid: the
same examples' mean embedding, nothing else.\
"""


def run(draws: int, sets: set[str], parts: set[str]) -> str:
    started = time.perf_counter()
    lines = ["| set | reviewer | measure | " + " | ".join(f"k = {k}" for k in KS) + " |",
             "|---|---|---|" + "---|" * len(KS)]
    place = ["| set | examples per theme | synth accuracy | synth NMI | nearest-centroid accuracy | nearest-centroid NMI |",
             "|---|---|---|---|---|---|"]
    if "nhs" in sets:
        frame, nhs_texts, nhs_vec, crit = load_nhs()
        if "categories" in parts:
            sided = np.flatnonzero(~np.isnan(crit) & (crit != 0))
            nhs_machine, nhs_forms = _machine("nhs", nhs_texts, nhs_vec)
            nhs_machine = nhs_machine[sided]
            nhs_truth = np.where(crit[sided] < 0, "barrier", "enabler")
            # The context a project gives: the survey question, the trust (source metadata), and the
            # form of reply (relearn.reply_forms, from the machine's cues), as discover passes them.
            ctx = [(f"question={frame.question.iloc[i]}", f"organization={frame.organization.iloc[i]}", *nhs_forms[i])
                   for i in sided]
            lines += category_curves(f"NHS ({len(sided)}), text + survey question", nhs_vec[sided], nhs_machine,
                                     nhs_truth, nhs_side_score, draws, ctx, [nhs_texts[i] for i in sided])
        if "placement" in parts:
            place += placement_rows("NHS subcategories", nhs_vec, frame.subcategory.astype(str).to_numpy(),
                                    nhs_texts, draws)
    if "napire" in sets:
        napire_rows, napire_vec = load_napire()
        if "categories" in parts:
            three = [i for i, r in enumerate(napire_rows) if r["label"] in ("barrier", "enabler", "practice")]
            napire_machine, napire_forms = _machine("napire", [r["text"] for r in napire_rows], napire_vec)
            napire_machine = napire_machine[three]
            napire_truth = np.array([napire_rows[i]["label"] for i in three])
            ctx = [(f"question={napire_rows[i]['question']}", *napire_forms[i]) for i in three]
            text_only = [napire_forms[i] for i in three]
            for label, context in (("text only", text_only), ("text + survey question", ctx)):
                lines += category_curves(f"NaPiRE ({len(three)}), {label}", napire_vec[three], napire_machine,
                                         napire_truth, napire_score, draws, context,
                                         [napire_rows[i]["text"] for i in three])
        if "placement" in parts:
            single = datasets.napire_coded(napire_rows)
            place += placement_rows("NaPiRE codes", napire_vec[single],
                                    np.array([napire_rows[i]["napire_tags"][0] for i in single]),
                                    [napire_rows[i]["text"] for i in single], draws)
    if "bills" in sets and "placement" in parts:
        bills_rows, bills_vec = load_bills()
        bills_texts = [r["summary"] for r in bills_rows]
        place += placement_rows("bills topics", bills_vec, np.array([r["topic"] for r in bills_rows]), bills_texts, draws)
        place += placement_rows("bills subtopics", bills_vec, np.array([r["subtopic"] for r in bills_rows]),
                                bills_texts, draws)
    seconds = time.perf_counter() - started
    out = ["Command: `python -m benchmarks.learning --draws %d --sets %s --parts %s --update-docs` (embeddings and "
           "machine categories cached under /tmp/synth-learn-cache; medians over %d random draws; %.0f s on 2 shared "
           "cores)." % (draws, ",".join(sorted(sets)), ",".join(sorted(parts)), draws, seconds), "", METHOD]
    if "categories" in parts:
        out += ["", "Categories on the passages the simulated reviewer did not touch, after k category decisions:",
                "", *lines]
    if "placement" in parts:
        out += ["", "Placement of every other passage by a codebook given as m example passages per theme:", "", *place]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--sets", default="nhs,napire,bills", help="comma-separated: nhs, napire, bills")
    parser.add_argument("--parts", default="categories,placement", help="comma-separated: categories, placement")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    report = run(args.draws, set(args.sets.split(",")), set(args.parts.split(",")))
    print(report)
    if args.update_docs:
        replace_section("Learning from the reviewer", report)


if __name__ == "__main__":
    main()
