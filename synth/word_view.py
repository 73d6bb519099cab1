"""The words of a passage as a second view for the learned category model (synth/learn.py).

The bundled sentence model reads "the staff were not helpful" close to "the staff were helpful": it is
weak on negation, and that is much of what the learned category model still got wrong after 40
decisions (docs/benchmarks.md, "Category learning: lexical view and mixed comments"). A bag of words
with negation marked (every word after "not", "never", "no", a "n't" word, up to the next punctuation
mark or contrast word, is read as "not_<word>": Das & Chen 2001; Pang, Lee & Vaithyanathan 2002)
keeps "not_helpful" apart from "helpful", and a regression on it errs on other passages than one on
the embedding does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

NEGATORS = frozenset({"not", "no", "never", "nothing", "nobody", "none", "nor", "cannot", "without"})
APOSTROPHE_DROPPED = frozenset({"dont", "cant", "couldnt", "wont", "didnt", "wasnt", "isnt", "wouldnt", "shouldnt",
                                "doesnt", "havent", "hasnt", "werent", "arent"})  # "n't" typed without its apostrophe
NEGATION_ENDS = frozenset({"but", "however", "although", "though"})  # besides punctuation
PUNCTUATION = frozenset(".,;:!?")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.,;:!?]")
MIN_DOCUMENTS = 2  # a word or pair in fewer passages teaches nothing beyond the passage itself


def negation_marked(text: str) -> list[str]:
    """Lower-cased word tokens, each word in a negation's scope prefixed "not_" (see the module docstring)."""
    out, negated = [], False
    for token in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        if token in PUNCTUATION:
            negated = False
            continue
        if token in NEGATION_ENDS:
            negated = False
        if token in NEGATORS or token.endswith("n't") or token in APOSTROPHE_DROPPED:
            out.append(token)
            negated = True
            continue
        out.append("not_" + token if negated else token)
    return out


def words_and_pairs(text: str) -> list[str]:
    """The negation-marked words of `text` and each pair of neighbours ("not_very helpful" stays one feature)."""
    words = negation_marked(text)
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def word_matrix(texts: Sequence[str]):
    """(n, vocabulary) sparse TF-IDF rows (unit length, sublinear counts) of `words_and_pairs`, the
    vocabulary being every word or pair in at least MIN_DOCUMENTS of `texts` (the whole project: no
    labels are read, so fitting it on every passage is fair); None when no word is in that many."""
    from sklearn.feature_extraction.text import (
        TfidfVectorizer,  # imported here: only a taught project needs it
    )

    vectorizer = TfidfVectorizer(analyzer=words_and_pairs, min_df=MIN_DOCUMENTS, sublinear_tf=True)
    try:
        return vectorizer.fit_transform(list(texts)).tocsr()
    except ValueError:  # scikit-learn's "After pruning, no terms remain" / "empty vocabulary": a tiny project
        return None
