"""Where a theme's label occurs in passages: the label is a verbatim phrase, so a reader can trace it.

Kept apart from `synth.label_phrases` (spaCy, the model) so that the commands and pages that only
show themes can find label locations without loading either.

"Verbatim" allows a plural ending on any word: the label "Guaranteed interviews" is found where
a passage says "a guaranteed interview", so a phrase two sources say, one in the singular and one
in the plural, counts as said in both (`singular` is the one rule both label choice and location use).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

# A word: letters (any script's, so "crèche" and "naïve" stay whole), with apostrophes and hyphens inside.
# Label candidates, label locations and stance topics all read words with this one pattern.
LETTER = r"[^\W\d_]"
WORD = re.compile(rf"{LETTER}(?:{LETTER}|['’-])*{LETTER}|{LETTER}")
# What ends a clause for a label: a label phrase never runs across these (synth.label_phrases cuts
# its candidates here), so neither does a place where the label is said to occur.
CLAUSE_BREAKS = r".,;:!?()\[\]{}\"“”‘’…/|\n\t–—"
CLAUSE = re.compile(rf"[{CLAUSE_BREAKS}]+|\s-\s")
_BETWEEN_WORDS = rf"[^\w{CLAUSE_BREAKS}]+"
# Words ending in "s" that are no plural ("plus" in "Jobcentre Plus", "news", "always").
_NOT_PLURAL = frozenset("""
    news series species means always perhaps whereas towards afterwards besides sometimes
    lens gas yes this thus has was does is his hers its ours yours theirs whereabouts
""".split())
_SIBILANT_ES = ("sses", "xes", "ches", "shes", "zzes")
# Nouns in "-us" whose plural is "-uses" ("bus", "buses"): without them "buses" became "buse" and a
# theme's "bus" and "buses" counted as two words. Listed, as "-uses" is also "excuse" + s.
_US_NOUNS = frozenset("bus bonus campus census virus status focus syllabus surplus prospectus consensus".split())


@functools.lru_cache(maxsize=1 << 16)
def singular(word: str) -> str:
    """A lower-case word with a regular plural ending taken off ("interviews" -> "interview",
    "communities" -> "community", "coaches" -> "coach"); other words as they are ("plus", "business").
    A spelling rule, no dictionary: it only has to map a word's singular and plural to one key."""
    w = word.lower()
    if len(w) < 4 or w in _NOT_PLURAL or not w.endswith("s") or w.endswith(("ss", "us", "is", "'s", "’s")):
        return w
    if w.endswith("uses") and w[:-2] in _US_NOUNS:
        return w[:-2]
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(_SIBILANT_ES):
        return w[:-2]
    return w[:-1]


def _forms(word: str) -> str:
    """A regex for a word in its singular or plural ("interview" matches "interviews" too)."""
    base = singular(word)
    forms = {word.lower(), base, base + "s", base + "es"}
    if base.endswith("y") and len(base) > 2:
        forms.add(base[:-1] + "ies")
    return "(?:" + "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))) + ")"


def label_locations(label: str, texts: Sequence[str]) -> list[tuple[int, int, int]]:
    """Where `label` occurs in each text, case-insensitive, any word in its singular or plural, its
    words separated by spaces or symbols but not by a clause break ("Work Programme, providers" is
    not "Work Programme providers"): (text index, start, end), offsets into that text."""
    words = WORD.findall(label.lower())
    if not words:
        return []
    pattern = re.compile(r"(?<![\w'’])" + _BETWEEN_WORDS.join(_forms(w) for w in words) + r"(?![\w'’])",
                         re.IGNORECASE)
    return [(i, m.start(), m.end()) for i, text in enumerate(texts) for m in pattern.finditer(text)]
