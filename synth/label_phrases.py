"""Theme labels an analyst can keep: a verbatim phrase (the definition quoted from the theme is
`synth.label_definition`, which reads sentences with the same word rules).

Over 450 lines (about 540) because label choice is one scoring over many word rules (stop words, noun-phrase
shape, crude stems, shared and idea words, names cut short, surface forms), read with them in view.

Label (issue 13, item 4): candidate phrases are runs of 2-6 words inside one clause of the theme's
most central passages (no stop word at either end, no numbers), counted with each word in its
singular (`label_spans.singular`: "guaranteed interview" and "interviews" are one phrase, and
`label_locations` finds either), kept only when they occur in passages from at least two of the
theme's sources (two passages when it has one source), so a label can always be traced to the
passages it came from. Noun phrases come first ("shuttle bus from the town centre", not "set up an
email" or "support was offered"): without a tagger (en_core_web_sm may be absent) a candidate counts
as one when it neither opens with a verb of instruction nor holds a verb or auxiliary inside
(`noun_like`); other candidates are used only when a theme has no noun phrase. A candidate two thirds
of its passages go on from with the same content word is half a name and is passed over. The
best-supported candidates (support: sources and passages, times the share of the phrase's uses that
fall inside this theme, its *concentration*) are embedded with the passages' own model and scored
KeyBERT-style for maximal marginal relevance: similarity to the theme's centre minus half the
similarity to the closest *other* theme's centre (central and distinctive), plus credit for words
the theme's sources and passages share more than all themes do (`_shared_words`: the idea the
passages share, "childcare costs", not an instance one or two sources name, "family member"), for
more sources, for concentration, and for carrying the theme's most distinctive word (its c-TF-IDF
weights from `synth.label`). With passage categories, a phrase only passages of the opposite stance
use is not a candidate, and one they partly use loses by their share. Labels are unique across
themes: a theme takes its best phrase that no earlier (larger) theme took, in the written form most
of its passages use. A theme whose noun phrases do not recur takes the best-scored noun phrase of any
of its central passages, those with the most shared words shortlisted (still verbatim and
traceable); only a theme with no phrase at all keeps the keyword label of `synth.label`. Where the
recurring phrases name a detail (a word most of the theme's sources say is in none of them: "bus" in
a transport theme whose one repeated phrase is "warehouse jobs"), noun phrases headed by that word
compete too, said by one source but each of their words by two (`_idea_phrases`), and every
candidate is then credited for how widely the theme says its best word (`_covers`).
`label_locations` finds where a label occurs in passages (for the app and exports).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

from .label_spans import CLAUSE as _CLAUSE
from .label_spans import WORD as _WORD
from .label_spans import label_locations  # noqa: F401  (re-exported: where a label occurs)
from .label_spans import singular

Encode = Callable[[list[str]], np.ndarray]
_log = logging.getLogger(__name__)

_MIN_WORDS, _MAX_WORDS = 2, 6
_CENTRAL = 40          # most central members a theme's candidates come from (bounds time at 100k passages)
_CANDIDATES = 12       # best-supported candidates per theme that are embedded and scored
_SOURCES = 0.05        # score per doubling of the sources a label occurs in
_TERMS = 0.2           # score for carrying the theme's most distinctive word
_CONCENTRATION = 0.2   # score for a label said only inside its theme (vs. as often elsewhere)
_FALLBACK_CANDIDATES = 24  # a theme with no recurring noun phrase: its candidates that are embedded and scored
_AGAINST_STANCE = 0.2  # score taken off a label for the share of its passages of the opposite stance
_SHARED = 0.5          # score for words the theme's sources and passages use more than other themes' (`_shared_words`), averaged over the words
_IDEA_WORD = 0.5       # a word this much shared (`_shared_words`: about half the theme's sources and passages) is its idea
_IDEA_CANDIDATES = 8   # phrases of one source carrying an idea word no recurring candidate carries (`_idea_phrases`)
_COVERS = 0.3          # score for the theme's share of sources and passages saying a candidate's best-shared word (`_covers`)
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
# Verbs that are nouns too ("work", "need"): after a plural they are the plural's verb, not a name's head.
_BARE_VERBS = frozenset("work need want live struggle worry wait feel think look help care cope".split())
_EXTRA_STOP = {"yes", "yeah", "okay", "ok", "lot", "lots", "thing", "things", "really", "just", "like", "think",
               "know", "mean", "say", "said", "got", "get", "going", "want", "bit", "kind", "sort", "way",
               # adverbs of a speaker's emphasis or hedging: they open or close no name ("especially the language")
               "especially", "particularly", "mainly", "mostly", "usually", "actually", "basically", "obviously",
               "certainly", "definitely", "probably", "generally", "honestly", "simply", "maybe", "perhaps",
               "frankly", "literally", "absolutely", "totally", "always", "sometimes", "often"}


# Anonymisation placeholders ("Dr XXXX", "[name redacted]"): what was taken out is no theme's name.
# The trial of a second review labelled a theme of thanks to named staff "Dr XXXX".
_PLACEHOLDER = re.compile(r"x{2,}|redacted|anonymi[sz]ed")


@dataclass(frozen=True)
class PhraseLabel:
    phrase: str                      # lower-case, as it occurs in the passages
    passages: tuple[int, ...]        # passage indices it occurs in (traceability)
    n_sources: int


def _clause_words(text: str) -> list[list[str]]:
    return [_WORD.findall(clause) for clause in _CLAUSE.split(text.lower())]


def _stop(word: str) -> bool:
    return (word in STOP_WORDS or word in _EXTRA_STOP or len(word) < 2 or "'" in word or "’" in word
            or _PLACEHOLDER.fullmatch(word) is not None)


# Stop words that may close a label after a preposition: what a reply is happy with ("Happy with everything",
# said by 30 NHS replies), not what a verb did ("Explained everything", a detail of a theme of praise).
_WHOLE_ENDS = frozenset("everything everyone everybody".split())
is_stop = _stop  # a word that opens or closes no label (`synth.label` trims a quote's key phrase with it)


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
                if (not _stop(last) or (last in _WHOLE_ENDS and words[i + n - 2] in _NP_INSIDE)) and last != first:
                    out.add(" ".join(words[i:i + n]))
    return out


def noun_like(phrase: str) -> bool:
    """A POS-free test that a candidate names a thing: it does not open with a verb of instruction
    and holds no stop word but a preposition, article or conjunction inside."""
    words = phrase.split()
    last = words[-1]
    if words[0] in _VERB_OPENERS or _lemma(last) in _VERB_OPENERS or last.endswith("ly") \
            or (last.endswith("ing") and last.rsplit("-", 1)[-1] not in _ING_NOUNS):
        return False
    if last in _BARE_VERBS and singular(words[-2]) != words[-2]:
        return False  # a plural subject and its verb ("parents work", "women struggle"): a clause
    return all(w in _NP_INSIDE or not _stop(w) for w in words[1:-1])


@functools.cache
def _lemma_table() -> Mapping[str, str]:
    from spacy.lookups import load_lookups  # spacy-lookups-data: a dependency already (synth.nlp)

    try:
        return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")
    except (ValueError, OSError):  # tables absent: irregular verb forms are then not recognised
        return {}


def _lemma(word: str) -> str:
    """A word's lemma from spaCy's lookup table ("came" -> "come"): a phrase ending in a verb of
    action, in any form ("wage came", "support offered"), is a clause, not a name."""
    return _lemma_table().get(word, word)


def _tier(phrase: str, *, recurs: bool) -> int:
    """Label preference: 0 a recurring noun phrase; 1 a recurring phrase that is no instruction
    ("qualifications aren't recognised"); 2 a noun phrase of a central passage; 3 an instruction."""
    if noun_like(phrase):
        return 0 if recurs else 2
    words = phrase.split()
    return 3 if words[0] in _VERB_OPENERS or words[-1].endswith("ly") else 1


def _key(phrase: str) -> str:
    """How candidates are counted: lower-case, each word in its singular ("guaranteed interview" and
    "guaranteed interviews" are one phrase), the same rule by which `label_locations` finds a label,
    so every passage a label is counted in shows it."""
    return " ".join(singular(w) for w in phrase.split())


_AGAINST = {"barrier": {"enabler", "practice"}, "enabler": {"barrier"}, "practice": {"barrier"}}


def theme_stance(categories: Sequence[str | None]) -> str | None:
    """The stance most of a theme's passages take (barrier, or enabler/practice), when at least
    two thirds of its passages that take one agree; else None (a theme of mixed or neutral stance)."""
    barrier = sum(c == "barrier" for c in categories)
    positive = sum(c in ("enabler", "practice") for c in categories)
    if barrier + positive == 0:
        return None
    if barrier >= 2 * positive:
        return "barrier"
    if positive >= 2 * barrier:
        return max(("enabler", "practice"), key=lambda c: (sum(x == c for x in categories), c == "enabler"))
    return None


def contradicts(passage_category: str | None, theme_category: str | None) -> bool:
    """Whether a passage's own category says the opposite of its theme's (a barrier passage in an
    enabler theme): such a passage is not the theme's headline quote, nor where its label comes from."""
    return passage_category in _AGAINST.get(theme_category or "", ())


