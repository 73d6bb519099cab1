"""The spaCy pipelines synth uses, loaded once per process.

Two pipelines, on purpose:

- `load_nlp()` lemmatises (for theme labels). It is `en_core_web_sm` when that package is
  installed, else a blank English pipeline with spaCy's lookup lemmatizer (tables from
  `spacy-lookups-data`). `nlp_name()` says which one ran, so a project can record it.
- `sentence_pipeline()` finds sentence boundaries for `segment`. It is always the rule-based
  sentencizer on a blank English tokenizer, whatever is installed: passages are stored with
  character offsets, so the same text must cut into the same passages on every machine, and the
  rule-based sentencizer is also ~50x faster than a statistical one.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable

import spacy
from spacy.language import Language

from synth.errors import ModelError

# Texts beyond spaCy's default 1,000,000-character guard are safe here: neither pipeline has a
# parser or NER, the components that need the memory the guard protects.
_MAX_LENGTH = 100_000_000
_BATCH_SIZE = 256


@functools.cache
def load_nlp() -> Language:
    """The lemmatising pipeline: `en_core_web_sm` if importable, else blank English + lookups."""
    if importlib.util.find_spec("en_core_web_sm") is not None:
        # Lemmas need the tagger (the rule lemmatizer reads POS); parser and NER are slow and
        # unused. senter replaces the parser for sentence boundaries.
        nlp = spacy.load("en_core_web_sm", exclude=["parser", "ner"])
        if "senter" in nlp.disabled:
            nlp.enable_pipe("senter")
        name = f"en_core_web_sm-{nlp.meta.get('version', 'unknown')}"
    else:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        try:
            nlp.initialize()
        except (ValueError, OSError) as e:  # spaCy raises ValueError [E955] when tables are missing
            raise ModelError(
                f"spaCy lookup lemmatizer: cannot load its tables ({e}); "
                "install spacy-lookups-data (pip install spacy-lookups-data) or en_core_web_sm"
            ) from e
        name = "blank-en+sentencizer+lookup-lemmatizer"
    nlp.max_length = _MAX_LENGTH
    nlp.meta["synth_name"] = name
    return nlp


def nlp_name() -> str:
    """Which lemmatising pipeline `load_nlp` gives in this process, e.g. "en_core_web_sm-3.8.0"."""
    return str(load_nlp().meta["synth_name"])


@functools.cache
def sentence_pipeline() -> Language:
    """Blank English tokenizer + rule-based sentencizer: the same boundaries on every machine."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = _MAX_LENGTH
    return nlp


def lemmatise(texts: Iterable[str]) -> list[list[str]]:
    """Lower-cased lemmas of the alphabetic, non-stop-word tokens of each text, in order.

    Texts are lower-cased before lemmatising because the lookup tables are keyed by lower-case
    forms: "Barriers" would otherwise stay "barriers" at the start of a sentence.
    """
    return lemmas_and_display_forms(texts)[0]


def display_forms(texts: Iterable[str]) -> dict[str, str]:
    """For each lemma, the word form people actually wrote most often (ties: the shorter, then
    alphabetical). Labels are built from lemmas, so that "barriers" and "barrier" count as one
    term, but shown in written forms: the lookup lemmatizer turns "data" into "datum", "rent" into
    "rend" and "training" into "train", which would puzzle a reader."""
    return lemmas_and_display_forms(texts)[1]


def lemmas_and_display_forms(texts: Iterable[str]) -> tuple[list[list[str]], dict[str, str]]:
    """`lemmatise` and `display_forms` from one pass of the pipeline (labelling needs both)."""
    nlp = load_nlp()
    disable = [name for name in ("ner", "parser", "senter", "sentencizer") if name in nlp.pipe_names]
    lemmas: list[list[str]] = []
    counts: dict[str, dict[str, int]] = {}
    for doc in nlp.pipe((t.lower() for t in texts), batch_size=_BATCH_SIZE, disable=disable):
        kept = []
        for t in doc:
            if t.is_alpha and not t.is_stop:
                lemma = t.lemma_.lower()
                kept.append(lemma)
                forms = counts.setdefault(lemma, {})
                forms[t.text] = forms.get(t.text, 0) + 1
        lemmas.append(kept)
    return lemmas, {lemma: min(forms, key=lambda f: (-forms[f], len(f), f)) for lemma, forms in counts.items()}
