"""Cue phrases in a passage: what `synth.categorise` counts as evidence for a category.

Phrases of the lexicon (`synth.cues`) are matched over lemmas with spaCy's `PhraseMatcher`, plus
position rules (an instruction or a request opening a sentence, a number). A negator shortly
before a cue in the same clause flips it ("did not help" counts for barrier), and an enabler word
shortly after a wish ("we need better …") counts for practice. Every match keeps its offsets into
the passage, so the analyst sees exactly which words decided.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from . import cues as lexicon

NEUTRAL = "neutral"  # lexicon phrases that only shield a negating word ("not only", "no doubt")
NIL_LEMMA = "nil answer"  # the lemma of the cue a nil answer ("Nothing, all good") gives (`_with_nil_answer`)
_NIL = re.compile(r"\W*(" + lexicon.NIL_ANSWER + ")", re.IGNORECASE)
_NIL_CONTRAST = re.compile(lexicon.NIL_CONTRAST, re.IGNORECASE)
_NO_THEN = re.compile(r"\W*((?:no|nope|nah)\b)(?=\W*\w)", re.IGNORECASE)  # a "No" with more after it
_WORD = re.compile(r"\w+(?:['’]\w+)?")


@dataclass(frozen=True)
class CueMatch:
    """One cue phrase found in a passage; offsets are into the passage text.

    When `negated`, the span starts at the negating word ("not help"), `category` is still the
    lexicon's category of the cue, and `counts_for` says where its weight went instead.
    """

    phrase: str
    category: str
    start_char: int
    end_char: int
    negated: bool
    lemma: str = ""
    weight: float = 1.0
    wished: bool = False  # an enabler word after "should", "need", "would like" …: the state wanted
    question: str = ""  # non-empty: found in the question this passage answers (offsets into it), not the passage
    conceded: bool = False  # before a contrast ("lovely, but …"): `weight` is already cut to lexicon.CONCEDED_FACTOR

    @property
    def counts_for(self) -> str | None:
        if self.wished:
            return "practice"
        if not self.negated:
            return self.category
        return {"enabler": "barrier", "barrier": "enabler", "context": "context"}.get(self.category)

    def to_dict(self) -> dict:
        """Everything a stored cue needs to give the same reasons when read back (see `from_dict`)."""
        return {"phrase": self.phrase, "category": self.category, "start_char": self.start_char,
                "end_char": self.end_char, "negated": self.negated, "lemma": self.lemma, "weight": self.weight,
                "wished": self.wished, **({"question": self.question} if self.question else {}),
                **({"conceded": True} if self.conceded else {})}

    @classmethod
    def from_dict(cls, d: Mapping) -> CueMatch:
        return cls(phrase=d["phrase"], category=d["category"], start_char=int(d["start_char"]),
                   end_char=int(d["end_char"]), negated=bool(d["negated"]), lemma=d.get("lemma", ""),
                   weight=float(d.get("weight", 1.0)), wished=bool(d.get("wished", False)),
                   question=str(d.get("question", "")), conceded=bool(d.get("conceded", False)))

    def describe(self) -> str:
        target = self.counts_for
        if self.lemma == NIL_LEMMA:
            return f'"{self.phrase}" (a nil answer: nothing to report → {target})'
        if self.question:
            return f'"{self.phrase}" in the question "{self.question}" ({target} prior)'
        if self.conceded:
            return f'"{self.phrase}" ({self.category}{"" if target == self.category else f" → {target}"}, conceded before a contrast: counts less)'
        if self.wished:
            return f'"{self.phrase}" ({self.category} word in a wish → practice)'
        if not self.negated:
            return f'"{self.phrase}" ({self.category})'
        if target is None:
            return f'"{self.phrase}" (negated {self.category}, ignored)'
        return f'"{self.phrase}" (negated {self.category} → {target})'



@dataclass(frozen=True)
class Lexicon:
    matcher: PhraseMatcher
    labels: Mapping[int, tuple[str, str, float]]  # match id -> (category, lexicon phrase, weight)


def pipeline():
    """The spaCy pipeline that lemmatises passages and patterns alike (loaded once, by synth.nlp)."""
    from .nlp import load_nlp

    return load_nlp()


@functools.cache
def _lexicon() -> Lexicon:
    nlp = pipeline()
    matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
    labels: dict[int, tuple[str, str, float]] = {}
    entries = [(cat, phrase, w) for cat, items in lexicon.CUES.items() for phrase, w in items]
    entries += [(NEUTRAL, phrase, 0.0) for phrase in lexicon.NEUTRAL_PHRASES]
    for category, phrase, weight in entries:
        key = f"{category}:{phrase}"
        # Patterns are lemmatised by the same pipeline as passages, so both sides agree on lemmas.
        pattern = nlp(phrase.lower())
        matcher.add(key, [pattern])
        labels[nlp.vocab.strings[key]] = (category, phrase, weight)
    return Lexicon(matcher, labels)


def parse(texts: Sequence[str]) -> list[Doc]:
    nlp = pipeline()
    # Lookup lemma tables are keyed by lower-case forms. Lower-casing character by character, and
    # leaving the few characters whose lower case is longer ("İ"), keeps every offset exact.
    folded = [t.lower() if len(t.lower()) == len(t) else "".join(ch if len(ch.lower()) > 1 else ch.lower() for ch in t)
              for t in texts]
    return list(nlp.pipe(folded, batch_size=256))


def _rule_spans(doc: Doc) -> list[tuple[Span, str, str, float]]:
    """Cues that depend on position: instructions and elliptical requests that open a sentence."""
    out = []
    for sent in doc.sents:
        words = [t for t in sent if t.is_alpha]
        if not words:
            continue
        first = words[0]
        low = first.lower_
        # "Offer evening sessions" is an instruction; "Use of interpreters was limited" is not.
        follows = words[1].lower_ if len(words) > 1 else ""
        if low in lexicon.IMPERATIVE_VERBS and len(words) > 1 and follows not in lexicon.NOT_AFTER_IMPERATIVE:
            out.append((doc[first.i:first.i + 1], "practice", f"{low} … (instruction)", 1.0))
        elif low in lexicon.REQUEST_OPENERS:
            out.append((doc[first.i:first.i + 1], "practice", f"{low} … (request)", 1.0))
        elif low in lexicon.PRACTICE_GERUNDS:
            out.append((doc[first.i:first.i + 1], "practice", f"{low} … (what was done)", 0.5))
    for token in doc:
        if token.like_num and any(ch.isdigit() for ch in token.text):
            out.append((doc[token.i:token.i + 1], "context", "a number", 0.5))
    return out


def match_cues(text: str, doc: Doc | None = None) -> tuple[CueMatch, ...]:
    """The cue phrases in `text`, with negation resolved, in text order."""
    if doc is None:
        doc = parse([text])[0]
    lex = _lexicon()
    found: list[tuple[Span, str, str, float]] = []
    for match_id, start, end in lex.matcher(doc):
        category, phrase, weight = lex.labels[match_id]
        found.append((doc[start:end], category, phrase, weight))
    rules = _rule_spans(doc)
    # Longest match wins ("lack of" over "lack", "work well" over "well"). On the same span a
    # request opener beats the lexicon ("Better pay" asks for something; "better" alone praises);
    # other rule cues lose ties.
    by_span = {}
    for item in [r for r in rules if r[2].endswith("(request)")] + found + rules:
        by_span.setdefault((item[0].start, item[0].end), item)
    kept_spans = {(s.start, s.end) for s in filter_spans([item[0] for item in by_span.values()])}
    kept = sorted((item for key, item in by_span.items() if key in kept_spans), key=lambda it: it[0].start)

    # A negating word inside a neutral phrase ("not only", "no doubt") negates nothing.
    in_neutral = {i for span, category, _, _ in kept if category == NEUTRAL for i in range(span.start, span.end)}
    negator_at = {t.i for t in doc if (t.lemma_.lower() in lexicon.NEGATORS or t.lower_ in lexicon.NEGATORS)
                  and t.i not in in_neutral}
    pure_negator = {item[0].start for item in kept if len(item[0]) == 1 and item[0].start in negator_at
                    and item[0][0].lower_ in lexicon.NEGATORS | {"n't"}}
    consumed: set[int] = set()
    resolved: list[tuple[Span, str, str, float, int | None]] = []
    for span, category, phrase, weight in kept:
        neg = None
        # Context is description either way; only evaluative and prescriptive cues can be negated.
        # A cue that is a negation itself ("can't", "could not fault") is not turned round again by
        # an earlier one: in "women who don't drive can't take those jobs" the first belongs to
        # another verb, and a real double negation is rare next to that reading.
        if category in ("barrier", "enabler", "practice") and span.start not in pure_negator \
                and not any(i in negator_at or span.doc[i].lower_ == "n't" for i in range(span.start, span.end)):
            neg = negator_before(doc, span, negator_at)
        if neg is not None:
            consumed.add(neg)
        resolved.append((span, category, phrase, weight, neg))

    wish_from = _wish_starts(doc)
    out = []
    for span, category, phrase, weight, neg in resolved:
        if category == NEUTRAL or (span.start in pure_negator and span.start in consumed):
            continue
        start_token = doc[neg] if neg is not None else span[0]
        start, end = start_token.idx, span.end_char
        wished = category == "enabler" and neg is None and _in_wish(doc, span, wish_from)
        out.append(CueMatch(phrase=text[start:end], category=category, start_char=start, end_char=end,
                            negated=neg is not None, lemma=phrase, weight=weight, wished=wished))
    return _with_nil_answer(text, _with_contrast(doc, tuple(out)))


def _with_contrast(doc: Doc, matches: tuple[CueMatch, ...]) -> tuple[CueMatch, ...]:
    """`matches` with the cues of the conceded part of a contrast weighed down (`synth.cues.CONTRAST_WORDS`):
    in "X was good but Y was not" the reply's side is in the clause after the contrast word (once per cue,
    however many contrasts concede it)."""
    if not matches or sum(1 for sent in doc.sents if any(t.is_alpha for t in sent)) > lexicon.CONTRAST_MAX_SENTENCES:
        return matches
    conceded = _conceded_ranges(doc)
    if not conceded:
        return matches
    return tuple(replace(m, weight=m.weight * lexicon.CONCEDED_FACTOR, conceded=True)
                 if m.category != "context" and any(a <= m.start_char and m.end_char <= b for a, b in conceded) else m
                 for m in matches)


def _conceded_ranges(doc: Doc) -> list[tuple[int, int]]:
    """Character ranges whose cues a contrast concedes, clause by clause: the sentence up to a contrast
    word inside it, the sentence before a "But" or "However" that opens one, and a sentence-opening
    concessive clause up to its comma. The rest of a long passage is not conceded: "… is weak, but …"
    in one sentence of an interview turn says nothing about its other sentences."""
    out = []
    previous = None
    for sent in doc.sents:
        words = [t for t in sent if t.is_alpha]
        if not words:
            continue
        if words[0].lower_ in lexicon.CONCESSIVE_OPENERS:
            comma = next((t for t in sent if t.i > words[0].i and t.text == ","), None)
            if comma is not None:
                out.append((words[0].idx, comma.idx))
        lowers = [t.lower_ for t in words]
        for k, token in enumerate(words):
            if token.lower_ not in lexicon.CONTRAST_WORDS or k == len(words) - 1:
                continue  # "Good though." closes the sentence: nothing follows to carry the side
            if token.lower_ == "but" and ((k and lowers[k - 1] in lexicon.NOT_CONTRAST_BEFORE)
                                          or lowers[k + 1] in lexicon.NOT_CONTRAST_AFTER
                                          or "only" in lowers[max(0, k - 6):k] and "not" in lowers[max(0, k - 7):k]):
                continue
            if k:
                out.append((sent.start_char, token.idx))
            elif token.lower_ in ("but", "however") and previous is not None:
                out.append((previous.start_char, previous.end_char))  # "… lovely. But the wait …"
        previous = sent
    return out


def _with_nil_answer(text: str, matches: tuple[CueMatch, ...]) -> tuple[CueMatch, ...]:
    """`matches` with a nil answer's cue in place of the cues inside it, when the passage is one.

    The cue is a negated barrier ("nothing to fault" counts for enabler); `categorise_passages` turns
    it to a negated enabler when the question asks what was good. A passage is a nil answer when it
    opens with a nil phrase (`synth.cues.NIL_ANSWER`, or a "No" followed by praise: "No, all good")
    that ends the text, a clause (punctuation) or is followed by a new clause (`_opens_new_clause`),
    and nothing after it turns to a complaint: no contrast word, no barrier or practice cue
    ("Nothing, but the wait was long" follows the wait)."""
    found = _NIL.match(text)
    bare_no = found is None
    if bare_no:
        found = _NO_THEN.match(text)
        if found is None:
            return matches
    start, end = found.span(1)
    rest = text[end:]
    if _NIL_CONTRAST.search(rest) or any(m.start_char >= end and m.counts_for in ("barrier", "practice")
                                         for m in matches):
        return matches
    # Praise after the reply: an enabler cue ending after the reply's first following word (the nil
    # word may have negated it: "Nothing staff are excellent" matched as a negated "excellent").
    words = list(_WORD.finditer(rest))
    first_end = end + words[0].end() if words else end
    praise = any(m.category == "enabler" and not m.wished and m.end_char > first_end for m in matches)
    if bare_no:
        # "No" alone answers a yes/no question: only a "No" that pauses and then praises is a nil answer.
        praised = any(m.category == "enabler" and not m.wished and m.end_char > end for m in matches)
        if not praised or not (rest[:1] in ",.!;:-" or words[0].group().lower() in lexicon.NO_FOLLOWERS):
            return matches
    elif not _opens_new_clause(rest, words, praise):
        return matches
    nil = CueMatch(phrase=text[start:end], category="barrier", start_char=start, end_char=end, negated=True,
                   lemma=NIL_LEMMA, weight=lexicon.NIL_WEIGHT)
    return (nil, *(m for m in matches if m.start_char >= end))


def _opens_new_clause(rest: str, words: list[re.Match], praise: bool) -> bool:
    """Whether what follows a nil phrase starts a new clause rather than continuing it: nothing, a
    pause (punctuation), a clause-opening word ("Nothing I was well looked after"), or, unless the
    next word continues "nothing" as its subject or object ("Nothing works", "Nothing on the ward"),
    praise ("Nothing great experience") or at most three words ("Nothing specific x")."""
    head = rest.lstrip()
    if not head or not head[0].isalnum() or not words:
        return True
    first = words[0].group().lower()
    if first in lexicon.NIL_FOLLOWERS:
        return True
    if first == "been" and praise:
        # A subjectless "(I've) been" and praise: "Nothing been happy with everything", the NHS replies'
        # commonest nil answer the rule missed (20 rows); "Nothing been done" stays a statement.
        return True
    if first in lexicon.NIL_STATEMENT_WORDS:
        return False
    return praise or len(words) <= 3


def _wish_starts(doc: Doc) -> list[int]:
    """The tokens where a wish or demand begins ("should", "need", "would like" …)."""
    out = []
    for token in doc:
        following = doc[token.i + 1].lower_ if token.i + 1 < len(doc) else ""
        if (token.lemma_.lower() in lexicon.WISH_TRIGGERS or token.lower_ in lexicon.WISH_TRIGGERS
                or (token.lower_, following) in lexicon.WISH_PHRASES):
            out.append(token.i)
    return out


def _in_wish(doc: Doc, span: Span, wish_starts: list[int]) -> bool:
    """Whether a wish opened shortly before `span`, in its clause."""
    for start in wish_starts:
        if start < span.start <= start + lexicon.WISH_WINDOW and doc[start].sent.start == span.sent.start \
                and not any(doc[i].lower_ in lexicon.SCOPE_BREAKS for i in range(start + 1, span.start)):
            return True
    return False


def negator_before(doc: Doc, span: Span, negator_at: set[int]) -> int | None:
    """The index of a negating token within the window before `span`, in the same clause."""
    sent_start = span.sent.start
    for i in range(span.start - 1, max(sent_start, span.start - lexicon.NEGATION_WINDOW) - 1, -1):
        token = doc[i]
        if token.lower_ in lexicon.SCOPE_BREAKS:
            return None
        if i in negator_at:
            return i
    return None