def phrase_labels(
    texts: Sequence[str],
    members: Sequence[np.ndarray],
    centroids: np.ndarray,
    embeddings: np.ndarray,
    groups: np.ndarray,
    encode: Encode,
    categories: Sequence[str | None] | None = None,
    weights: Sequence[Mapping[str, float]] | None = None,
) -> list[PhraseLabel | None]:
    """One label phrase per theme (None where a theme has no phrase at all), unique across themes.

    members[j]: passage indices of theme j (ranked here by closeness to its centre); categories[i]:
    passage i's category, when known (a phrase only passages of the opposite stance use is not a
    label for the theme); weights[j]: theme j's distinctive words (written form -> weight, best 1),
    the c-TF-IDF of `synth.label`: a phrase carrying them names what sets the theme apart.
    `embeddings` are unit vectors, one per passage.
    """
    C = np.asarray(centroids, np.float32)
    C = C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-12)
    stance_of = [theme_stance([categories[i] for i in np.asarray(idx).tolist()]) if categories is not None else None
                 for idx in members]
    found: list[dict[str, list[int]]] = []
    centrals: list[np.ndarray] = []
    surface: dict[str, Counter] = defaultdict(Counter)
    for j, idx in enumerate(members):
        idx = np.asarray(idx)
        central = idx[np.argsort(-(embeddings[idx] @ C[j]), kind="stable")][:_CENTRAL]
        centrals.append(central)
        where: dict[str, list[int]] = defaultdict(list)
        for i in central.tolist():
            for phrase in candidate_phrases(texts[i]):
                key = _key(phrase)
                surface[key][phrase] += 1
                if not where[key] or where[key][-1] != i:
                    where[key].append(i)
        found.append(where)
    # In how many passages of all themes each phrase occurs: a label should be said mostly inside
    # its theme (its concentration there), not everywhere ("work programme" in an evaluation's text).
    everywhere = Counter(key for where in found for key, at in where.items() for _ in at)
    # Each content word's share of all themes' central passages: a word every theme uses ("care",
    # "federal", "thank") is no idea one theme's sources share.
    words_of = {i: _content_words(texts[i]) for central in centrals for i in central.tolist()}
    corpus_share = {w: c / max(len(words_of), 1) for w, c in Counter(w for ws in words_of.values() for w in ws).items()}
    shortlist: list[list[tuple[str, list[int], int, float]]] = []
    shared_by_theme: list[dict[str, float]] = []
    with_ideas: list[bool] = []
    for j, where in enumerate(found):
        n_groups = len(np.unique(groups[np.asarray(members[j])])) if len(members[j]) else 0
        need = 2 if n_groups >= 2 else 1
        ranked = []
        for key, at in where.items():
            sources = len({groups[i] for i in at})
            if len(at) < 2 or sources < need:
                continue
            if categories is not None and all(contradicts(categories[i], stance_of[j]) for i in at):
                continue  # said only by passages of the other stance ("bus fare" in a shuttle-bus theme)
            tier = _tier(_surface(key, surface), recurs=True)
            concentration = len(at) / everywhere[key]
            support = (sources + 0.5 * len(at)) * concentration
            ranked.append((tier, -support, key, at, sources, concentration))
        shared_of = _shared_words(centrals[j], words_of, groups, corpus_share)
        shared_by_theme.append(shared_of)
        if not any(r[0] == 0 for r in ranked):
            # No noun phrase recurs: noun phrases of any of the theme's central passages, those whose
            # words most of its sources use first ("demand for the programme" in a programme's
            # evaluation), not only the detail of the passage nearest the centre ("dictated by the
            # programme leads"); the scoring below decides among them.
            order = {i: r for r, i in enumerate(centrals[j].tolist())}
            for key, at in where.items():
                phrase = _surface(key, surface)
                if noun_like(phrase) and not any(r[2] == key for r in ranked):
                    rank = min(order[i] for i in at)
                    ranked.append((_tier(phrase, recurs=False), -_shared(key, shared_of) + 0.001 * rank, key, at,
                                   len({groups[i] for i in at}), len(at) / everywhere[key]))
        ranked.sort(key=lambda r: (r[0], r[1], r[2]))
        best_tier = ranked[0][0] if ranked else 0
        limit = _CANDIDATES if best_tier == 0 else _FALLBACK_CANDIDATES
        short = [(key, at, s, conc, _shared(key, shared_of)) for tier, _, key, at, s, conc in ranked[:limit]
                 if tier == best_tier]
        ideas = (_idea_phrases(where, surface, shared_of, [r[2] for r in ranked if r[0] == 0], groups, everywhere,
                               _word_sources(centrals[j], words_of, groups))
                 if best_tier == 0 and n_groups >= 2 else [])  # one source's theme: all its words are "shared" by all its sources
        with_ideas.append(bool(ideas))
        short += ideas
        shortlist.append(short)
    keys = sorted({k for short in shortlist for k, *_ in short})
    if not keys:
        return [None] * len(members)
    P = np.asarray(encode([_surface(k, surface) for k in keys]), np.float32)
    P = P / np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-12)
    row = {k: i for i, k in enumerate(keys)}
    sims = P @ C.T  # phrases x themes
    used: set[str] = set()
    out: list[PhraseLabel | None] = [None] * len(members)
    order = sorted(range(len(members)), key=lambda j: (-len(members[j]), j))  # larger themes choose first
    for j in order:
        if not shortlist[j]:
            continue
        best, best_score = None, -np.inf
        for key, at, sources, concentration, shared in shortlist[j]:
            if key in used:
                continue
            phrase, s = _surface(key, surface), sims[row[key]]
            if _cut_short(phrase, texts, at):
                continue  # "bus route to the business", always followed by "park": half a name
            carries = _carries(phrase, weights[j] if weights else {})
            other = np.delete(s, j).max() if len(s) > 1 else 0.0
            # Share of the passages saying it whose own category contradicts the theme's stance
            # ("bad experience" in an outreach enabler theme, said where the jobcentre is distrusted);
            # one passage's category is too noisy to count against a phrase only it says.
            against = (sum(contradicts(categories[i], stance_of[j]) for i in set(at)) / len(set(at))
                       if categories is not None and len(set(at)) >= 2 else 0.0)
            # KeyBERT's maximal marginal relevance, with the other themes as what a label must not
            # also name: close to this theme's centre, far from the nearest other theme's centre; then
            # words most of the theme's sources use (what they share, not one source's instance), said
            # in more of the theme's sources, mostly inside the theme, carrying its distinctive words.
            # Where idea phrases compete (`_idea_phrases`), also how widely the theme says the
            # candidate's best word: the idea most sources say over a detail two repeat.
            covers = _covers(key, shared_by_theme[j]) if with_ideas[j] else 0.0
            score = (float(s[j] - _DISTINCT * other) + _SHARED * shared + _COVERS * covers + _SOURCES * np.log2(sources)
                     + _CONCENTRATION * concentration + _TERMS * carries - _AGAINST_STANCE * against)
            _log.debug("%2d %-40s centre=%.2f other=%.2f shared=%.2f covers=%.2f sources=%d concentration=%.2f words=%.2f against=%.2f -> %.3f",
                       j, phrase, s[j], other, shared, covers, sources, concentration, carries, against, score)
            if score > best_score:
                best, best_score = (key, at, sources), score
        if best is not None:
            used.add(best[0])
            out[j] = PhraseLabel(_as_written(_said_most(best[0], best[1], texts, surface), texts, best[1]),
                                 tuple(sorted(set(best[1]))), best[2])
    return out


