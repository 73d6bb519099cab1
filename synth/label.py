"""Readable descriptions of discovered themes: label, draft definition, top terms, quotes.

Terms are lemmas and two-lemma phrases scored by a class-based TF-IDF over *passages* (a term
counts once per passage), so one long passage repeating a word cannot make it a theme's label.
A term also has to occur in at least two of the theme's sources when the theme has two, and terms
in most passages of most themes (the corpus's boilerplate: "act", "amend", "report") are dropped.
Quotes are the passages closest to the theme's centroid, taken one source at a time so the
evidence shows the idea recurring across sources, and skipping near-duplicates.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from spacy.lang.en.lex_attrs import like_num
from spacy.lang.en.stop_words import STOP_WORDS

from .cluster import Clustering
from .label_definition import quoted_definition
from .label_phrases import Encode, PhraseLabel, contradicts, is_stop, odd_case, phrase_labels, theme_stance
from .label_spans import WORD
from .vectors import UnitRows, unit_rows

_ROMAN = re.compile(r"^[ivx]+$")  # "title ii", "part iv": numbers too, but spaCy's like_num misses them
_BOILERPLATE_SHARE = 0.5
_NEAR_DUPLICATE = 0.95  # cosine above which two quotes say the same thing
_LABEL_TERMS = 3
NIL_THEME_SHARE = 0.5  # a theme at least this much nil answers is labelled by its commonest nil phrase
_BARE_NO = frozenset({"no", "nope", "nah"})  # a nil answer's phrase that is no label (`_nil_label`)
_QUOTE_LABEL_WORDS = 6  # the longest key phrase a theme's central quote gives as its label (`_quote_label`)
# Words that qualify the content word after them and stay with it ("very good", not "good").
_INTENSIFIERS = frozenset("very really so too quite most more less extremely".split())
# A clause, for a quote's key phrase: apostrophes do not end one ("don’t"), unlike label_spans.CLAUSE.
_QUOTE_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"“”…\n\t–—/|]+|\s-\s")


@dataclass(frozen=True)
class ThemeDescription:
    label: str
    definition: str
    top_terms: tuple[str, ...]
    quote_indices: tuple[int, ...]  # passage indices, most central first, at most 5
    label_passages: tuple[int, ...] = ()  # passage indices the label phrase occurs in (empty: keyword label)


def describe_themes(
    texts: Sequence[str],
    clustering: Clustering,
    embeddings: np.ndarray | UnitRows,
    group_ids: np.ndarray,
    lemmas: Sequence[Sequence[str]],
    *,
    n_terms: int = 10,
    n_quotes: int = 5,
    forms: Mapping[str, str] | None = None,
    encode: Encode | None = None,
    source_names: Sequence[str] | None = None,
    categories: Sequence[str | None] | None = None,
    written: Sequence[Sequence[str]] | None = None,
    nil_answers: Sequence[str | None] | None = None,
) -> list[ThemeDescription]:
    """One description per theme of `clustering`, in theme order.

    Terms are scored as lemmas; `forms` (lemma -> written form, see `synth.nlp.display_forms_of`)
    turns them back into words a reader recognises for the label, definition and top terms.

    A theme is described by its placed passages, or by the passages nearest to it when none is placed.

    With `encode` (the passages' embedding model, phrases -> vectors) the label is a verbatim phrase
    chosen by `synth.label_phrases`; with `source_names` (one per passage) the definition is quoted
    from the central quotes with their sources. Without them: keyword labels and draft definitions.

    With `categories` (each passage's category) a theme whose passages mostly take one stance is not
    labelled or headlined by a passage of the opposite stance (a bus-fare barrier in a shuttle-bus theme).
    With `written` (each passage's written forms, aligned with `lemmas`) a two-lemma term is kept only
    where its words stand side by side in the text ("bus fare"), not across dropped stop words
    ("Transport's a big one" gave "transport big").
    With `nil_answers` (each passage's nil-answer phrase or None, `PassageCategory.nil_answer`) a theme
    most of whose passages are nil answers is labelled by the one most of them give (`_nil_label`).
    """
    n = len(clustering.nearest)
    if not (len(texts) == len(lemmas) == len(group_ids) == len(embeddings) == n):
        raise ValueError(
            f"describe_themes: {len(texts)} texts, {len(lemmas)} lemma lists, {len(group_ids)} group ids "
            f"and {len(embeddings)} embeddings for {n} clustered passages; all must match"
        )
    groups = np.asarray(group_ids)
    if written is not None and len(written) != n:
        raise ValueError(f"describe_themes: {len(written)} written-form lists for {n} clustered passages")
    terms = [_passage_terms(passage, written[i] if written is not None else None, texts[i])
             for i, passage in enumerate(lemmas)]
    members = [_members(clustering, j) for j in range(clustering.n_themes)]
    scored = _score_terms(terms, members, groups)
    vectors = unit_rows(embeddings)
    # Each theme's distinctive words (c-TF-IDF, best = 1) in written form: a label should carry them.
    weights = [_word_weights(scored[j], forms) for j in range(len(members))]
    phrases_of = (phrase_labels(texts, members, clustering.centroids, vectors, groups, encode, categories, weights)
                  if encode is not None and members else [None] * len(members))
    quotes_of = [_quotes(idx, vectors, clustering.centroids[j], groups, n_quotes, _against(idx, categories))
                 for j, idx in enumerate(members)]
    taken = {p.phrase.lower() for p in phrases_of if p is not None}
    nil_of = [_nil_label(idx, nil_answers, groups, taken) if nil_answers is not None else None for idx in members]
    out = []
    for j, idx in enumerate(members):
        if nil_of[j] is not None:
            phrases_of[j] = nil_of[j]
        ranked = [term for term, _ in scored[j]]
        phrases = [_written(p, forms) for p in _label_phrases(ranked, scored[j])]
        shown = (_written(t, forms) for t in ranked)  # lazily: a theme ranks thousands of terms
        top_terms = tuple(itertools.islice(shown, n_terms))
        quotes = quotes_of[j]
        n_sources = len(np.unique(groups[idx]))
        label = ", ".join(phrases) if phrases else "unlabelled theme"
        definition = _definition(phrases, itertools.chain(top_terms, shown), len(idx), n_sources)
        if phrases_of[j] is None and encode is not None:
            # No phrase: the central quote's key phrase, not a keyword list ("thank, dr, excellent care"),
            # "unlabelled theme" or one bare word ("happy"); the keywords stay the theme's top terms.
            phrases_of[j] = _quote_label(quotes or tuple(idx.tolist()), texts, idx, groups, taken)
        if phrases_of[j] is not None:
            label = phrases_of[j].phrase
        if source_names is not None and quotes:
            definition = quoted_definition(texts, quotes, source_names, label, weights=weights[j],
                                            stance=theme_stance([categories[i] for i in idx.tolist()])
                                            if categories is not None else None) or definition
        out.append(
            ThemeDescription(
                label=label,
                definition=definition,
                top_terms=top_terms,
                quote_indices=quotes,
                label_passages=phrases_of[j].passages if phrases_of[j] is not None else (),
            )
        )
    return out


def _nil_label(idx: np.ndarray, nil_answers: Sequence[str | None], groups: np.ndarray,
               taken: set[str]) -> PhraseLabel | None:
    """A label for a theme of nil answers ("Nothing.", "Cannot think of anything"): the nil phrase most
    of its nil answers give, as they write it, when nil answers are at least NIL_THEME_SHARE of the
    theme; None otherwise, or when every such phrase already labels another theme (`taken`, lower case:
    added to). Their own words left no name: the trial of a second review labelled two such themes
    "Comes mind" ("Nothing comes mind") and "Good thank" (docs/benchmarks.md, "A second review read as
    a user")."""
    said = [(i, " ".join(nil_answers[i].split())) for i in idx.tolist() if nil_answers[i]]
    if not said or len(said) < NIL_THEME_SHARE * len(idx):
        return None
    by_key: dict[str, list[tuple[int, str]]] = {}
    for i, phrase in said:
        by_key.setdefault(phrase.lower().replace("’", "'"), []).append((i, phrase))
    def written(uses: list[tuple[int, str]]) -> str:  # the form most of them write, ordinary case first
        forms = Counter(phrase for _, phrase in uses)
        return min(forms, key=lambda f: (-forms[f], odd_case(f), f))

    for rank, (key, uses) in enumerate(sorted(by_key.items(),
                                              key=lambda kv: (-len(kv[1]), odd_case(written(kv[1])), kv[0]))):
        if key.strip(" ,.!") in _BARE_NO:
            continue  # "No, been happy with everything": the "No" alone names nothing
        if rank and len(uses) < 2:
            # The commonest phrase labels another theme: a runner-up one reply gives ("Nothing for me", in
            # a theme of 23 "happy" replies) is no better than the theme's own phrase label.
            continue
        phrase = written(uses)
        label = phrase[:1].upper() + phrase[1:]
        if label.lower() not in taken:
            taken.add(label.lower())
            return PhraseLabel(label, tuple(i for i, _ in uses), len({groups[i] for i, _ in uses}))
    return None


def _quote_label(quotes: Sequence[int], texts: Sequence[str], idx: np.ndarray, groups: np.ndarray,
                 taken: set[str]) -> PhraseLabel | None:
    """The key phrase of the theme's most central quote that gives one, as its label: a theme whose words
    all fell to the stop words ("Because it was very good", "Because they were brilliant") still gets a
    readable label ("Very good") instead of "unlabelled theme". The phrase is the first clause's run from
    its first content word (with an intensifier just before it) to its last, at most _QUOTE_LABEL_WORDS
    words; a lone word takes the rest of its clause when that is at most two words ("Happy with
    everything"). Verbatim; unique across themes (`taken`, lower case: added to)."""
    for i in quotes:
        for clause in _QUOTE_CLAUSE.split(texts[i]):
            words = list(WORD.finditer(clause))
            content = [k for k, w in enumerate(words) if not is_stop(w.group().lower()) and w.group().isalpha()]
            if not content:
                continue
            first, last = content[0], content[-1]
            if first and words[first - 1].group().lower() in _INTENSIFIERS:
                first -= 1
            if first == last and len(words) - last <= 3:
                last = len(words) - 1
            if last - first + 1 > _QUOTE_LABEL_WORDS:
                break  # a long clause names no key phrase: the next quote
            phrase = " ".join(clause[words[first].start():words[last].end()].split())
            label = phrase[:1].upper() + phrase[1:]
            if label.lower() in taken:
                break
            taken.add(label.lower())
            key = phrase.lower()
            said = tuple(k for k in idx.tolist() if key in " ".join(texts[k].lower().split())) or (int(i),)
            return PhraseLabel(label, said, len({groups[k] for k in said}))
    return None


def _word_weights(scored: list[tuple[str, float]], forms: Mapping[str, str] | None,
                  top: int = 30) -> dict[str, float]:
    """A theme's best single-word terms, written form -> score relative to the best one."""
    words = [(t, s) for t, s in scored if " " not in t][:top]
    if not words or words[0][1] <= 0:
        return {}
    best = words[0][1]
    return {_written(t, forms).lower(): s / best for t, s in words}


def _written(phrase: str, forms: Mapping[str, str] | None) -> str:
    if not forms:
        return phrase
    return " ".join(forms.get(word, word) for word in phrase.split(" "))


@functools.lru_cache(maxsize=1 << 16)  # asked once per token; a corpus has far fewer distinct words
def is_label_word(word: str) -> bool:
    """A lemma that may appear in a label: alphabetic, not a stop word, not a number or numeral."""
    return (
        len(word) >= 2
        and word.isalpha()
        and word not in STOP_WORDS
        and not like_num(word)
        and not _ROMAN.match(word)
    )


_TOKEN = re.compile(r"[^\W\d_]+")


def _passage_terms(lemmas: Sequence[str], forms: Sequence[str] | None = None, text: str = "") -> set[str]:
    """The passage's clean lemmas and its two-lemma phrases: lemmas adjacent after stop-word removal
    and, when the written `forms` are given, whose words also stand side by side in `text`."""
    words = [w.lower() for w in lemmas]
    words = [w if is_label_word(w) else "" for w in words]
    out = {w for w in words if w}
    pairs = list(zip(words, words[1:], range(len(words))))
    if forms is not None and len(forms) == len(words):
        tokens = _TOKEN.findall(text.lower())
        beside = set(zip(tokens, tokens[1:]))
        pairs = [(a, b, k) for a, b, k in pairs if (forms[k].lower(), forms[k + 1].lower()) in beside]
    out.update(f"{a} {b}" for a, b, _ in pairs if a and b and a != b)
    return out


def _members(clustering: Clustering, theme: int) -> np.ndarray:
    placed = np.flatnonzero(clustering.labels == theme)
    return placed if len(placed) else np.flatnonzero(clustering.nearest == theme)


def _score_terms(
    terms: list[set[str]], members: list[np.ndarray], groups: np.ndarray
) -> list[list[tuple[str, float]]]:
    """Per theme, (term, score) best first: share of the theme's passages x log(1 + A / df).

    Counted with sparse matrices (passages x terms, themes x passages): at 100,000 passages a
    counter per theme in Python took most of the labelling time.
    """
    vocabulary: dict[str, int] = {}
    indices: list[int] = []
    indptr = [0]
    for passage in terms:
        indices.extend(vocabulary.setdefault(term, len(vocabulary)) for term in passage)
        indptr.append(len(indices))
    names = list(vocabulary)
    n, n_terms = len(terms), len(names)
    incidence = csr_matrix((np.ones(len(indices), np.int64), indices, indptr), shape=(n, n_terms))
    df = np.asarray(incidence.sum(axis=0)).ravel()
    k = max(len(members), 1)
    average = n / k

    sizes = np.array([len(idx) for idx in members], np.int64)
    member_rows = np.concatenate(members).astype(np.int64) if members else np.zeros(0, np.int64)
    theme_of_row = np.repeat(np.arange(len(members)), sizes)
    # Passages per theme with the term; and distinct sources per theme with the term, through one
    # row per (theme, source) pair.
    theme_df = _rows_sorted(_indicator(theme_of_row, member_rows, (len(members), n)) @ incidence)
    pairs, pair_of_row = np.unique(np.stack([theme_of_row, groups[member_rows]]), axis=1, return_inverse=True)
    pair_df = _indicator(pair_of_row.ravel(), member_rows, (pairs.shape[1], n)) @ incidence
    pair_df.data[:] = 1
    theme_sources = _rows_sorted(_indicator(pairs[0], np.arange(pairs.shape[1]), (len(members), pairs.shape[1])) @ pair_df)
    if not (np.array_equal(theme_df.indptr, theme_sources.indptr) and np.array_equal(theme_df.indices, theme_sources.indices)):
        raise AssertionError("theme term counts and source counts disagree on which terms each theme has")

    # Boilerplate: in most passages of most themes ("act", "amend" in bills), and phrases built on it.
    common = np.zeros(n_terms, np.int64)
    for j in range(len(members)):
        row = slice(theme_df.indptr[j], theme_df.indptr[j + 1])
        common[theme_df.indices[row][theme_df.data[row] > _BOILERPLATE_SHARE * sizes[j]]] += 1
    boilerplate = common > k / 2 if k > 1 else np.zeros(n_terms, bool)
    if boilerplate.any():
        words = {names[i] for i in np.flatnonzero(boilerplate)}
        for i, term in enumerate(names):
            if " " in term and any(w in words for w in term.split()):
                boilerplate[i] = True

    out = []
    df_list = df.tolist()
    for j, idx in enumerate(members):
        row = slice(theme_df.indptr[j], theme_df.indptr[j + 1])
        ids, counts, sources = theme_df.indices[row], theme_df.data[row], theme_sources.data[row]
        need_sources = min(2, len(np.unique(groups[idx])) if len(idx) else 0)
        need_passages = min(2, len(idx))
        keep = (counts >= need_passages) & (sources >= need_sources) & ~boilerplate[ids]
        scores = [
            (names[t], (c / len(idx)) * math.log(1 + average / df_list[t]))
            for t, c in zip(ids[keep].tolist(), counts[keep].tolist())
        ]
        scores.sort(key=lambda ts: (-ts[1], ts[0]))
        out.append(scores)
    return out


def _indicator(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> csr_matrix:
    return csr_matrix((np.ones(len(rows), np.int64), (rows, cols)), shape=shape)


def _rows_sorted(matrix) -> csr_matrix:
    matrix = csr_matrix(matrix)
    matrix.sum_duplicates()  # also sorts each row's column indices
    matrix.eliminate_zeros()
    return matrix


def _label_phrases(ranked: list[str], scored: list[tuple[str, float]], size: int = _LABEL_TERMS) -> list[str]:
    """Up to `size` key phrases, best first.

    A top word is replaced by the best two-word phrase that carries it when that phrase scores at
    least half as well ("revenue" -> "internal revenue"); words of a chosen phrase are not repeated.
    """
    score = dict(scored)
    phrases: list[str] = []
    used: set[str] = set()
    for term in ranked[: 4 * size]:
        if len(phrases) == size:
            break
        words = term.split()
        if any(w in used for w in words):
            continue
        if len(words) == 1:
            better = next(
                (p for p in ranked[: 4 * size]
                 if len(p.split()) == 2 and term in p.split() and score[p] >= 0.5 * score[term]),
                None,
            )
            if better and any(w in used for w in better.split()):
                continue  # the word belongs to a phrase whose other half is already in the label
            term = better or term
        phrases.append(term)
        used.update(term.split())
    return phrases


def _definition(phrases: list[str], ranked: Iterable[str], size: int, n_sources: int) -> str:
    where = "from a single source" if n_sources == 1 else f"from {n_sources} sources"
    count = f"{size} passage{'s' if size != 1 else ''} {where}"
    if not phrases:
        return f"Draft: passages with no distinctive shared vocabulary ({count})."
    used = {w for p in phrases for w in p.split()}
    also = list(itertools.islice((t for t in ranked if " " not in t and t not in used), 3))
    sentence = f"Draft: passages that discuss {_join(phrases)}"
    if also:
        sentence += f", often together with {_join(also)}"
    return f"{sentence} ({count})."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _against(idx: np.ndarray, categories: Sequence[str | None] | None) -> set[int]:
    """The theme's passages whose own category contradicts the stance most of them take."""
    if categories is None or not len(idx):
        return set()
    stance = theme_stance([categories[i] for i in idx.tolist()])
    return {i for i in idx.tolist() if contradicts(categories[i], stance)}


def _quotes(
    idx: np.ndarray, vectors: np.ndarray, centroid: np.ndarray, groups: np.ndarray, n_quotes: int,
    against: set[int] = frozenset(),
) -> tuple[int, ...]:
    """Most central members, one per source first; then the next most central; no near-duplicates.
    Passages `against` the theme's stance come after all others (still evidence, never the headline)."""
    if len(idx) == 0 or n_quotes <= 0:
        return ()
    centrality = vectors[idx] @ centroid.astype(np.float32)
    contrary = np.array([i in against for i in idx.tolist()])
    order = idx[np.lexsort((idx, -centrality, contrary))]
    chosen: list[int] = []
    seen_groups: set = set()
    for one_per_source, with_contrary in ((True, False), (False, False), (False, True)):
        for i in order:
            if len(chosen) == n_quotes:
                break
            if i in chosen or (one_per_source and groups[i] in seen_groups) or (i in against and not with_contrary):
                continue
            if chosen and float(np.max(vectors[chosen] @ vectors[i])) >= _NEAR_DUPLICATE:
                continue
            chosen.append(int(i))
            seen_groups.add(groups[i])
    return tuple(chosen)


