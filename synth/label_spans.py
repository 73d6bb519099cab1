"""Where a theme's label occurs in passages: the label is a verbatim phrase, so a reader can trace it.

Kept apart from `synth.label_phrases` (spaCy, the model) so that the commands and pages that only
show themes can find label locations without loading either.
"""

from __future__ import annotations

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


def label_locations(label: str, texts: Sequence[str]) -> list[tuple[int, int, int]]:
    """Where `label` occurs in each text, case-insensitive, its words separated by spaces or
    symbols but not by a clause break ("Work Programme, providers" is not "Work Programme
    providers"): (text index, start, end), offsets into that text."""
    words = WORD.findall(label.lower())
    if not words:
        return []
    pattern = re.compile(r"(?<![\w'’])" + _BETWEEN_WORDS.join(re.escape(w) for w in words) + r"(?![\w'’])",
                         re.IGNORECASE)
    return [(i, m.start(), m.end()) for i, text in enumerate(texts) for m in pattern.finditer(text)]