def _idea_phrases(where: Mapping[str, list[int]], surface: Mapping[str, Counter], shared_of: Mapping[str, float],
                  recurring: Sequence[str], groups: np.ndarray, everywhere: Mapping[str, int],
                  sources_of: Mapping[str, int]) -> list[tuple[str, list[int], int, float, float]]:
    """Noun phrases no two sources repeat whose head is a word most of the theme says (`_IDEA_WORD`)
    and no recurring candidate carries: the idea, where the only phrases two sources repeat name a
    detail. The demo's transport theme says "bus" in four of its seven sources ("the bus took over an
    hour", "no buses to the business park", "poor bus links") while "warehouse jobs", the only
    phrase two of them repeat, is what two survey answers mention. Their other words must be said by
    two sources too, so the phrase is the idea and not one source's instance of it. Shortlisted
    beside the recurring candidates (best idea word first); the scoring decides among them."""
    carried = {_stem(w) for key in recurring for w in key.split()}
    ideas = {w: v for w, v in shared_of.items() if v >= _IDEA_WORD and _stem(w) not in carried}
    _log.debug("idea words %s", ideas)
    if not ideas:
        return []
    found = []
    for key, at in where.items():
        if key in recurring:
            continue
        best = ideas.get(_head(key), 0.0)
        # Each of its other words said by two sources or more: the idea, not one source's instance of
        # it ("women in headscarves", "cracked phone", "mentor from the Caribbean association").
        # A verb of action in any form opens no name ("started treatment", "met XXXX").
        if best and noun_like(_surface(key, surface)) and _lemma(key.split()[0]) not in _VERB_OPENERS and all(
                _stop(w) or sources_of.get(w, 0) >= 2 for w in key.split()):
            found.append((-best, -_shared(key, shared_of), key, at))
    found.sort()
    return [(key, at, len({groups[i] for i in at}), len(at) / everywhere[key], _shared(key, shared_of))
            for _, _, key, at in found[:_IDEA_CANDIDATES]]


