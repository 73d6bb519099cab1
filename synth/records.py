"""Records that flow between the pipeline's stages.

Small frozen dataclasses, not DataFrames: each stage takes and returns these, and `store` is the
only place that turns them into rows. Offsets are Python string indices (code points) into the
source's extracted `text`, so `source.text[p.start_char:p.end_char] == p.text` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCE_KINDS = ("literature", "interview", "survey")
CATEGORIES = ("barrier", "enabler", "practice", "context")


@dataclass(frozen=True)
class Turn:
    """One speaker turn in a transcript: the span of the source text that one speaker said."""

    start_char: int
    end_char: int
    speaker: str
    is_interviewer: bool = False


@dataclass(frozen=True)
class ExtractedDocument:
    """What a reader makes of one file (or one table row) before it is stored as a source."""

    name: str
    path: str
    kind: str
    text: str
    sha256: str
    metadata: dict[str, str] = field(default_factory=dict)
    turns: tuple[Turn, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. "decoded as cp1252": said to the user, kept with the source


@dataclass(frozen=True)
class PassageSpan:
    """A meaning unit cut from a source text, before it has an id."""

    start_char: int
    end_char: int
    text: str
    speaker: str | None = None
    codable: bool = True
    # Structure (synth.structure): a heading, furniture, contents, reference or caption is kept in
    # its source but not codable; section_heading is the heading the passage sits under.
    structure_kind: str | None = None
    structure_reason: str | None = None
    section_heading: str | None = None


@dataclass(frozen=True)
class Source:
    id: int
    name: str
    kind: str
    path: str
    sha256: str
    text: str
    version: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Passage:
    id: int
    source_id: int
    start_char: int
    end_char: int
    text: str
    speaker: str | None
    codable: bool
    text_sha256: str
    structure_kind: str | None = None    # heading, furniture, contents, reference, caption; None: content
    structure_reason: str | None = None  # which rule of synth.structure said so
    section_heading: str | None = None   # the heading this passage sits under, as written

    @property
    def substantive(self) -> bool:
        """Content rather than structure: not structure, or structure a reviewer included as content
        (structure is never codable unless a reviewer included it)."""
        return self.structure_kind is None or self.codable


@dataclass(frozen=True)
class PassageTerms:
    """One text's alphabetic, non-stop-word tokens: their lemmas and the (lower-cased) forms written.

    What labelling needs from a text; `synth.nlp.passage_terms` makes it, the project keeps it.
    """

    lemmas: tuple[str, ...]
    forms: tuple[str, ...]  # forms[i] is the word whose lemma is lemmas[i]
