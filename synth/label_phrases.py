"""Theme labels an analyst can keep: a verbatim phrase, and a definition quoted from the theme.

Label (issue 13, item 4): candidate phrases are runs of 2-5 words inside one clause of the theme's
most central passages (no stop word at either end, no numbers), kept only when they occur in
passages from at least two of the theme's sources (two passages when it has one source), so a label
can always be traced to the passages it came from. Noun phrases come first ("shuttle bus from the
town", not "set up an email" or "support was offered"): without a tagger (en_core_web_sm may be
absent) a candidate counts as one when it neither opens with a verb of instruction nor holds a verb
or auxiliary inside (`noun_like`); other candidates are used only when a theme has no noun phrase.
The best-supported candidates are embedded with
the passages' own model and scored KeyBERT-style for maximal marginal relevance: similarity to the
theme's centre minus half the similarity to the closest *other* theme's centre (central and
distinctive). Labels are unique across themes: a theme takes its best phrase that no earlier
(larger) theme took. A theme whose phrases do not recur takes the best phrase of its most central
passages (still verbatim and traceable); only a theme with no phrase at all keeps the keyword label
of `synth.label`. `label_locations` finds where a label occurs in passages (for the app and exports).

Definition: one or two sentences quoted from the theme's most central quotes, each followed by its
source in brackets; not a template.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

from .label_spans import label_locations  # noqa: F401  (re-exported: where a label occurs)

Encode = Callable[[list[str]], np.ndarray]

_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"“”‘’…/|\n\t–—]+|\s-\s")
_WORD = re.compile(r"[a-z][a-z'’-]*[a-z]|[a-z]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")
_MIN_WORDS, _MAX_WORDS = 2, 5
_CENTRAL = 40          # most central members a theme's candidates come from (bounds time at 100k passages)
_CANDIDATES = 8        # best-supported candidates per theme that are embedded and scored
_FALLBACK_PASSAGES = 3  # central passages a theme with no recurring phrase takes its label from
_DISTINCT = 0.5        # weight of similarity to the closest other theme (MMR's lambda = 1 / (1 + this))
# Words that may sit inside a noun phrase ("data by ethnicity", "shuttle bus from the town"); any
# other stop word inside a candidate (was, are, can, have, they …) makes it a clause, not a name.
_NP_INSIDE = frozenset("of the a an in on for to from at by with and without into across between per who that which".split())
# "-ing" words that end a noun phrase as nouns; any other "-ing" (or "-ly") last word ends a clause
# fragment ("job search to getting", "overseas qualifications properly").
_ING_NOUNS = frozenset("""
    building funding housing meeting mentoring training learning planning marketing screening setting
    wellbeing understanding evening morning clothing parking spending teaching nursing engineering
    reporting monitoring recruiting coaching counselling listening shopping staffing timing
""".split())
# Verbs that open an instruction or an action rather than name a thing ("set up an email").
_VERB_OPENERS = frozenset("""
    add adopt agree allocate allow appoint ask avoid bring build call change check come create deliver
    develop do employ encourage engage ensure establish expand extend find follow get give go hire
    improve include increase introduce invest involve keep let listen look make move offer organise
    organize pay prioritise promote provide put recruit reduce run see send set share simplify start
    stop take talk teach tell translate try write fill apply attach sit meet pair speak spoke record
