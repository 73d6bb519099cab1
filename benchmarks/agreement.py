"""Agreement between synth and a blind reviewer, measured on the dev sets (issue 14, item 5).

`synth validate` draws a stratified sample (each of synth's themes and the unplaced passages, in
proportion to their size), a reviewer codes each item without seeing synth's suggestion, and synth
reports per-theme and overall precision and recall with Wilson 95 % intervals, Cohen's κ and
Krippendorff's α. Here the reviewer is simulated by the dev sets' own human codes, and the
statistics are synth/validate.py's own (`theme_rates`, `agreement_of`), so the figures are what
`synth validate --report` would print for a reviewer who codes as the data's annotators did.

synth's suggestions: the theme is the learned placement of a codebook given as 5 example passages per
human theme (synth/placement.py `place_by_examples`, with discover's thresholds, so some passages stay
unplaced: theme "none"); the category is the machine's (cues and prototypes), and, in a second row,
the learned one after 40 decisions of a reviewer working through `synth passage next`.
Data: NHS phase-1 feedback (subcategories; the side, barrier vs enabler), NaPiRE (codes; barrier /
enabler / practice answers), bills (topics; no categories).

    python -m benchmarks.agreement [--sample 300] [--seed 0] [--update-docs]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks import datasets
from benchmarks import learning as bl
from benchmarks.markdown import publish
from synth import placement, validate

EXAMPLES = 5
CORRECTIONS = 40


def _sample(strata: np.ndarray, n: int, rng) -> np.ndarray:
    """Stratified by synth's theme (as `synth validate` draws), proportional, at least one per stratum."""
    keys, counts = np.unique(strata, return_counts=True)
    quota = validate._allocate({str(k): int(c) for k, c in zip(keys, counts)}, n)
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(strata == k), size=quota[str(k)], replace=False)
                                   for k in keys]))


def _placement(vectors, labels, texts, rng):
    """(rows kept, gold theme index, synth theme index or -1) for a 5-example codebook."""
    values, counts = np.unique(labels, return_counts=True)
    keep = values[counts > 10]
    rows = np.flatnonzero(np.isin(labels, keep))
    gold = np.searchsorted(keep, labels[rows])
    themes, examples = [], set()
    for k in range(len(keep)):
        pick = rng.choice(np.flatnonzero(gold == k), size=EXAMPLES, replace=False)
        themes.append(placement.TaughtTheme(k, tuple(int(i) for i in pick)))
        examples.update(int(i) for i in pick)
    placed = placement.place_by_examples(vectors[rows], themes, [texts[i] for i in rows]).code
    rest = np.array(sorted(set(range(len(rows))) - examples))  # the examples are the reviewer's own
    return rows[rest], gold[rest], placed[rest], keep


def _row(name: str, pairs, labels, n_themes: int) -> list[str]:
    per_theme, overall = validate.theme_rates(pairs, labels)
    g = validate.agreement_of("synth", "reviewer", pairs)
    p, r = overall["precision"], overall["recall"]
    prec = sorted(x["precision"].hits / x["precision"].n for x in per_theme if x["precision"].n)
    rec = sorted(x["recall"].hits / x["recall"].n for x in per_theme if x["recall"].n)
    return [f"| {name} | {g.items} | {n_themes} | {p.text()} | {r.text()} | {validate._f(g.theme_kappa)} | "
            f"{validate._f(g.theme_alpha)} | {np.median(prec):.2f} | {np.median(rec):.2f} |"]


def _category_row(name: str, truth, machine_cats, rows) -> str:
    pairs = [({"theme_id": None, "category": machine_cats[i]}, {"theme_id": None, "category": truth[i]}) for i in rows]
    g = validate.agreement_of("synth", "reviewer", pairs)
    return (f"| {name} | {g.items} | {g.category_agreement.text()} | {validate._f(g.category_kappa)} | "
            f"{validate._f(g.category_alpha)} |")


def _learned_after_queue(vectors, machine, truth, contexts, texts, rng) -> tuple[np.ndarray, np.ndarray]:
    rounds = bl.reviewer_rounds("check next", truth, vectors, machine, contexts, rng, texts)
    taught, _, scores = rounds[CORRECTIONS]
    return scores, taught


