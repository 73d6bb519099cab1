"""Stance within a topic: one theme's passages that divide between barrier and enabler (or practice)
become two linked themes that share the topic and differ in stance (issue 13, item 5).

Clustering groups passages by what they are about ("transport"), not by what they say about it
("the bus that doesn't run" against "the shuttle that works"). A policy team needs those apart: one
is a barrier to remove, the other an enabler to keep. So after clustering, each theme whose placed
passages divide between two of barrier / enabler / practice (each side at least `MIN_SHARE` of
the passages, `MIN_SIDE` passages and `MIN_SIDE_SOURCES` sources, so that a side is an idea that
recurs and not one stray sentence) is cut along the passages' own categories. Passages of neither
side (context, the third stance) follow the side whose centre they are closer to. The two sides
are recorded as siblings with the topic they share, so the reader sees both and the link.

A theme that a reviewer's decisions hold together (most of its passages placed by hand, in an
accepted theme, or in a theme others were merged into) is never cut: a reviewer who merged two
siblings said they are one theme.

Pure functions over arrays and records; deterministic.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix

from . import cues as lexicon
from .cluster import Clustering
from .label_phrases import _clause_words, _stop, candidate_phrases
from .label_spans import LETTER
from .label_spans import WORD as _WORDS
from .refine import unit
from .vectors import UnitRows, unit_rows


STANCES = ("barrier", "enabler", "practice")
MIN_SHARE = 0.25       # the same share at which categorise suggests splitting a theme by category
MIN_SIDE = 3           # passages on each side
MIN_SIDE_SOURCES = 2   # sources on each side: a stance held in a single source is not a side of the topic
_TOPIC_CANDIDATES = 60  # shared phrases whose corpus share is counted
MIN_TOPIC_SHARE = 0.5  # share of a corpus's passages using the shared phrase that lie in the two sides
MIN_TOPIC_LIFT = 4.0   # ... and that share over the two sides' share of the corpus


@dataclass(frozen=True)
class StanceSplit:
    """Theme `parent` of the input clustering, now the two sibling themes `sides` (indices of the
    output clustering), whose passages read as `stances` respectively; `topic` is what they share."""

    parent: int
    sides: tuple[int, int]
    stances: tuple[str, str]
    topic: str = ""


@dataclass(frozen=True)
class StanceResult:
    clustering: Clustering
    splits: tuple[StanceSplit, ...]


def divided_stances(categories: Sequence[str], groups: Sequence, *, min_share: float = MIN_SHARE,
                    min_side: int = MIN_SIDE, min_sources: int = MIN_SIDE_SOURCES) -> tuple[str, str] | None:
    """The two stances a theme's passages divide between (larger first), or None when they do not.

    categories[i] and groups[i]: passage i's category and source."""
    n = len(categories)
    if n < 2 * min_side:
        return None
    counts = Counter(c for c in categories if c in STANCES)
    ranked = sorted(counts, key=lambda c: (-counts[c], STANCES.index(c)))[:2]
    if len(ranked) < 2:
        return None
    for stance in ranked:
        sources = {g for c, g in zip(categories, groups) if c == stance}
        if counts[stance] < min_side or counts[stance] < min_share * n or len(sources) < min_sources:
            return None
    return ranked[0], ranked[1]