""".split())
_EXTRA_STOP = {"yes", "yeah", "okay", "ok", "lot", "lots", "thing", "things", "really", "just", "like", "think",
               "know", "mean", "say", "said", "got", "get", "going", "want", "bit", "kind", "sort", "way"}


@dataclass(frozen=True)
class PhraseLabel:
    phrase: str                      # lower-case, as it occurs in the passages
    passages: tuple[int, ...]        # passage indices it occurs in (traceability)
    n_sources: int


def _clause_words(text: str) -> list[list[str]]:
    return [_WORD.findall(clause) for clause in _CLAUSE.split(text.lower())]


def _stop(word: str) -> bool:
    return word in STOP_WORDS or word in _EXTRA_STOP or len(word) < 2 or "'" in word or "’" in word


def candidate_phrases(text: str) -> set[str]:
    """Runs of 2-5 words inside one clause, with a content word at each end."""
    out = set()
    for words in _clause_words(text):
        for i, first in enumerate(words):
            if _stop(first):
                continue
            for n in range(_MIN_WORDS, _MAX_WORDS + 1):
                if i + n > len(words):
                    break
                last = words[i + n - 1]
                if not _stop(last) and last != first:
                    out.add(" ".join(words[i:i + n]))
    return out


def noun_like(phrase: str) -> bool:
    """A POS-free test that a candidate names a thing: it does not open with a verb of instruction
    and holds no stop word but a preposition, article or conjunction inside."""
    words = phrase.split()
    last = words[-1]
    if words[0] in _VERB_OPENERS or last in _VERB_OPENERS or last.endswith("ly") \
            or (last.endswith("ing") and last.rsplit("-", 1)[-1] not in _ING_NOUNS):
        return False
    return all(w in _NP_INSIDE or not _stop(w) for w in words[1:-1])


def _tier(phrase: str, *, recurs: bool) -> int:
    """Label preference: 0 a recurring noun phrase; 1 a recurring phrase that is no instruction
    ("qualifications aren't recognised"); 2 a noun phrase of a central passage; 3 an instruction."""
    if noun_like(phrase):
        return 0 if recurs else 2
    words = phrase.split()
    return 3 if words[0] in _VERB_OPENERS or words[-1].endswith("ly") else 1


def phrase_labels(
    texts: Sequence[str],
    members: Sequence[np.ndarray],
    centroids: np.ndarray,
    embeddings: np.ndarray,
    groups: np.ndarray,
    encode: Encode,
) -> list[PhraseLabel | None]:
    """One label phrase per theme (None where no phrase recurs), unique across themes, in theme order.

    members[j]: passage indices of theme j, most central first is not assumed (they are ranked here).
    """
    C = np.asarray(centroids, np.float32)
    C = C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-12)
    found: list[dict[str, list[int]]] = []
    for j, idx in enumerate(members):
        idx = np.asarray(idx)
        central = idx[np.argsort(-(embeddings[idx] @ C[j]), kind="stable")][:_CENTRAL]
        where: dict[str, list[int]] = defaultdict(list)
        for i in central.tolist():
            for phrase in candidate_phrases(texts[i]):
                where[phrase].append(i)
        found.append(where)
    # How many themes each phrase recurs in: a phrase every theme uses is not distinctive wording.
    spread = Counter(p for where in found for p, at in where.items() if len(at) >= 2)
    shortlist: list[list[tuple[str, list[int], int]]] = []
    tier_of: dict[str, int] = {}
    for j, where in enumerate(found):
        n_groups = len(np.unique(groups[np.asarray(members[j])])) if len(members[j]) else 0
        need = 2 if n_groups >= 2 else 1
        ranked = []
        for phrase, at in where.items():
            sources = len({groups[i] for i in at})
            if len(at) < 2 or sources < need:
                continue
            support = sources + 0.5 * len(at) + 0.25 * len(phrase.split())
            ranked.append((_tier(phrase, recurs=True), -support / spread[phrase], phrase, at, sources))
        if not any(r[0] == 0 for r in ranked):  # no recurring noun phrase: those of the most central passages too
            central = sorted({i for at in where.values() for i in at},
                             key=lambda i: -float(embeddings[i] @ C[j]))[:_FALLBACK_PASSAGES]
            for phrase, at in where.items():
                if set(at) & set(central) and noun_like(phrase) and not any(r[2] == phrase for r in ranked):
                    rank = min(central.index(i) for i in at if i in central)
                    ranked.append((_tier(phrase, recurs=False), rank - 0.25 * len(phrase.split()), phrase, at,
                                   len({groups[i] for i in at})))
        ranked.sort(key=lambda r: (r[0], r[1], r[2]))
        for tier, _, p, _, _ in ranked[:_CANDIDATES]:
            tier_of[p] = min(tier, tier_of.get(p, tier))
        shortlist.append([(p, at, s) for _, _, p, at, s in ranked[:_CANDIDATES]])
    phrases = sorted({p for short in shortlist for p, _, _ in short})
    if not phrases:
        return [None] * len(members)
    P = np.asarray(encode(phrases), np.float32)
    P = P / np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-12)
    row = {p: i for i, p in enumerate(phrases)}
    sims = P @ C.T  # phrases x themes
    used: set[str] = set()
    out: list[PhraseLabel | None] = [None] * len(members)
    order = sorted(range(len(members)), key=lambda j: (-len(members[j]), j))  # larger themes choose first
    for j in order:
        best, best_score = None, -np.inf
        for phrase, at, sources in shortlist[j]:
            if phrase in used:
                continue
            s = sims[row[phrase]]
            other = np.delete(s, j).max() if len(s) > 1 else 0.0
            # A noun phrase beats any other candidate; among equals, central and distinctive wins.
            score = float(s[j] - _DISTINCT * other) - 10.0 * tier_of[phrase]
            if score > best_score:
                best, best_score = (phrase, at, sources), score
        if best is not None:
            used.add(best[0])
            out[j] = PhraseLabel(_as_written(best[0], texts, best[1]), tuple(sorted(set(best[1]))), best[2])
    return out


def _as_written(phrase: str, texts: Sequence[str], at: Sequence[int]) -> str:
    """The phrase with the capitals it has in the passages ("ESOL", "DWP"), first letter upper-case."""
    pattern = re.compile(r"\b" + r"\W+".join(re.escape(w) for w in phrase.split()) + r"\b", re.IGNORECASE)
    for i in at:
        found = pattern.search(texts[i])
        if found:
            written = " ".join(found.group(0).split())
            break
    else:
        written = phrase
    return written[:1].upper() + written[1:]


def quoted_definition(texts: Sequence[str], quotes: Sequence[int], names: Sequence[str], label: str,
                      max_sentences: int = 2) -> str:
    """One or two sentences from the theme's most central quotes (two sources when it has them),
    each followed by its source in brackets."""
    chosen: list[str] = []
    seen_sources: set[str] = set()
    for i in quotes:
        if len(chosen) == max_sentences:
            break
        if names[i] in seen_sources:
            continue
        sentence = _sentence_with(texts[i], label)
        if not sentence:
            continue
        chosen.append(f"“{sentence}” ({names[i]})")
        seen_sources.add(names[i])
    return " ".join(chosen)


def _sentence_with(text: str, label: str, max_words: int = 40) -> str:
    """The sentence of a passage that carries the label phrase, else its first sentence; trimmed."""
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]
    if not sentences:
        return ""
    words = set(label.lower().split())

    def worth(s: str) -> tuple:  # carries the label's words, says something (6+ words), comes early
        return (len(s.split()) >= 6, len(words & set(_WORD.findall(s.lower()))), -sentences.index(s))

    pick = max(sentences, key=worth)
    tokens = pick.split()
    return pick if len(tokens) <= max_words else " ".join(tokens[:max_words]) + " …"
