"""Placement by examples (synth/placement.py): every variant tried, on every dev set.

A codebook of themes, each given by m example passages (and, for the "names" rows, its name: NHS
subcategory names, NaPiRE code names with camelCase split, bills topic and subtopic names), places
every other passage; accuracy and NMI against the human themes (themes with more than 10 passages),
medians over --draws random draws of the examples (seeds --first-seed .. --first-seed + draws - 1, 0 by
default; the same draws for every variant).

Variants (the shipped method is `synth`, and `synth + names` when the codebook has names):
  nearest centroid         the examples' mean embedding, nothing else (the baseline)
  synth                    embedding centroid + 0.5 TF-IDF, softmax, spread over the 10-NN graph
  synth + names            the same, the names counting at placement.text_weight (binomial gate on the
                           examples, then a leave-one-out weight), the shipped method
  names at w               the same with the names' weight fixed at w (no gate)
  shuffled / generic names the names of other themes, or "Theme 1".."Theme k", through the gate
  prior EM                 class priors re-estimated on the unlabelled passages (Saerens et al. 2002)
  vMF mixture              seeded soft k-means (a von Mises-Fisher mixture, kappa 20, examples clamped,
                           10 rounds, with / without mixture weights)
  self-training            r most confident passages per theme added as examples, several rounds
  logistic regression      on the examples' [embedding, TF-IDF], spread over the graph
  centred                  embeddings centred on the corpus mean first
  cohesion / CSLS          per-theme score corrections (examples' spread; hubness, Conneau et al. 2018)
  c-TF-IDF / BM25          other lexical evidence in place of the TF-IDF mean
  smoothed                 each embedding averaged with its graph neighbours first (SGC-style)
The third round (--variants round3; each with and without names, the names through the shipped gate):
  local scale              each theme's distances divided by its examples' spread (leave-one-out
                           distance to their own centre, relative to the mean over themes)
  balanced, uniform        Sinkhorn scaling of the themes' columns towards equal sizes, strength 0.25
  balanced, example cells  the same towards sizes estimated without gold: how many passages have an
                           example of the theme as their nearest example (plus one), strength 0.5
  pseudo-examples          mutual 10-nearest neighbours of a theme's examples (of one theme only) added
                           to its centre and word mean at weight 0.5 each, one round
  nearest example          + 0.25 x the mean similarity to the theme's two nearest examples
  whitened view            + 0.5 x cosine in a partly whitened space (corpus covariance, shrinkage 0.3)
  logistic ensemble        the shipped start averaged with logistic regression's probabilities, then spread
  name words               the name's TF-IDF vector added to the examples' word mean (names only)
  name anchors             each name a labelled node in the graph, joined to its 10 nearest passages

The fourth round (--variants round4; each with and without names, the names through the shipped gate;
code in benchmarks/placement_round4.py):
  LDA-whitened cosine      the cosine to the centres computed after whitening by the examples' pooled
                           within-class covariance (Ledoit-Wolf shrinkage), in place of the plain cosine
                           (rescaled to its spread per passage)
  LDA-whitened beside 0.5  the same beside the plain cosine, at 0.5
  LDA scorer               scikit-learn's LinearDiscriminantAnalysis (lsqr, shrinkage 'auto') on the
                           examples, its probabilities spread (names: the name as weight x m more examples)
  LDA ensemble 0.5         its probabilities averaged with the shipped start, then spread
  class mass               after spreading, each theme's column rescaled to the class mass of a prior
                           (Zhu et al. 2003): uniform (the examples' counts), ** 0.5, or example cells
  Tip kernel (LOO)         + alpha x the mean over a theme's examples of exp(-beta (1 - cos)) (Tip-Adapter),
                           alpha and beta by leave-one-out on the examples
  micro-clusters           each passage's start mixed half and half with its micro-cluster's mean start
                           (k-means into 4 x themes clusters), then spread
  clamped examples         the examples' start rows one-hot in their theme (classic label spreading)
  lexical graph 0.3        spread over the embedding graph (0.7) and a 10-NN TF-IDF graph (0.3) together

The fifth round (--variants round5; code in benchmarks/placement_round5.py): the encoder itself is
fine-tuned on each draw's examples (SetFit-style contrastive pairs), every passage re-embedded, then
  setfit: nearest centroid the examples' mean under the tuned encoder
  setfit: synth            the shipped scorer on the tuned vectors (and their own neighbour graph)

    PYTHONPATH=. python -m benchmarks.placement [--draws 3] [--first-seed 0] [--examples 3,5,10] [--variants all|shipped|round3|round4|round5] [--update-docs]

Embeddings are cached under /tmp/synth-learn-cache (as benchmarks.learning does; the names too).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import statistics
import time

import numpy as np
from sklearn.metrics import accuracy_score, normalized_mutual_info_score

from benchmarks import datasets
from benchmarks import learning as bl
from benchmarks.markdown import replace_section
from synth import placement as pl
from synth.vectors import unit as _unit


def unit(a) -> np.ndarray:
    return _unit(a, np.float64)


def embed_names(names: list[str]) -> np.ndarray:
    texts = [re.sub(r"([a-z])([A-Z])", r"\1 \2", n).replace("_", " ").strip() for n in names]
    path = bl.CACHE / f"names_{hashlib.sha1(chr(10).join(texts).encode()).hexdigest()[:12]}.npy"
    return datasets.cached_vectors(path, texts).astype(np.float64)


def dev_sets() -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    frame, texts, vectors, _ = bl.load_nhs()
    out = {"NHS subcategories": (vectors, frame.subcategory.astype(str).to_numpy(), texts)}
    rows, vectors = bl.load_napire()
    single = [i for i, r in enumerate(rows) if len(r["napire_tags"]) == 1
              and r["napire_tags"][0].lower() not in ("notcodable", "notanswered")]
    out["NaPiRE codes"] = (vectors[single], np.array([rows[i]["napire_tags"][0] for i in single]),
                           [rows[i]["text"] for i in single])
    rows, vectors = bl.load_bills()
    texts = [r["summary"] for r in rows]
    out["bills topics"] = (vectors, np.array([r["topic"] for r in rows]), texts)
    out["bills subtopics"] = (vectors, np.array([r["subtopic"] for r in rows]), texts)
    return out


class Data:
    """One dev set restricted to its themes with more than 10 passages, with what every draw shares."""

    def __init__(self, vectors: np.ndarray, labels: np.ndarray, texts: list[str], min_size: int = 11) -> None:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        values, counts = np.unique(labels, return_counts=True)
        self.labels = values[counts >= min_size]
        rows = np.flatnonzero(np.isin(labels, self.labels))
        self.x = unit(vectors[rows])
        self.y = np.searchsorted(self.labels, labels[rows])
        self.texts = [texts[i] for i in rows]
        self.graph = pl.neighbour_graph(self.x)
        self.names = embed_names(list(self.labels))
        self.tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english").fit_transform(self.texts)
        self.counts = CountVectorizer(min_df=2, stop_words="english").fit_transform(self.texts).tocsr().astype(float)
        self._smoothed: dict[float, np.ndarray] = {}

    def smoothed(self, beta: float) -> np.ndarray:
        if beta not in self._smoothed:
            self._smoothed[beta] = unit(self.x + beta * (self.graph @ self.x))
        return self._smoothed[beta]


# --- the pieces the variants are made of ---------------------------------------------------------------

def centres(x, ex, names=None, w=0.0):
    c = np.stack([x[e].mean(0) for e in ex])
    return unit(c + w * unit(names) if w else c)


def word_sim(d: Data, ex) -> np.ndarray:
    means = unit(np.vstack([np.asarray(d.tfidf[e].mean(0)) for e in ex]))
    return np.asarray(d.tfidf @ means.T)


def ctfidf_sim(d: Data, ex) -> np.ndarray:
    """BERTopic's class-based TF-IDF of each theme's examples, against each passage's log-counts."""
    tf = np.vstack([np.asarray(d.counts[e].sum(0)).ravel() for e in ex])
    tf = tf / np.maximum(tf.sum(1, keepdims=True), 1)
    idf = np.log(1 + (d.counts.shape[0] / len(ex)) / (np.asarray(d.counts.sum(0)).ravel() + 1.0))
    x = d.counts.copy()
    x.data = np.log1p(x.data)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(1)).ravel())
    return np.asarray(x.multiply(1 / np.maximum(norms, 1e-12)[:, None]).tocsr() @ unit(tf * idf).T)