def _word_sources(central: np.ndarray, words_of: Mapping[int, frozenset[str]], groups: np.ndarray) -> dict[str, int]:
    """Each content word of a theme's central passages -> how many of its sources say it."""
    by_word: dict[str, set] = defaultdict(set)
    for i in np.asarray(central).tolist():
        for word in words_of[i]:
            by_word[word].add(groups[i])
    return {w: len(g) for w, g in by_word.items()}


def _head(key: str) -> str:
    """A noun phrase's head, without a tagger: its last word before a preposition or conjunction
    ("buses" in "buses to the business park", "appointments" in "flexible appointments")."""
    words = key.split()
    inside = next((k for k, w in enumerate(words) if k and w in _NP_INSIDE), len(words))
    return words[inside - 1]


def _covers(key: str, shared_of: Mapping[str, float]) -> float:
    """How widely the theme says a candidate's best-shared word (`_shared_words`): "buses to the
    business park" carries "bus", which most of a transport theme's sources say; "warehouse jobs"
    carries words two of them say."""
    return max((shared_of.get(w, 0.0) for w in key.split() if not _stop(w)), default=0.0)


def _content_words(text: str) -> frozenset[str]:
    """A passage's content words, each in its singular."""
    return frozenset(singular(w) for w in _WORD.findall(text.lower()) if not _stop(w))


