"""Literature catch-alls split along their documents' sections (issue 13, item 2).

A long report says many things in one register, so its passages sit close together in the embedding:
on the demo, 47 passages about the Work Programme (how providers structure their supply chains and
stages of support, creaming and parking, personalisation, conditionality) form one theme tighter than
the median theme, and no split on the vectors alone separates them (`synth.recurring.split_catch_alls`
finds its halves closer than its closest other theme). The report's authors did separate those ideas:
under their own section headings. This step reads that structure.

A theme is split here when all of these hold:

- it is a catch-all by size (at least twice the median theme and twice the minimum theme size, as in
  `split_catch_alls`);
- it is a literature catch-all: its `FEW_SOURCES` largest sources hold at least half of its passages,
  and their passages sit under at least `MIN_SECTIONS` different section headings;
- its content follows those sections: within each source, the sections explain more of the passages'
  variance (between-section share of the sum of squares, on the passages' own vectors) than the same
  sections shuffled among that source's passages, by `SECTION_Z` standard deviations of
  `PERMUTATIONS` seeded shuffles. A theme whose passages say one thing wherever they sit (an idea a
  report returns to in several sections) fails this test and is left whole;
- a bisection in the *section view* gives two parts that say different things in different words:
  their word profiles (the summed TF-IDF rows of their passages, words counted within the theme) are
  at most `WORD_OVERLAP` as alike as those of random parts of the same sizes, and each part holds
  at least the minimum theme size (a distinct part under it is set aside and the rest bisected
  again, up to three levels, as `synth.recurring._distinct_parts` does). A report that returns to
  one idea in every section writes its sections in different styles (case studies, survey figures,
  recommendations), which the embedding and the section test both see; its sections still share
  the idea's words, which this test sees.

The section view of a passage joins three unit vectors with equal weight: the passage's own, the
centre of its section's passages, and its heading's embedding (`encode`, when given). Passages under
no heading (interviews, survey answers) keep their own vector. The split is made in the passages' own
space (theme centres stay embedding centres); unplaced passages follow the closer part. Repeated for a
few rounds, so a catch-all can become several themes. A theme a reviewer's decisions hold together is
not cut. Deterministic (the shuffles use a fixed seed).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .cluster import Clustering
from .refine import Cut, cut_big_themes, distinct_parts
from .stance import _held_together
from .vectors import UnitRows, unit, unit_rows

# "Mostly from one or two long sources": the two largest sources hold at least half of the theme.
FEW_SOURCES = 2
SOURCE_SHARE = 0.5
# A bisection needs two sections; "several" is three (a two-section theme is two ideas at most, and
# the vector split judges those).
MIN_SECTIONS = 3
# The sections must explain the content beyond chance: z >= 3 over seeded shuffles (about p < 0.002
# one-sided). Chosen before measuring, as a conventional significance level, not fitted to the demo.
SECTION_Z = 3.0
PERMUTATIONS = 200
# Two parts are two ideas when their words overlap clearly less than chance parts' do: at most 0.8 of
# the random parts' cosine (mean over RANDOM_PARTS draws). Read off the cases in tests/test_section_split.py
# and the demo (docs/benchmarks.md, "Splitting literature catch-alls by their sections"): catch-alls
# split along their sections come out at 0.64 (the test's) and 0.68 (the demo's), one idea written up
# in several sections at 1.20 (its style-driven parts share *more* words than chance); the demo's
# split is the same for any value from 0.7 to 1.0.
WORD_OVERLAP = 0.8
RANDOM_PARTS = 100
_FRAGMENT_DEPTH = 3
_SEED = 20261202
# A word, as scikit-learn's default token pattern reads one: two or more letters or digits.
_WORD = re.compile(r"(?u)\b\w\w+\b")
# The section test reads at most this many passages of a theme (evenly spaced).
_MAX_TESTED = 2000


@dataclass(frozen=True)
class Sections:
    """Each passage's section: `keys[i]` indexes `headings` (-1: the passage sits under no heading).
    One key per (source, heading) pair: two reports' "Findings" are different sections."""
    keys: np.ndarray
    headings: tuple[str, ...]

    @classmethod
    def of(cls, sources: Sequence | np.ndarray, headings: Sequence[str | None]) -> Sections:
        """`sources`: each passage's source id (any hashable); `headings`: its heading or None."""
        index: dict[tuple[object, str], int] = {}
        keys = np.full(len(headings), -1, dtype=np.int64)
        for i, (source, heading) in enumerate(zip(sources, headings, strict=True)):
            if heading and heading.strip():
                keys[i] = index.setdefault((source, heading.strip()), len(index))
        return cls(keys, tuple(h for _, h in index))

    @property
    def any(self) -> bool:
        return bool((self.keys >= 0).any())