def bm25_sim(d: Data, ex, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """Okapi BM25 of each passage for the query "every word of the theme's examples", scaled per theme."""
    import scipy.sparse as sp

    c = d.counts.tocoo()
    n, df = d.counts.shape[0], np.asarray((d.counts > 0).sum(0)).ravel()
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    length = np.asarray(d.counts.sum(1)).ravel()
    tf = c.data * (k1 + 1) / (c.data + k1 * (1 - b + b * length[c.row] / length.mean()))
    w = sp.csr_matrix((tf * idf[c.col], (c.row, c.col)), shape=d.counts.shape)
    s = np.asarray(w @ np.vstack([np.asarray((d.counts[e] > 0).sum(0)).ravel() for e in ex]).T)
    return s / np.maximum(s.max(0, keepdims=True), 1e-12)


def softmax(s, t=pl.TEMPERATURE):
    p = np.exp((s - s.max(1, keepdims=True)) / t)
    return p / p.sum(1, keepdims=True)


def spread(d: Data, start, alpha=pl.SPREAD_ALPHA):
    f = start
    for _ in range(pl.SPREAD_ROUNDS):
        f = alpha * (d.graph @ f) + (1 - alpha) * start
    return f / np.maximum(f.sum(1, keepdims=True), 1e-12)


def base(d: Data, ex, x=None):
    x = d.x if x is None else x
    return x @ centres(x, ex).T + pl.TFIDF_WEIGHT * word_sim(d, ex)


def shipped(d: Data, ex, names=None, weight=None):
    themes = [pl.TaughtTheme(k, tuple(int(i) for i in e), None if names is None else names[k]) for k, e in enumerate(ex)]
    return pl.theme_scores(d.x, themes, d.texts, graph=d.graph, weight=weight)[0]


def prior_em(p, rounds=50):
    pi = np.full(p.shape[1], 1.0 / p.shape[1])
    for _ in range(rounds):
        q = p * pi
        q /= q.sum(1, keepdims=True)
        pi = q.mean(0)
    return q


def vmf(d: Data, ex, kappa=20.0, rounds=10, priors=True, with_spread=True):
    ws = pl.TFIDF_WEIGHT * word_sim(d, ex)
    mu, pi = centres(d.x, ex), np.full(len(ex), 1.0 / len(ex))
    rows = np.concatenate(ex)
    labels = np.concatenate([[j] * len(e) for j, e in enumerate(ex)])
    for _ in range(rounds):
        q = softmax(kappa * (d.x @ mu.T + ws) + (np.log(pi) if priors else 0.0), 1.0)
        q = spread(d, q) if with_spread else q
        q[rows] = 0.0
        q[rows, labels] = 1.0
        pi, mu = q.mean(0), unit(q.T @ d.x)
    return q


def self_training(d: Data, ex, per=5, rounds=3):
    ex = [np.array(e) for e in ex]
    for r in range(rounds + 1):
        f = spread(d, softmax(d.x @ centres(d.x, ex).T + pl.TFIDF_WEIGHT * word_sim(d, ex)))
        if r == rounds:
            return f
        taken = np.zeros(len(d.x), bool)
        taken[np.concatenate(ex)] = True
        best, top = f.argmax(1), np.sort(f, 1)
        margin = top[:, -1] - top[:, -2]
        new = []
        for j, e in enumerate(ex):
            cand = np.flatnonzero((best == j) & ~taken)
            new.append(np.concatenate([e, cand[np.argsort(-margin[cand])[:per]]]))
        ex = new


def logistic(d: Data, ex):
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    rows = np.concatenate(ex)
    labels = np.concatenate([[j] * len(e) for j, e in enumerate(ex)])
    x = sp.hstack([sp.csr_matrix(d.x), d.tfidf]).tocsr()
    return spread(d, LogisticRegression(C=10.0, max_iter=2000).fit(x[rows], labels).predict_proba(x))


def cohesion(d: Data, ex):
    return np.array([np.mean([d.x[i] @ unit(d.x[e].sum(0) - d.x[i]) for i in e]) for e in ex])


def centred(d: Data, ex):
    x = unit(d.x - d.x.mean(0))
    return spread(d, softmax(base(d, ex, x)))


def variants(names: np.ndarray, which: str, labels: np.ndarray | None = None) -> dict:
    k = len(names)
    shuffled = names[np.random.default_rng(99).permutation(k)]
    generic = embed_names([f"Theme {i + 1}" for i in range(k)])
    out = {"nearest centroid": lambda d, ex: d.x @ centres(d.x, ex).T,
           "synth": lambda d, ex: shipped(d, ex),
           "synth + names": lambda d, ex: shipped(d, ex, names)}
    if which == "shipped":
        return out
    if which == "round3":
        from benchmarks.placement_round3 import round3  # it builds on this module's pieces
        return round3(names, labels)
    if which == "round4":
        from benchmarks.placement_round4 import round4
        return round4(names, labels)
    if which == "round5":
        from benchmarks.placement_round5 import round5
        return round5(names, labels)
    out.update({
        "names at 0.25": lambda d, ex: shipped(d, ex, names, 0.25),
        "names at 0.5": lambda d, ex: shipped(d, ex, names, 0.5),
        "names at 1.0": lambda d, ex: shipped(d, ex, names, 1.0),
        "shuffled names, gated": lambda d, ex: shipped(d, ex, shuffled),
        "shuffled names at 0.5": lambda d, ex: shipped(d, ex, shuffled, 0.5),
        "generic names, gated": lambda d, ex: shipped(d, ex, generic),
        "generic names at 0.5": lambda d, ex: shipped(d, ex, generic, 0.5),
        "prior EM on synth": lambda d, ex: prior_em(shipped(d, ex)),
        "prior EM, then spread": lambda d, ex: spread(d, prior_em(softmax(base(d, ex)))),
        "vMF mixture": lambda d, ex: vmf(d, ex),
        "vMF, no mixture weights": lambda d, ex: vmf(d, ex, priors=False),
        "vMF, no spreading": lambda d, ex: vmf(d, ex, with_spread=False),
        "self-training 5 x 3": lambda d, ex: self_training(d, ex, 5, 3),
        "self-training 2 x 5": lambda d, ex: self_training(d, ex, 2, 5),
        "logistic regression, spread": logistic,
        "centred embeddings": centred,
        "cohesion correction 0.5": lambda d, ex: spread(d, softmax(base(d, ex) - 0.5 * cohesion(d, ex))),
        "CSLS (hubness) 10": lambda d, ex: spread(d, softmax((lambda s: s - 0.5 * np.sort(s, 0)[-10:].mean(0))(base(d, ex)))),
        "c-TF-IDF 0.5": lambda d, ex: spread(d, softmax(d.x @ centres(d.x, ex).T + 0.5 * ctfidf_sim(d, ex))),
        "BM25 0.5": lambda d, ex: spread(d, softmax(d.x @ centres(d.x, ex).T + 0.5 * bm25_sim(d, ex))),
        "smoothed embeddings": lambda d, ex: spread(d, softmax(base(d, ex, d.smoothed(1.0)))),
        "spread alpha 0.9": lambda d, ex: spread(d, softmax(base(d, ex)), 0.9),
    })
    return out


def evaluate(d: Data, m: int, draws: int, which: str, first_seed: int = 0) -> dict[str, tuple[float, float]]:
    scores: dict[str, list[tuple[float, float]]] = {}
    for seed in range(first_seed, first_seed + draws):
        rng = np.random.default_rng(seed)
        ex = [rng.choice(np.flatnonzero(d.y == k), size=m, replace=False) for k in range(len(d.labels))]
        rest = np.setdiff1d(np.arange(len(d.y)), np.concatenate(ex))
        for name, fn in variants(d.names, which, d.labels).items():
            pred = fn(d, ex)[rest].argmax(1)
            scores.setdefault(name, []).append((accuracy_score(d.y[rest], pred),
                                                normalized_mutual_info_score(d.y[rest], pred)))
    return {n: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v)) for n, v in scores.items()}


