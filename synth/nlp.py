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
import hashlib
import importlib.util
from collections import Counter
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from synth.errors import ModelError
from synth.records import PassageTerms

if TYPE_CHECKING:
    from spacy.language import Language

# spaCy is imported inside the functions that use it: importing it imports PyTorch (through
# thinc), over a second, and ingesting short texts (survey answers) needs no NLP at all.

# Texts beyond spaCy's default 1,000,000-character guard are safe here: neither pipeline has a
# parser or NER, the components that need the memory the guard protects.
_MAX_LENGTH = 100_000_000
_BATCH_SIZE = 256


@functools.cache
def load_nlp() -> Language:
    """The lemmatising pipeline: `en_core_web_sm` if importable, else blank English + lookups."""
    import spacy

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
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = _MAX_LENGTH
    return nlp


def lemmatise(texts: Iterable[str]) -> list[list[str]]:
    """Lower-cased lemmas of the alphabetic, non-stop-word tokens of each text, in order.

    Texts are lower-cased before lemmatising because the lookup tables are keyed by lower-case
    forms: "Barriers" would otherwise stay "barriers" at the start of a sentence.
    """
    return [list(terms.lemmas) for terms in passage_terms(texts)]


def passage_terms(texts: Iterable[str]) -> list[PassageTerms]:
    """One pass of the lemmatising pipeline; what labelling needs from each text.

    Depends only on the text and on `pipeline_fingerprint()`, so a project can keep it per text.
    """
    nlp = load_nlp()
    disable = [name for name in ("ner", "parser", "senter", "sentencizer") if name in nlp.pipe_names]
    out = []
    for doc in nlp.pipe((t.lower() for t in texts), batch_size=_BATCH_SIZE, disable=disable):
        kept = [t for t in doc if t.is_alpha and not t.is_stop]
        out.append(PassageTerms(tuple(t.lemma_.lower() for t in kept), tuple(t.text for t in kept)))
    return out


def display_forms_of(terms: Iterable[PassageTerms]) -> dict[str, str]:
    """For each lemma, the word form people actually wrote most often (ties: the shorter, then
    alphabetical). Labels are built from lemmas, so that "barriers" and "barrier" count as one
    term, but shown in written forms: the lookup lemmatizer turns "data" into "datum", "rent" into
    "rend" and "training" into "train", which would puzzle a reader."""
    counts: Counter[tuple[str, str]] = Counter()
    for t in terms:
        counts.update(zip(t.lemmas, t.forms))
    best: dict[str, tuple[int, int, str]] = {}
    for (lemma, form), n in counts.items():
        key = (-n, len(form), form)
        if lemma not in best or key < best[lemma]:
            best[lemma] = key
    return {lemma: key[2] for lemma, key in best.items()}


def pipeline_fingerprint() -> str:
    """Changes whenever the lemmatising pipeline could give a text other lemmas: which pipeline
    (installing en_core_web_sm changes it), spaCy's version, the lookup tables' version, and this
    module's code (which tokens are kept)."""
    try:
        tables = metadata.version("spacy-lookups-data")
    except metadata.PackageNotFoundError:
        tables = "none"
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    return f"{nlp_name()}|spacy {metadata.version('spacy')}|lookups {tables}|nlp.py {code}"