def split_by_sections(clustering: Clustering, vectors: np.ndarray | UnitRows, groups: np.ndarray | None,
                      sections: Sections | None, texts: Sequence[str] | None, *,
                      encode: Callable[[list[str]], np.ndarray] | None = None,
                      min_size: int | None = None, held: np.ndarray | None = None,
                      rounds: int = 3) -> tuple[Clustering, int]:
    """The clustering with its literature catch-alls split along their sections, and how many splits
    were made (see the module's docstring for the rule). `texts`: the passages' texts, for the word
    test. `encode` embeds heading texts with the passages' model; it is called once, and only when
    some theme passes the section test."""
    if sections is None or groups is None or texts is None or not sections.any or clustering.n_themes < 2:
        return clustering, 0
    groups = np.asarray(groups)
    m = int(min_size if min_size is not None else clustering.stats.get("min_theme_size", 3))
    X = unit_rows(vectors)
    view = None  # the section view, made when first needed

    def cuts(members: list[np.ndarray], sizes: np.ndarray, big: float) -> Iterator[Cut]:
        nonlocal view
        todo = [j for j in np.flatnonzero(sizes >= big).tolist()
                if not (held is not None and _held_together(held[members[j]]))
                and literature_catch_all(members[j], groups, sections.keys)
                and follows_sections(X, members[j], groups, sections.keys)]
        if todo and view is None:
            view = section_view(X, sections, encode)
        for j in todo:
            cut = section_parts(view, members[j], texts, m)
            if cut is not None:
                yield (j, *cut)

    return cut_big_themes(clustering, X, m, rounds, "sections_split", cuts)


def section_parts(view: SectionView, placed: np.ndarray, texts: Sequence[str], m: int,
                  depth: int = _FRAGMENT_DEPTH) -> tuple[np.ndarray, np.ndarray] | None:
    """(larger part, smaller part) of a theme's passages, bisected in the section view, whose words
    differ (`distinct_in_words`) and which hold at least m passages each; None when there are none.
    A distinct part under m is set aside (it stays with the larger part) and the rest bisected again."""
    weights = word_weights([texts[i] for i in placed])
    if weights is None:
        return None
    Z = view.rows(placed)  # row r is passage placed[r]; the parts are such rows
    parts = distinct_parts(Z, np.arange(len(placed)), m, depth, lambda a, b: distinct_in_words(weights, a, b))
    return None if parts is None else (placed[parts[0]], placed[parts[1]])


def word_weights(texts: Sequence[str]):
    """Sparse sublinear TF-IDF rows (unit length) of `texts` over their words (two or more letters or
    digits, lower-cased, spaCy's English stop words out) used by at least two and at most half of
    them; None when no word survives. What scikit-learn's `TfidfVectorizer(stop_words=STOP_WORDS,
    sublinear_tf=True, min_df=2, max_df=0.5)` computes (tests/test_section_split.py compares them),
    written out because importing scikit-learn costs discover about a second of CPU ("The cause:
    discover imported scikit-learn" in docs/benchmarks.md) and a theme's few dozen passages need
    nothing more."""
    from scipy.sparse import csr_matrix
    from spacy.lang.en.stop_words import STOP_WORDS  # labelling imports it anyway

    n = len(texts)
    if n < 3:
        return None
    docs = [Counter(w for w in _WORD.findall(t.lower()) if w not in STOP_WORDS) for t in texts]
    used_by = Counter(w for d in docs for w in d)
    vocabulary = sorted(w for w, k in used_by.items() if 2 <= k <= 0.5 * n)
    if not vocabulary:
        return None
    column = {w: j for j, w in enumerate(vocabulary)}
    idf = np.log((1 + n) / (1 + np.array([used_by[w] for w in vocabulary], dtype=np.float64))) + 1.0
    rows, cols, values = [], [], []
    for i, d in enumerate(docs):
        for w, k in d.items():
            j = column.get(w)
            if j is not None:
                rows.append(i)
                cols.append(j)
                values.append((1.0 + np.log(k)) * idf[j])
    weights = csr_matrix((values, (rows, cols)), shape=(n, len(vocabulary)), dtype=np.float64)
    norms = np.sqrt(np.asarray(weights.multiply(weights).sum(axis=1)).ravel())
    return csr_matrix(weights.multiply(1.0 / np.where(norms > 0, norms, 1.0)[:, None]))


def distinct_in_words(weights, a: Sequence[int], b: Sequence[int], *, draws: int = RANDOM_PARTS,
                      overlap: float = WORD_OVERLAP) -> bool:
    """Whether rows a and b of `weights` (TF-IDF) share clearly fewer words than random parts of the
    same sizes drawn from a + b: their profiles' cosine at most `overlap` times the random parts'."""
    both = np.concatenate([np.asarray(a), np.asarray(b)])
    rows = weights[both]
    rng = np.random.default_rng(_SEED)
    picks = np.zeros((draws + 1, len(both)), dtype=np.float32)
    picks[0, : len(a)] = 1.0  # the cut itself, then the random parts
    for t in range(draws):
        picks[t + 1, rng.permutation(len(both))[: len(a)]] = 1.0
    part_a = np.asarray((rows.T @ picks.T).T, dtype=np.float64)  # (draws + 1, words)
    part_b = np.asarray(rows.sum(axis=0), dtype=np.float64).ravel()[None, :] - part_a
    norms = np.linalg.norm(part_a, axis=1) * np.linalg.norm(part_b, axis=1)
    cosine = np.divide((part_a * part_b).sum(axis=1), norms, out=np.zeros(draws + 1), where=norms > 0)
    chance = float(cosine[1:].mean())
    return bool(chance > 0 and cosine[0] <= overlap * chance)


