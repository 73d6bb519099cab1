"""A theme's definition: one or two sentences quoted from its most central passages, each followed by
its source in brackets; not a template. Each is the sentence of its passage that carries most of the
theme's distinctive words (and the label's), never one whose cue words say the opposite of the theme's
stance. It reads words with the label's rules (`synth.label_phrases`: stop words and crude stems), so
that the sentence quoted and the label chosen agree on what the theme's words are."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .label_phrases import _AGAINST, _WORD, _folded, _stem, _stop  # one set of word rules for label and definition

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")
_LABEL_WORD = 0.15     # a definition sentence's credit per label word it carries (the label is the theme's own phrase)


def quoted_definition(texts: Sequence[str], quotes: Sequence[int], names: Sequence[str], label: str,
                      max_sentences: int = 2, *, weights: Mapping[str, float] | None = None,
                      stance: str | None = None) -> str:
    """One or two sentences from the theme's most central quotes (two sources when it has them),
    each followed by its source in brackets. With the theme's distinctive words (`weights`, as for
    `phrase_labels`), each quote gives its sentence that carries most of them (what the theme is
    about, not a passage's aside; lexical, so no sentence has to be embedded). With the theme's `stance` (see `theme_stance`), a sentence whose own cue words say the
    opposite is passed over where another qualifies ("the buses don't go where the jobs are" is no sentence to define a shuttle-bus enabler)."""
    chosen: list[str] = []
    seen_sources: set[str] = set()
    for i in quotes:
        if len(chosen) == max_sentences:
            break
        if names[i] in seen_sources:
            continue
        sentence = _sentence_with(texts[i], label, weights=weights, stance=stance)
        if not sentence:
            continue
        chosen.append(f"“{sentence}” ({names[i]})")
        seen_sources.add(names[i])
    return " ".join(chosen)


def _carried(sentence: str, weights: Mapping[str, float]) -> float:
    """The theme's distinctive vocabulary in a sentence: the weights of its distinct words (on the
    same crude stem as `_carries`), over the square root of its length so long sentences don't win."""
    folded = _folded(weights)
    words = _WORD.findall(sentence.lower())
    stems = {_stem(w) for w in words if not _stop(w)}
    return sum(folded.get(stem, 0.0) for stem in stems) / max(len(words), 1) ** 0.5


def _leaning(sentence: str, stance: str) -> int:
    """+1 when a sentence's cue words say `stance` (more than its opposite), -1 when they say the
    opposite, 0 when they say neither (synth.categorise's cue lexicon; read at sentence level)."""
    from .categorise import cue_totals, match_cues  # spaCy's pipeline: only where definitions are quoted

    totals = cue_totals(match_cues(sentence))
    agree = totals.get(stance, 0.0) + (totals.get("practice", 0.0) if stance == "enabler" else 0.0)
    oppose = max((totals.get(c, 0.0) for c in _AGAINST.get(stance, ())), default=0.0)
    return 1 if agree > oppose else -1 if oppose > agree else 0


def sentences_of(text: str) -> list[str]:
    """A passage's sentences, white space collapsed (what a definition may quote)."""
    return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]


_STANCE_SENTENCE_SHARE = 0.5  # of the best sentence's theme words, for a sentence of the theme's stance


def _sentence_with(text: str, label: str, max_words: int = 40, *, weights: Mapping[str, float] | None = None,
                   stance: str | None = None) -> str:
    """The passage's sentence that says most of the theme: one of 6+ words, not of the opposite
    stance, carrying most of the theme's distinctive words and the label's, else the earliest; trimmed."""
    sentences = sentences_of(text)
    if not sentences:
        return ""
    words = set(label.lower().split())
    closeness = [_carried(s, weights) for s in sentences] if weights else [0.0] * len(sentences)
    leaning = [_leaning(s, stance) for s in sentences] if stance and len(sentences) > 1 else [0] * len(sentences)

    on_topic = [closeness[k] + _LABEL_WORD * len(words & set(_WORD.findall(s.lower()))) for k, s in enumerate(sentences)]
    # A sentence that says the theme's stance wins over a neutral one when it is about the theme too
    # (at least half as much of its words as the best sentence): in an enabler theme, "we pay the fare
    # for the first month, and that made the difference" over "the bus fare eats up a first wage".
    # Measured on the theme's words alone, not the label's: a label that one neutral sentence repeats
    # ("bus fare" in "the bus fare eats up a first wage") must not raise the bar for what helped.
    about = closeness if weights else on_topic
    best = max((about[k] for k, s in enumerate(sentences) if len(s.split()) >= 6 and leaning[k] >= 0), default=0.0)

    def worth(k: int) -> tuple:
        s = sentences[k]
        says_it = leaning[k] > 0 and best > 0 and about[k] >= _STANCE_SENTENCE_SHARE * best
        return (len(s.split()) >= 6, leaning[k] >= 0, says_it, on_topic[k], -k)

    pick = sentences[max(range(len(sentences)), key=worth)].lstrip("-–•* ")  # a list item's bullet is no part of the quote
    tokens = pick.split()
    return pick if len(tokens) <= max_words else " ".join(tokens[:max_words]) + " …"