def run(sample: int, seed: int) -> str:
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    theme_lines = ["| set | items | themes | overall precision [95% CI] | overall recall [95% CI] | theme κ | theme α | "
                   "median per-theme precision | median per-theme recall |", "|---|---|---|---|---|---|---|---|---|"]
    cat_lines = ["| set | items | agreement [95% CI] | category κ | category α |", "|---|---|---|---|---|"]
    frame, nhs_texts, nhs_vec, crit = bl.load_nhs()
    napire_rows, napire_vec = bl.load_napire()
    bills_rows, bills_vec = bl.load_bills()
    single = datasets.napire_coded(napire_rows)
    theme_sets = [
        ("NHS subcategories", nhs_vec, frame.subcategory.astype(str).to_numpy(), nhs_texts),
        ("NaPiRE codes", napire_vec[single], np.array([napire_rows[i]["napire_tags"][0] for i in single]),
         [napire_rows[i]["text"] for i in single]),
        ("bills topics", bills_vec, np.array([r["topic"] for r in bills_rows]), [r["summary"] for r in bills_rows]),
    ]
    for name, vectors, labels, texts in theme_sets:
        rows, gold, placed, keep = _placement(vectors, labels, texts, rng)
        drawn = _sample(placed, sample, rng)
        pairs = [({"theme_id": int(placed[i]) if placed[i] >= 0 else None, "category": None},
                  {"theme_id": int(gold[i]), "category": None}) for i in drawn]
        theme_lines += _row(name, pairs, {k: str(v) for k, v in enumerate(keep)}, len(keep))
        print(theme_lines[-1], flush=True)

    sided = np.flatnonzero(~np.isnan(crit) & (crit != 0))
    # `_machine` gives the scores and each text's form of reply (a nil answer): the context discover passes,
    # as benchmarks.learning builds it; the texts feed the learned model's word view.
    nhs_machine, nhs_forms = bl._machine("nhs", nhs_texts, nhs_vec)
    nhs_machine = nhs_machine[sided]
    nhs_truth = np.where(crit[sided] < 0, "barrier", "enabler")
    nhs_ctx = [(f"question={frame.question.iloc[i]}", f"organization={frame.organization.iloc[i]}", *nhs_forms[i])
               for i in sided]
    three = [i for i, r in enumerate(napire_rows) if r["label"] in ("barrier", "enabler", "practice")]
    napire_texts = [r["text"] for r in napire_rows]
    nap_machine, nap_forms = bl._machine("napire", napire_texts, napire_vec)
    nap_machine = nap_machine[three]
    nap_truth = np.array([napire_rows[i]["label"] for i in three])
    nap_ctx = [(f"question={napire_rows[i]['question']}", *nap_forms[i]) for i in three]
    side = lambda s: np.where(s[:, 1] > s[:, 0] + s[:, 2], "enabler", "barrier")  # noqa: E731
    three_way = lambda s: np.array(("barrier", "enabler", "practice"))[s[:, :3].argmax(axis=1)]  # noqa: E731
    for name, vectors, machine, truth, ctx, texts, decide in (
            ("NHS side (barrier / enabler)", nhs_vec[sided], nhs_machine, nhs_truth, nhs_ctx,
             [nhs_texts[i] for i in sided], side),
            ("NaPiRE (barrier / enabler / practice)", napire_vec[three], nap_machine, nap_truth, nap_ctx,
             [napire_texts[i] for i in three], three_way)):
        strata = machine.argmax(axis=1)
        drawn = _sample(strata, min(sample, len(truth)), rng)
        cat_lines.append(_category_row(f"{name}, machine", truth, decide(machine), drawn))
        print(cat_lines[-1], flush=True)
        scores, taught = _learned_after_queue(vectors, machine, truth, ctx, texts, np.random.default_rng(seed))
        untouched = np.setdiff1d(np.arange(len(truth)), taught)
        drawn = _sample(scores[untouched].argmax(axis=1), min(sample, len(untouched)), rng)
        cat_lines.append(_category_row(f"{name}, learned after {CORRECTIONS} `synth passage next` decisions",
                                       truth, decide(scores), untouched[drawn]))
        print(cat_lines[-1], flush=True)
    seconds = time.perf_counter() - started
    return "\n".join([
        f"Command: `python -m benchmarks.agreement --sample {sample} --seed {seed} --update-docs` "
        f"({seconds:.0f} s on 2 shared cores; one stratified sample of {sample} items per set, seed {seed}).", "",
        "The reviewer is simulated by each dev set's human codes, coding blind; the statistics are "
        "`synth validate`'s own (synth/validate.py: Wilson 95 % intervals, Cohen's κ from scikit-learn, "
        "Krippendorff's α from `krippendorff`, nominal). Themes: synth places the passages by a codebook "
        f"of {EXAMPLES} example passages per human theme (themes of more than 10 passages), with discover's "
        "thresholds, so a passage may stay unplaced (\"none\", which counts against recall and in κ / α); the "
        "sample is stratified by synth's theme as `synth validate --sample` draws it.", "",
        *theme_lines, "", "Categories (the sample stratified by synth's category; the learned rows on the passages "
        "the reviewer did not touch):", "", *cat_lines])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    publish("Agreement with a blind reviewer", run(args.sample, args.seed), args.update_docs)


if __name__ == "__main__":
    main()