def literature_catch_all(members: np.ndarray, groups: np.ndarray, keys: np.ndarray) -> bool:
    """Most of the theme comes from `FEW_SOURCES` sources, whose passages span `MIN_SECTIONS` sections."""
    sources, counts = np.unique(groups[members], return_counts=True)
    order = np.argsort(-counts, kind="stable")[:FEW_SOURCES]
    if counts[order].sum() < SOURCE_SHARE * len(members):
        return False
    mine = members[np.isin(groups[members], sources[order])]
    spanned = keys[mine]
    return len(np.unique(spanned[spanned >= 0])) >= MIN_SECTIONS


def follows_sections(X: np.ndarray, members: np.ndarray, groups: np.ndarray, keys: np.ndarray, *,
                     permutations: int = PERMUTATIONS, z: float = SECTION_Z) -> bool:
    """Whether the theme's passages differ by section, within their sources, beyond chance."""
    return section_z(X, members, groups, keys, permutations=permutations) >= z


def section_z(X: np.ndarray, members: np.ndarray, groups: np.ndarray, keys: np.ndarray, *,
              permutations: int = PERMUTATIONS) -> float:
    """How many standard deviations the share of variance the sections explain (among the theme's
    passages that have a section) lies above that share with the sections shuffled within each
    source; 0.0 when there is nothing to shuffle. Shuffling within a source keeps each section's
    size, so only the between-section sum of squares changes: sum over sections of |sum|^2 / size."""
    sectioned = members[keys[members] >= 0]
    if len(sectioned) > _MAX_TESTED:  # evenly spaced: enough to see structure, bounded cost
        sectioned = sectioned[np.linspace(0, len(sectioned) - 1, _MAX_TESTED).astype(int)]
    if len(sectioned) < 3 or len(np.unique(keys[sectioned])) < 2:
        return 0.0
    Y = X[sectioned].astype(np.float64)
    _, k, counts = np.unique(keys[sectioned], return_inverse=True, return_counts=True)
    total_sum = Y.sum(axis=0)
    total = float((Y * Y).sum()) - float(total_sum @ total_sum) / len(Y)
    if total <= 1e-12:
        return 0.0
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])

    def between(labels: np.ndarray) -> float:
        sums = np.add.reduceat(Y[np.argsort(labels, kind="stable")], starts, axis=0)
        return float(((sums * sums).sum(axis=1) / counts).sum()) / total

    observed = between(k)
    rng = np.random.default_rng(_SEED)
    strata = np.unique(groups[sectioned], return_inverse=True)[1]
    by_stratum = np.argsort(strata, kind="stable")
    shuffled = np.empty(permutations)
    for t in range(permutations):
        within = np.lexsort((rng.random(len(k)), strata))  # a random order inside each source
        perm = np.empty_like(k)
        perm[by_stratum] = k[within]
        shuffled[t] = between(perm)
    spread = float(shuffled.std())
    if spread <= 1e-12:
        return 0.0
    return (observed - float(shuffled.mean())) / spread


@dataclass(frozen=True)
class SectionView:
    """The section view, row by row on demand (a whole copy of the corpus's vectors would cost as much
    memory as the vectors): each passage's unit vector plus its section's centre plus its heading's
    embedding (unit vectors, equal weights), made unit; a passage under no heading keeps its own."""
    X: np.ndarray
    keys: np.ndarray
    centres: np.ndarray  # (sections, dim): the unit centre of each section's passages
    headings: np.ndarray | None  # (sections, dim): each heading's unit embedding

    def rows(self, members: np.ndarray) -> np.ndarray:
        Z = self.X[members].astype(np.float64)
        keys = self.keys[members]
        has = keys >= 0
        Z[has] += self.centres[keys[has]]
        if self.headings is not None:
            Z[has] += self.headings[keys[has]]
        return unit(Z).astype(np.float32)


def section_view(X: np.ndarray, sections: Sections,
                 encode: Callable[[list[str]], np.ndarray] | None) -> SectionView:
    """The section view of these passages: the sections' centres, and their headings embedded by
    `encode` (left out when None)."""
    keys = sections.keys
    has = keys >= 0
    sums = np.zeros((len(sections.headings), X.shape[1]))
    np.add.at(sums, keys[has], X[has].astype(np.float64))
    headings = unit(np.asarray(encode(list(sections.headings)), dtype=np.float64)) \
        if encode is not None and len(sections.headings) else None
    return SectionView(X, keys, unit(sums), headings)