def _shared_words(central: np.ndarray, words_of: Mapping[int, frozenset[str]], groups: np.ndarray,
                  corpus_share: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each content word of a theme's central passages -> how widely the theme uses it beyond how
    widely all themes do: the mean of the share of its sources and the share of its passages that say
    it (sources so that one long report cannot make its own words shared; passages so that a theme of
    two or three sources still tells a word most passages use from one they use once), less the share
    of all themes' central passages that say it (`corpus_share`), at least 0."""
    by_word: dict[str, set] = defaultdict(set)
    passages: dict[str, int] = Counter()
    sources = set()
    central = np.asarray(central).tolist()
    for i in central:
        sources.add(groups[i])
        for word in words_of[i]:
            by_word[word].add(groups[i])
            passages[word] += 1
    corpus_share = corpus_share or {}
    return {w: max(0.0, 0.5 * (len(g) / len(sources) + passages[w] / len(central)) - corpus_share.get(w, 0.0))
            for w, g in by_word.items()}


def _shared(key: str, shared_of: Mapping[str, float]) -> float:
    """How widely a theme's sources say a candidate's words (`_shared_words`): the mean of its
    content words' and its least shared word's. An instance one source names ("woman in hijab",
    "family member", "warehouse jobs") has a word few others use; the idea the theme's passages
    share has words most of them use."""
    shares = [shared_of.get(singular(w), 0.0) for w in key.split() if not _stop(w)]
    return 0.5 * (sum(shares) / len(shares) + min(shares)) if shares else 0.0


_CUT_SHORT = 2 / 3  # share of a candidate's passages that go on with one same word: it is half a name


def _cut_short(phrase: str, texts: Sequence[str], at: Sequence[int]) -> bool:
    """Whether a candidate stops one word short of a name: most of the passages saying it (two
    thirds) go on with the same content word ("bus route to the business" + "park", "Food and Drug"
    + "Administration"), or with "of" and a content word ("development and lack" + "of proper
    review": the trial of a second review; not "Higher Education Act" + "of 1965", "took good care"
    + "of me"). Candidates are at most six words, so the longer name may not be one."""
    pattern = re.compile(r"\b" + r"\W+".join(re.escape(w) for w in phrase.split()) + r"[ \t-]+(\w+)(?:\W+(\w+))?",
                         re.IGNORECASE)
    passages = sorted(set(at))

    def going_on(m: re.Match) -> str:
        word, after = m.group(1).lower(), (m.group(2) or "").lower()
        return f"of {after}" if word == "of" and after.isalpha() and not _stop(after) else word

    following = Counter(word for i in passages for word in {going_on(m) for m in pattern.finditer(texts[i])})
    of_content = sum(n for word, n in following.items() if word.startswith("of "))
    word, n = following.most_common(1)[0] if following else ("", 0)
    return (n >= _CUT_SHORT * len(passages) and not _stop(word)) or of_content >= _CUT_SHORT * len(passages)


def _stem(word: str) -> str:
    """A crude stem, the first five letters: "mentoring" carries "mentor" (label words and the theme's
    vocabulary are compared on it)."""
    return word[:5]


def _folded(weights: Mapping[str, float]) -> dict[str, float]:
    """Word weights on their stems, each stem at its best word's weight."""
    folded: dict[str, float] = {}
    for w, v in weights.items():
        folded[_stem(w)] = max(v, folded.get(_stem(w), 0.0))
    return folded


def _carries(key: str, weights: Mapping[str, float]) -> float:
    """How much of a theme's distinctive vocabulary a candidate carries: its best word's weight."""
    folded = _folded(weights)
    return max((folded.get(_stem(w), 0.0) for w in key.split() if not _stop(w)), default=0.0)


def _said_most(key: str, at: Sequence[int], texts: Sequence[str], surface: Mapping[str, Counter]) -> str:
    """The written form of a candidate that most of the theme's passages holding it use ("work
    coaches" in a theme where two sources say so, though "work coach" is commoner in the corpus)."""
    here = Counter(phrase for i in set(at) for phrase in candidate_phrases(texts[i]) if _key(phrase) == key)
    if not here:
        return _surface(key, surface)
    return min(here, key=lambda f: (-here[f], -surface[key][f], f))


def _surface(key: str, surface: Mapping[str, Counter]) -> str:
    """The written form of a candidate seen most often (ties: alphabetical)."""
    forms = surface[key]
    return min(forms, key=lambda f: (-forms[f], f))


def _shouted(text: str) -> bool:
    """A passage written in capitals ("TIME TO LEARN WAS TOO SHORT"): its capitals say nothing of a word."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters)


def _unshouted(written: str) -> str:
    """Lower-case a shouted phrase's words, but keep what looks like an acronym in any case: a short
    content word ("NHS", "GP") or one with a sign inside ("A&E")."""
    def word(w: str) -> str:
        bare = w.lower()
        if not w.isalpha() or (len(w) <= 3 and not _stop(bare)):
            return w
        return bare
    return " ".join(word(w) for w in written.split())


_ODD_CASE = re.compile(r"[a-z][A-Z]")


def odd_case(phrase: str) -> bool:
    """A capital after a small letter inside a word ("FrIendly", "AppoIntment tImes": one NHS trust's
    comments type every "i" so): a written form to pass over where a passage writes the phrase in
    ordinary case."""
    return _ODD_CASE.search(phrase) is not None


def _as_written(phrase: str, texts: Sequence[str], at: Sequence[int]) -> str:
    """The phrase with the capitals it has in the passages ("ESOL", "DWP"), first letter upper-case.
    A passage that is written in capitals is used only when no other says the phrase, and then its
    words are lower-cased (a label is not shouted: "TIME TO LEARN" is "Time to learn"); one that writes
    it in odd case (`odd_case`) only when no other passage writes it in ordinary case."""
    pattern = re.compile(r"\b" + r"\W+".join(re.escape(w) for w in phrase.split()) + r"\b", re.IGNORECASE)
    written, shouted, odd = phrase, False, False
    for i in at:
        found = pattern.search(texts[i])
        if found:
            # Only a shouted or odd-case first find looks further, for a passage in ordinary case: most never do.
            if not _shouted(texts[i]):
                if odd and odd_case(found.group(0)):
                    continue
                written, shouted = " ".join(found.group(0).split()), False
                odd = odd_case(written)
                if not odd:
                    break
                continue
            if not shouted and not odd:
                written, shouted = " ".join(found.group(0).split()), True
    if shouted:
        written = _unshouted(written)
    return written[:1].upper() + written[1:]
