"""Barrier / enabler / practice / context: a category for every passage and every theme.

A passage's category comes from two kinds of evidence, both shown to the analyst:

- cue phrases matched over lemmas by `synth.cue_match` ("lack of", "struggled to", "worked well",
  "should", "could be adopted"), with negation: a cue preceded by "not", "no", "never", "without" … in the
  same clause flips ("did not help" counts for barrier, "no problems" for enabler);
- similarity, in the passages' embedding space, to short prototype statements written for each
  category (`synth.cues.PROTOTYPES`), plus template statements that cross each category's typical
  forms ("Lack of {topic}.", "{Topic} helped a lot.", "We need more {topic}.") with the same
  everyday topics, so that the topic of a passage cannot decide its category. Embeddings carry
  the elliptical answers that have no cue word at all ("no direct contact with users").

They are added in one linear score per category,
``logit[c] = SIM_WEIGHT * mean top-k similarity to c's prototypes + CUE_WEIGHT * log1p(cue weight for c) + BIAS[c]``,
and a softmax turns the logits into scores that sum to 1. A theme's category is the weighted vote
of its passages; its mix shows how far they agree, and a theme whose passages divide between
categories is offered for splitting.

The cue phrases are found by `synth.cue_match` (lemmas, negation, wishes); the cue lists and
prototypes live in `synth.cues`. This module scores: passages, the survey question's prior, themes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from spacy.matcher import PhraseMatcher
from spacy.util import filter_spans

from . import cue_match
from . import cues as lexicon
from .cue_match import NIL_LEMMA, CueMatch, Lexicon, match_cues, negator_before, parse, pipeline
from .errors import ModelError
from .records import CATEGORIES
from .vectors import unit

SIM_WEIGHT = 20.0
CUE_WEIGHT = 1.0
# No category is favoured: with context at -0.5, headings and method text in real reports (no cue,
# similarities within a few hundredths) came out as enablers (docs/benchmarks.md, "Categories").
BIAS: Mapping[str, float] = {"barrier": 0.0, "enabler": 0.0, "practice": 0.0, "context": 0.0}
TOP_K = 20
# A negated barrier cue ("no problems") is weaker evidence of an enabler than a plain enabler cue.
NEGATED_BARRIER_FACTOR = 0.7


@dataclass(frozen=True)
class PassageCategory:
    scores: Mapping[str, float]  # barrier, enabler, practice, context; sum to 1
    category: str
    cues: tuple[CueMatch, ...]
    similarity: Mapping[str, float] = field(default_factory=dict)  # mean top-k cosine to each category's prototypes
    cue_weight: Mapping[str, float] = field(default_factory=dict)  # summed cue weight counted for each category
    nearest_prototype: str = ""  # the prototype statement closest to the passage, for the winning category

    @property
    def nil_answer(self) -> str | None:
        """The passage's nil-answer phrase ("Cannot think of anything"), verbatim, when it is one."""
        return next((c.phrase for c in self.cues if c.lemma == NIL_LEMMA and not c.question), None)

    def reasons(self) -> tuple[str, ...]:
        """Why the passage got its category, in words an analyst can check against the text."""
        out = [f"{self.category} {self.scores[self.category]:.2f} ("
               + ", ".join(f"{c} {self.scores[c]:.2f}" for c in CATEGORIES if c != self.category) + ")"]
        asked = [c for c in self.cues if c.question]
        if asked:
            leaning = question_category(asked)
            nil = any(c.lemma == NIL_LEMMA for c in self.cues)
            out.append(f'answers the question "{asked[0].question}": '
                       + ((f"leans {leaning} (a nil answer turns it, not added)" if nil
                           else f"leans {leaning} (+{QUESTION_WEIGHT:g} to its score)") if leaning else "no clear leaning")
                       + " (" + ", ".join(f'"{c.phrase}" {c.counts_for}' for c in asked) + ")")
        own = [c for c in self.cues if not c.question]
        if own:
            out.append("cues: " + ", ".join(c.describe() for c in own))
        else:
            out.append("no cue phrases in the passage; decided by similarity to the prototype statements"
                       + (" and the question" if asked else ""))
        if self.similarity:
            out.append("similarity to prototypes: " + ", ".join(f"{c} {self.similarity[c]:.2f}" for c in CATEGORIES))
        if self.nearest_prototype:
            out.append(f'closest {self.category} prototype: "{self.nearest_prototype}"')
        return tuple(out)


def cue_totals(matches: Sequence[CueMatch]) -> dict[str, float]:
    totals = dict.fromkeys(CATEGORIES, 0.0)
    for m in matches:
        target = m.counts_for
        if target is None or m.question:  # a question's cues are its prior, added once (question_prior)
            continue
        factor = NEGATED_BARRIER_FACTOR if m.negated and m.category == "barrier" and m.lemma != NIL_LEMMA else 1.0
        totals[target] += m.weight * factor
    return totals