def run(draws: int, examples: list[int], which: str, first_seed: int = 0) -> str:
    started = time.perf_counter()
    results = {}
    for name, (vectors, labels, texts) in dev_sets().items():
        d = Data(vectors, labels, texts)
        for m in examples:
            results[(name, len(d.labels), m)] = evaluate(d, m, draws, which, first_seed)
            print(name, m, results[(name, len(d.labels), m)], flush=True)
    keys = list(results)
    head = "| variant | " + " | ".join(f"{n} ({k}), m = {m}" for n, k, m in keys) + " |"
    lines = [head, "|---|" + "---|" * len(keys)]
    for variant in next(iter(results.values())):
        lines.append(f"| {variant} | " + " | ".join(f"{results[key][variant][0]:.3f} / {results[key][variant][1]:.3f}"
                                                 for key in keys) + " |")
    seeds = f" --first-seed {first_seed}" if first_seed else ""
    return ("Command: `PYTHONPATH=. python -m benchmarks.placement --draws %d%s --examples %s --variants %s --update-docs` "
            "(embeddings cached under /tmp/synth-learn-cache; medians over %d draws; accuracy / NMI on the passages "
            "that are not examples; %.0f s on 2 shared cores).\n\n" % (draws, seeds, ",".join(map(str, examples)), which,
                                                                      draws, time.perf_counter() - started)
            + "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="the first draw's seed (other draws than the table's)")
    parser.add_argument("--examples", default="5", help="comma-separated examples per theme, e.g. 3,5,10")
    parser.add_argument("--variants", default="all", choices=("all", "shipped", "round3", "round4", "round5"))
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    report = run(args.draws, [int(m) for m in args.examples.split(",")], args.variants, args.first_seed)
    print(report)
    if args.update_docs:
        heading = {"all": "Placement by examples: every variant", "shipped": "Placement by examples: 3, 5, 10 examples",
                   "round3": "Placement by examples: third round",
                   "round4": "Placement by examples: fourth round, every variant",
                   "round5": "Placement by examples: round 5, every variant"}[args.variants]
        replace_section(heading, report)


if __name__ == "__main__":
    main()