def split_by_stance(clustering: Clustering, vectors: np.ndarray | UnitRows, groups: np.ndarray,
                    categories: Sequence[str],
                    *, held: np.ndarray | None = None, texts: Sequence[str] | None = None) -> StanceResult:
    """Cut each theme of `clustering` whose placed passages divide between two stances (module docstring).

    vectors: the passages' embeddings (row i is passage i of the clustering); categories[i]: passage
    i's category as the theme vote counts it (the reviewer's, else learned, else the machine's);
    held[i]: the theme id a reviewer's decisions hold passage i in, or -1; texts: the passages' texts,
    for the shared topic phrase. The larger side keeps the theme's index; the other is appended.
    """
    categories = np.asarray(categories, dtype=object)
    groups = np.asarray(groups)
    if not (len(categories) == len(groups) == len(vectors) == len(clustering.nearest)):
        raise ValueError(f"split_by_stance: {len(categories)} categories, {len(groups)} groups and {len(vectors)} "
                         f"vectors for {len(clustering.nearest)} clustered passages; all must match")
    X = unit_rows(vectors)
    labels, nearest = clustering.labels.copy(), clustering.nearest.copy()
    centroids = [c for c in clustering.centroids]
    splits: list[StanceSplit] = []
    lowered: LoweredTexts | None = None  # the texts as topic phrases are looked up in; once, when a theme splits
    for j in range(clustering.n_themes):
        placed = np.flatnonzero(clustering.labels == j)
        if held is not None and _held_together(held[placed]):
            continue
        stances = divided_stances(list(categories[placed]), list(groups[placed]))
        if stances is None:
            continue
        around = np.flatnonzero(clustering.nearest == j)  # placed and unplaced passages of theme j
        side_b = _side_b(X, around, placed, categories, stances)
        a_placed = placed[~np.isin(placed, around[side_b])]
        b_placed = placed[np.isin(placed, around[side_b])]
        if not len(a_placed) or not len(b_placed):
            continue
        if len(b_placed) > len(a_placed):  # the larger side keeps the theme's index (and so, its identity)
            side_b, stances, a_placed, b_placed = ~side_b, stances[::-1], b_placed, a_placed
        new = len(centroids)
        nearest[around[side_b]] = new
        labels[around[side_b & (clustering.labels[around] == j)]] = new
        centroids[j] = unit(X[a_placed].astype(np.float64).sum(axis=0)).astype(np.float32)
        centroids.append(unit(X[b_placed].astype(np.float64).sum(axis=0)).astype(np.float32))
        if texts is not None and lowered is None:
            lowered = lowered_texts(texts)
        topic = shared_topic(texts, a_placed, b_placed, groups, lowered) if texts is not None else ""
        splits.append(StanceSplit(parent=j, sides=(j, new), stances=(stances[0], stances[1]), topic=topic))
    if not splits:
        return StanceResult(clustering, ())
    stats = {**clustering.stats, "stance_splits": len(splits), "n_themes": len(centroids)}
    out = replace(clustering, labels=labels, nearest=nearest,
                  centroids=np.stack(centroids).astype(clustering.centroids.dtype), stats=stats)
    return StanceResult(out, tuple(splits))


def _held_together(held: np.ndarray) -> bool:
    """Whether a reviewer's decisions hold at least half of these passages in one theme."""
    kept = held[held >= 0]
    if not len(kept):
        return False
    _, counts = np.unique(kept, return_counts=True)
    return bool(counts.max() * 2 >= len(held))


def _side_b(X: np.ndarray, around: np.ndarray, placed: np.ndarray, categories: np.ndarray,
            stances: tuple[str, str]) -> np.ndarray:
    """Mask over `around`: which passages go to the second stance's side. Passages of either stance go
    to their own side; the rest to the side whose placed centre is closer (ties stay on the first)."""
    cats = categories[around]
    in_placed = np.isin(around, placed)
    centres = [unit(X[around[in_placed & (cats == s)]].astype(np.float64).sum(axis=0)).astype(np.float32)
               for s in stances]
    closer_b = (X[around] @ centres[1]) > (X[around] @ centres[0])
    return np.where(cats == stances[0], False, np.where(cats == stances[1], True, closer_b))