# --------------------------------------------------------------------------------------------
# Prototypes


@dataclass(frozen=True)
class PrototypeIndex:
    """The prototype statements embedded with the same model as the passages."""

    texts: Mapping[str, tuple[str, ...]]
    vectors: Mapping[str, np.ndarray]  # category -> (n, dim), L2-normalised

    @classmethod
    def build(cls, encode: Callable[[Sequence[str]], np.ndarray],
              prototypes: Mapping[str, Sequence[str]] | None = None) -> PrototypeIndex:
        protos = {c: tuple(v) for c, v in (prototypes or lexicon.all_prototypes()).items()}
        missing = [c for c in CATEGORIES if not protos.get(c)]
        if missing:
            raise ValueError(f"prototypes: no statements for {', '.join(missing)}; every one of "
                             f"{', '.join(CATEGORIES)} needs at least one")
        flat = [t for c in CATEGORIES for t in protos[c]]
        vectors = unit(np.asarray(encode(flat), dtype=np.float32))
        out, at = {}, 0
        for c in CATEGORIES:
            out[c] = vectors[at:at + len(protos[c])]
            at += len(protos[c])
        return cls(dict(protos), dict(out))

    @property
    def dim(self) -> int:
        return int(next(iter(self.vectors.values())).shape[1])


@functools.cache
def default_prototypes() -> PrototypeIndex:
    """Prototypes embedded with synth's default model (loads it once per process)."""
    from .embed import Embedder, resolve_model

    return PrototypeIndex.build(Embedder(resolve_model(), device="cpu").encode)


def prototype_similarity(embeddings: np.ndarray, prototypes: PrototypeIndex,
                         top_k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(n, 4) mean of the top-k cosine similarities per category, and (n, 4) index of the nearest."""
    e = unit(np.asarray(embeddings, dtype=np.float32))
    sims = np.zeros((len(e), len(CATEGORIES)), dtype=np.float32)
    nearest = np.zeros((len(e), len(CATEGORIES)), dtype=np.int64)
    for j, c in enumerate(CATEGORIES):
        s = e @ prototypes.vectors[c].T
        k = min(top_k or TOP_K, s.shape[1])
        top = -np.sort(-s, axis=1)[:, :k]
        sims[:, j] = top.mean(axis=1)
        nearest[:, j] = s.argmax(axis=1)
    return sims, nearest


# --------------------------------------------------------------------------------------------
# Passages


def categorise_passages(texts: Sequence[str], embeddings: np.ndarray, *,
                        prototypes: PrototypeIndex | None = None,
                        use_cues: bool = True, use_prototypes: bool = True,
                        questions: Sequence[str | None] | None = None) -> list[PassageCategory]:
    """Scores for barrier, enabler, practice and context for each passage, with the cues behind them.

    `embeddings` are the passages' vectors, one row per text; `prototypes` must come from the same
    model (the default is synth's default model). `use_cues` / `use_prototypes` switch a component
    off, for ablations. `questions[i]`: the survey question passage i answers, if any; its leaning
    (`question_prior`) adds QUESTION_WEIGHT to that category's logit, and its cues join the passage's
    (marked as the question's) so that the reasons show it.
    """
    if questions is not None and len(questions) != len(texts):
        raise ValueError(f"questions: expected one per text ({len(texts)}), got {len(questions)}")
    priors = {q: question_prior(q) for q in set(questions or ()) if q and q.strip()}
    if not texts:
        return []
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2 or len(embeddings) != len(texts):
        raise ValueError(f"embeddings: expected one row per text ({len(texts)}), got shape {embeddings.shape}")
    if use_prototypes:
        prototypes = prototypes or default_prototypes()
        if prototypes.dim != embeddings.shape[1]:
            raise ModelError(f"category prototypes have {prototypes.dim} dimensions but the passage embeddings "
                             f"have {embeddings.shape[1]}; build them with the passages' model: "
                             "PrototypeIndex.build(embedder.encode)")
        sims, nearest = prototype_similarity(embeddings, prototypes)
    else:
        sims = np.zeros((len(texts), len(CATEGORIES)), dtype=np.float32)
        nearest = None
    docs = parse(texts)
    bias = np.array([BIAS[c] for c in CATEGORIES])
    out = []
    for i, (text, doc) in enumerate(zip(texts, docs)):
        matches = match_cues(text, doc) if use_cues else ()
        prior = priors.get(questions[i]) if questions is not None else None
        if prior is not None and prior.category == "enabler":
            # "Nothing" to "What was good?" says nothing was: the nil answer counts for barrier.
            matches = tuple(replace(m, category="enabler") if m.lemma == NIL_LEMMA else m for m in matches)
        totals = cue_totals(matches)
        cue_vec = np.array([math.log1p(totals[c]) for c in CATEGORIES])
        logits = SIM_WEIGHT * sims[i] + CUE_WEIGHT * cue_vec + bias
        nil = any(m.lemma == NIL_LEMMA for m in matches)
        if prior is not None:
            matches = prior.cues + matches
            # A nil answer says the question's leaning does not hold ("Nothing" to "What could be
            # better?"): its own cue, turned by that leaning, carries the question instead.
            if prior.category is not None and not nil:
                logits = logits + QUESTION_WEIGHT * np.array([c == prior.category for c in CATEGORIES], dtype=float)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        winner = CATEGORIES[int(probs.argmax())]
        proto_text = ""
        if nearest is not None:
            proto_text = prototypes.texts[winner][int(nearest[i, CATEGORIES.index(winner)])]
        out.append(PassageCategory(
            scores={c: float(p) for c, p in zip(CATEGORIES, probs)},
            category=winner, cues=matches,
            similarity={c: float(s) for c, s in zip(CATEGORIES, sims[i])} if use_prototypes else {},
            cue_weight=dict(totals),
            nearest_prototype=proto_text))
    return out


# --------------------------------------------------------------------------------------------
# The question a survey answer replies to

# A strong prior: about as much as two decisive cue phrases in the answer itself, so an answer to
# "What made it harder?" reads as a barrier unless its own words clearly say otherwise
# (docs/benchmarks.md, "Categories: the question as a prior").
QUESTION_WEIGHT = 2.0
QUESTION_MARGIN = 0.5  # the leading category's cue weight must exceed the next one's by this much
# ... and reach one decisive cue (weight 1): a weak general cue alone is not a question's wording. The
# NHS survey's question column holds "Trust A - Q1", whose "Trust" (an enabler cue of weight 0.5)
# leaned every answer to enabler, so "Staff are never around" read as praise and "Cannot think of
# anything" as a complaint (docs/benchmarks.md, "A second review read as a user").
QUESTION_MIN_WEIGHT = 1.0


@dataclass(frozen=True)
class QuestionPrior:
    question: str
    category: str | None  # the category the question asks for; None when its wording does not say
    cues: tuple[CueMatch, ...]  # what in the question says so (offsets into the question)


@functools.cache
def _question_lexicon() -> Lexicon:
    nlp = pipeline()
    matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
    labels: dict[int, tuple[str, str, float]] = {}
    for category, items in lexicon.QUESTION_CUES.items():
        for phrase, weight in items:
            key = f"question:{category}:{phrase}"
            matcher.add(key, [nlp(phrase.lower())])
            labels[nlp.vocab.strings[key]] = (category, phrase, weight)
    return Lexicon(matcher, labels)


@functools.lru_cache(maxsize=4096)  # a survey asks few questions of many rows
def question_prior(question: str) -> QuestionPrior:
    """Which category a question's answers lean to, from the question's own wording: the question
    cue phrases (`synth.cues.QUESTION_CUES`, "get in the way", "go well", "change") and the general
    cues, with negation ("not satisfied" asks about a shortfall). None when no category leads by
    QUESTION_MARGIN ("What happened to make you satisfied, when you were not?")."""
    question = " ".join(question.split())
    doc = parse([question])[0]
    lex = _question_lexicon()
    framed = []
    for match_id, start, end in lex.matcher(doc):
        category, phrase, weight = lex.labels[match_id]
        framed.append((doc[start:end], category, phrase, weight))
    kept = filter_spans([f[0] for f in framed])
    spans = {(s.start, s.end) for s in kept}
    cues: list[CueMatch] = []
    seen: set[tuple[int, int]] = set()
    # Lemmas can join words the question tells apart ("better" and "best" both lemmatise to "well"):
    # where two cues match the same words, the one whose own wording is the question's comes first.
    for span, category, phrase, weight in sorted(framed, key=lambda f: (f[0].start, f[0].text.lower() != f[2])):
        if (span.start, span.end) in spans and (span.start, span.end) not in seen:
            seen.add((span.start, span.end))
            neg = negator_before(doc, span, {t.i for t in doc if t.lower_ in lexicon.NEGATORS})
            start = doc[neg].idx if neg is not None else span.start_char
            cues.append(CueMatch(phrase=question[start:span.end_char], category=category, start_char=start,
                                 end_char=span.end_char, negated=neg is not None, lemma=phrase, weight=weight,
                                 question=question))
    covered = {i for s in kept for i in range(s.start_char, s.end_char)}
    for m in match_cues(question, doc):
        if not covered.intersection(range(m.start_char, m.end_char)) and m.category != "context":
            cues.append(replace(m, question=question))
    cues.sort(key=lambda c: c.start_char)
    return QuestionPrior(question, question_category(cues), tuple(cues))


def question_category(cues: Sequence[CueMatch]) -> str | None:
    """The category a question's cues lean to, when one leads the others by QUESTION_MARGIN and its
    cues weigh at least QUESTION_MIN_WEIGHT."""
    totals = dict.fromkeys(("barrier", "enabler", "practice"), 0.0)
    for c in cues:
        target = c.counts_for
        if target in totals:
            totals[target] += c.weight
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    leads = ranked[0][1] >= QUESTION_MIN_WEIGHT and ranked[0][1] - ranked[1][1] >= QUESTION_MARGIN
    return ranked[0][0] if leads else None


@functools.cache
def categoriser_fingerprint() -> str:
    """Changes whenever the categoriser could score a passage differently: a digest of this module,
    of the cue matcher, of the lexicon and prototypes they read, and of the spaCy pipeline that lemmatises for the cue
    matcher (installing en_core_web_sm, or new lookup tables, changes the lemmas). Stored with each
    passage's category, so a re-run reuses only categories that the same code, lexicon and
    pipeline computed."""
    import hashlib
    from pathlib import Path

    from .nlp import pipeline_fingerprint

    digest = hashlib.sha256()
    for path in (Path(__file__), Path(cue_match.__file__), Path(lexicon.__file__)):
        digest.update(path.read_bytes())
    digest.update(pipeline_fingerprint().encode())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Themes

SPLIT_MIN_SHARE = 0.25
SPLIT_MIN_PASSAGES = 2
TOP_PASSAGES = 3


@dataclass(frozen=True)
class ThemeCategory:
    category: str
    confidence: float  # weighted mean of the members' scores for `category`
    mix: Mapping[str, float]  # share of the members' weight whose own category is each category
    reasons: tuple[str, ...]
    top_passages: tuple[int, ...]  # positions within `members`, most weight for `category` first
    split_suggested: bool
    split_categories: tuple[str, ...] = ()  # the categories a split would separate


def categorise_theme(members: Sequence[PassageCategory], weights: Sequence[float] | None = None, *,
                     category: str | None = None) -> ThemeCategory:
    """A theme's category from its passages: the weighted vote, its agreement and the passages behind it.

    `category` (one a reviewer chose) replaces the vote's winner: confidence, reasons and top passages
    then describe the evidence for that category, not for the one the vote would pick."""
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    if not members:
        raise ValueError("categorise_theme: a theme with no passages has no category")
    w = np.ones(len(members)) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != len(members) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights: expected {len(members)} non-negative weights with a positive sum, got {list(w)}")
    w = w / w.sum()
    votes = dict.fromkeys(CATEGORIES, 0.0)
    counts = dict.fromkeys(CATEGORIES, 0)
    soft = dict.fromkeys(CATEGORIES, 0.0)
    for m, wi in zip(members, w):
        votes[m.category] += wi
        counts[m.category] += 1
        for c in CATEGORIES:
            soft[c] += wi * m.scores[c]
    winner = category or max(CATEGORIES, key=lambda c: (votes[c], soft[c]))
    confidence = soft[winner]
    order = sorted(range(len(members)), key=lambda i: (-(w[i] * members[i].scores[winner]), i))
    top = tuple(i for i in order if members[i].category == winner)[:TOP_PASSAGES]

    substantive = [c for c in ("barrier", "enabler", "practice")
                   if votes[c] >= SPLIT_MIN_SHARE and counts[c] >= SPLIT_MIN_PASSAGES]
    split = len(substantive) >= 2

    n = len(members)
    reasons = [(f"{counts[winner]} of {n} passages read as {winner} ({votes[winner]:.0%} of the weight); "
                f"mean {winner} score {confidence:.2f}")]
    others = [f"{counts[c]} {c}" for c in CATEGORIES if c != winner and counts[c]]
    if others:
        reasons.append("also: " + ", ".join(others))
    cue_counts: dict[str, int] = {}
    for m in members:
        # A question's cues count only where the question leaned its answers (as the passage's reasons say).
        asked = [c for c in m.cues if c.question]
        leaned = bool(asked) and question_category(asked) is not None
        for cue in m.cues:
            if cue.counts_for == winner and (leaned or not cue.question):
                key = cue.phrase.lower() if cue.negated else cue.lemma
                cue_counts[key] = cue_counts.get(key, 0) + 1
    if cue_counts:
        common = sorted(cue_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        reasons.append(f"{winner} cues: " + ", ".join(f'"{k}" ×{v}' for k, v in common))
    if split:
        reasons.append("passages divide between " + " and ".join(substantive) + "; consider splitting the theme by category")
    return ThemeCategory(category=winner, confidence=float(confidence),
                         mix={c: float(votes[c]) for c in CATEGORIES},
                         reasons=tuple(reasons), top_passages=top, split_suggested=split,
                         split_categories=tuple(substantive) if split else ())