def shared_topic(texts: Sequence[str], a: np.ndarray, b: np.ndarray, groups: np.ndarray,
                 lowered: LoweredTexts | None = None) -> str:
    """The phrase both sides use that is most their own: what the siblings are both about. Empty when
    the sides share no phrase of substance, and then they are not linked.

    A shared phrase of substance is said mostly inside the two sides: at least `MIN_TOPIC_SHARE` of
    all passages that use it are theirs ("shuttle bus", "business park"). A word the whole corpus
    uses ("jobcentre", "women" in a review of jobcentre support for women) links any two themes,
    so it names no topic. Among phrases of substance: the most sources, then the larger share.
    `lowered`: the texts as `lowered_texts` gives them (computed here when not given)."""
    def where(idx: np.ndarray) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for i in idx.tolist():
            for phrase in candidate_phrases(texts[i]) | _single_words(texts[i]):
                out.setdefault(phrase, set()).add(i)
        return out

    in_a, in_b = where(a), where(b)
    common = [p for p in in_a if p in in_b]
    if not common:
        return ""
    lowered = lowered if lowered is not None else lowered_texts(texts)

    def sources(p: str, side: dict[str, set[int]] | None = None) -> int:
        return len({groups[i] for i in (side[p] if side else in_a[p] | in_b[p])})

    def share(p: str) -> float:
        inside = len(in_a[p] | in_b[p])
        pattern = re.compile(rf"(?<!{LETTER})" + re.escape(p) + rf"(?!{LETTER})")
        holding = lowered.with_words(p.split()).tolist()
        return inside / max(inside, sum(1 for i in holding if pattern.search(lowered.texts[i])))

    # Said in two sources on each side: one passage on either side is a passing mention, not the topic.
    common = [p for p in common if sources(p, in_a) >= MIN_SIDE_SOURCES and sources(p, in_b) >= MIN_SIDE_SOURCES]
    # Counting a phrase over the corpus is the cost: only the best-supported candidates are counted.
    ranked = sorted(common, key=lambda p: (-sources(p), -len(in_a[p] | in_b[p]), -len(p.split()), p))
    specific = {p: share(p) for p in ranked[:_TOPIC_CANDIDATES]}
    # Specific: most of the corpus's passages that use it are the two sides' (share), and it is
    # `MIN_TOPIC_LIFT` times more common there than in the corpus at large (a share of one half is
    # no sign of a topic when the two sides are half the corpus).
    sides = len(np.union1d(a, b)) / max(len(lowered.texts), 1)
    substantive = [p for p, sh in specific.items() if sh >= MIN_TOPIC_SHARE and sh >= MIN_TOPIC_LIFT * sides
                   and p not in _STANCE_WORDS]
    if not substantive:
        return ""
    # A phrase of two or more words names the topic better than one of its words ("shuttle bus", not "bus").
    return max(substantive, key=lambda p: (len(p.split()) > 1, sources(p), specific[p], len(p.split()), p))


# One word that says how a thing went ("effective", "helpful", "difficult") is the stance, not the
# topic: two themes that share only such a word are about different things. The cue lexicon's single
# words of full weight for barrier, enabler or practice (the weaker ones, "trust", "wait", also name
# things a topic can be about). Phrases of two or more words stay candidates ("flexible appointments").
_STANCE_WORDS = frozenset(phrase for category in STANCES for phrase, weight in lexicon.CUES.get(category, ())
                          if weight >= 1.0 and " " not in phrase)


@dataclass(frozen=True)
class LoweredTexts:
    """Texts as lower-case words separated by single spaces, and which texts hold each word (a
    word-by-text incidence matrix, by column): a phrase is looked up only in the texts that hold all
    its words (at 100,000 passages, scanning every text for every candidate topic of every split
    cost minutes)."""

    texts: tuple[str, ...]
    vocabulary: dict[str, int]
    holding: csc_matrix

    def with_words(self, words: Sequence[str]) -> np.ndarray:
        postings = []
        for w in words:
            j = self.vocabulary.get(w)
            if j is None:
                return np.zeros(0, np.int32)
            postings.append(self.holding.indices[self.holding.indptr[j]:self.holding.indptr[j + 1]])
        postings.sort(key=len)
        out = postings[0] if postings else np.zeros(0, np.int32)
        for more in postings[1:]:
            out = np.intersect1d(out, more, assume_unique=True)
        return out


def lowered_texts(texts: Sequence[str]) -> LoweredTexts:
    lowered = tuple(" ".join(_WORDS.findall(t.lower())) for t in texts)
    vocabulary: dict[str, int] = {}
    indices: list[int] = []
    indptr = [0]
    for t in lowered:
        indices.extend(vocabulary.setdefault(w, len(vocabulary)) for w in set(t.split()))
        indptr.append(len(indices))
    matrix = csr_matrix((np.ones(len(indices), np.int8), indices, indptr), shape=(len(lowered), len(vocabulary)))
    return LoweredTexts(lowered, vocabulary, matrix.tocsc())


def _single_words(text: str) -> set[str]:
    """Content words of a text (a topic is often one noun: "transport", "appointments")."""
    return {w for words in _clause_words(text) for w in words if not _stop(w) and len(w) > 3}
