"""How far each theme can be trusted: an evidence profile after GRADE-CERQual.

GRADE-CERQual (Lewin et al. 2018, Implementation Science 13:2) judges a review finding on four
components — methodological limitations, coherence, adequacy and relevance — and from them an
overall confidence: high, moderate, low or very low. synth counts what it can (passages, sources,
participants, groups, agreement, the reviewer's appraisals and scope), says per component whether
that raises concerns, and suggests a confidence with its reasons. The reviewer sets the confidence
that counts (`synth theme confidence`); synth never overwrites it.

Records in, a frozen `EvidenceProfile` out: `profile` is a pure function of `EvidenceItem`s (one per
placed passage) and what the reviewer recorded; `profiles_for` gathers those from a project.

The rule by which synth suggests a confidence is in `synth.confidence`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .confidence import LEVELS, OPPOSITE, Component, judge
from .vectors import unit

if TYPE_CHECKING:  # the store imports nothing from here; the hint only
    from .store import Project, ThemeRow

__all__ = ["LEVELS", "QUALITIES", "EvidenceItem", "EvidenceProfile", "profile", "profiles_for"]

QUALITIES = ("high", "moderate", "low")
KIND_FIELD = "kind"  # the scope field that means a source's kind rather than a metadata field
# Metadata fields that name a survey respondent: rows sharing a value are one participant.
RESPONDENT_FIELDS = ("respondent_id", "respondent", "participant_id", "participant", "respondent id")
COUNTER_QUOTES = 3
NOT_RECORDED = "(not recorded)"


@dataclass(frozen=True)
class EvidenceItem:
    """One passage placed in a theme, with what the profile needs about it and its source."""

    passage_id: int
    source_name: str
    source_kind: str
    metadata: Mapping[str, str]
    speaker: str | None
    start_char: int
    end_char: int
    text: str
    category: str | None = None  # the passage's own category, if categorised
    category_score: Mapping[str, float] = field(default_factory=dict)

    @property
    def citation(self) -> str:
        return f"{self.source_name} [{self.start_char}–{self.end_char}]"


@dataclass(frozen=True)
class CounterQuote:
    passage_id: int
    citation: str
    text: str
    category: str


@dataclass(frozen=True)
class Adequacy:
    passages: int
    sources: int
    participants: int  # distinct people heard in fieldwork: interview speakers, survey respondents
    sources_by_kind: dict[str, int]
    passages_by_kind: dict[str, int]
    participants_by_kind: dict[str, int]
    groups: dict[str, dict[str, int]]  # metadata field -> value -> passages


@dataclass(frozen=True)
class Coherence:
    category: str | None
    in_category: int  # passages whose own category is the theme's
    categorised: int  # passages with a category at all
    share_in_category: float | None
    similarity: float | None  # mean cosine of the passages to their centroid
    against: int  # passages that cut against the finding
    counter_quotes: tuple[CounterQuote, ...]


@dataclass(frozen=True)
class Relevance:
    scope: dict[str, tuple[str, ...]]
    in_scope: int  # passages
    out_of_scope: int
    not_recorded: int  # passages whose source does not record a scope field
    share_in_scope: float | None
    sources_in_scope: int


@dataclass(frozen=True)
class Limitations:
    passages_by_quality: dict[str, int]  # high / moderate / low / not appraised
    sources_by_quality: dict[str, int]
    low_share: float
    unappraised_share: float


@dataclass(frozen=True)
class EvidenceProfile:
    theme_id: int
    adequacy: Adequacy
    coherence: Coherence
    relevance: Relevance
    limitations: Limitations
    components: tuple[Component, ...]
    suggested: str  # one of LEVELS
    reasons: tuple[str, ...]
    reviewer: dict | None = None  # {level, reason, reviewer, at} when a reviewer set the confidence

    @property
    def confidence(self) -> str:
        """The confidence that counts: the reviewer's when set, else synth's suggestion."""
        return self.reviewer["level"] if self.reviewer else self.suggested

    def to_dict(self) -> dict:
        out = asdict(self)
        out["confidence"] = self.confidence
        out["confidence_by"] = "reviewer" if self.reviewer else "synth"
        return out

    def line(self) -> str:
        """One compact line: confidence and the numbers behind it."""
        a, c = self.adequacy, self.coherence
        parts = [f"{a.passages} passages", f"{a.sources} sources"]
        if a.participants:
            parts.append(f"{a.participants} participants")
        if c.share_in_category is not None:
            parts.append(f"{c.share_in_category:.0%} in category")
        if c.similarity is not None:
            parts.append(f"similarity {c.similarity:.2f}")
        if c.against:
            parts.append(f"{c.against} against")
        by = " (reviewer)" if self.reviewer else ""
        return f"{self.confidence}{by}: " + ", ".join(parts)


# --- the profile -------------------------------------------------------------------------------------

def participant_key(item: EvidenceItem) -> tuple | None:
    """Who is speaking in a passage of fieldwork; None for literature (a study, not a participant).

    Interview turns: the speaker within that source (two transcripts' "R" are two people); a
    transcript without speaker turns is one participant. Survey rows: one participant per row
    (each row is its own source), unless a respondent field groups rows of one person."""
    if item.source_kind == "interview":
        return ("interview", item.source_name, item.speaker or "")
    if item.source_kind == "survey":
        for key in RESPONDENT_FIELDS:
            value = str(item.metadata.get(key) or "").strip()
            if value:
                return ("survey", key, value)
        return ("survey", item.source_name)
    return None


def group_fields(metadata: Mapping[str, set[str]], sources_with: Mapping[str, int]) -> list[str]:
    """Metadata fields that sort sources into groups: more than one value, and not one per source
    (a title or an id is not a group); respondent ids are participants, not groups."""
    out = []
    for name, values in sorted(metadata.items()):
        if name in RESPONDENT_FIELDS or name == KIND_FIELD:
            continue
        if 1 < len(values) < max(sources_with.get(name, 0), 2):
            out.append(name)
    return out


def adequacy_of(items: Sequence[EvidenceItem], fields: Sequence[str]) -> Adequacy:
    sources_by_kind: dict[str, set[str]] = {}
    people_by_kind: dict[str, set[tuple]] = {}
    for e in items:
        sources_by_kind.setdefault(e.source_kind, set()).add(e.source_name)
        who = participant_key(e)
        if who is not None:
            people_by_kind.setdefault(e.source_kind, set()).add(who)
    groups = {f: dict(sorted(Counter(str(e.metadata.get(f) or "").strip() or NOT_RECORDED for e in items).items()))
              for f in fields}
    return Adequacy(
        passages=len(items), sources=len({e.source_name for e in items}),
        participants=sum(len(v) for v in people_by_kind.values()),
        sources_by_kind={k: len(v) for k, v in sorted(sources_by_kind.items())},
        passages_by_kind=dict(sorted(Counter(e.source_kind for e in items).items())),
        participants_by_kind={k: len(v) for k, v in sorted(people_by_kind.items())},
        groups={f: g for f, g in groups.items() if set(g) != {NOT_RECORDED}},
    )


def mean_similarity(vectors: Sequence[np.ndarray]) -> float | None:
    """Mean cosine similarity of vectors to their (normalised) mean: 1 when all point the same way."""
    if len(vectors) < 2:
        return None
    x = unit(np.stack([np.asarray(v, dtype=np.float64) for v in vectors]))
    centre = x.mean(axis=0)
    norm = float(np.linalg.norm(centre))
    if norm < 1e-12:
        return 0.0
    return float(np.mean(x @ (centre / norm)))


def coherence_of(items: Sequence[EvidenceItem], category: str | None,
                 vectors: Mapping[int, np.ndarray]) -> Coherence:
    categorised = [e for e in items if e.category]
    inside = sum(1 for e in categorised if e.category == category) if category else 0
    opposite = OPPOSITE.get(category or "", ())
    against = [e for e in items if e.category in opposite]
    # The clearest cases first: the passages that read most strongly as the other side.
    against.sort(key=lambda e: (-max(e.category_score.get(c, 0.0) for c in opposite), e.passage_id))
    sim = mean_similarity([vectors[e.passage_id] for e in items if e.passage_id in vectors])
    return Coherence(
        category=category, in_category=inside, categorised=len(categorised),
        share_in_category=(inside / len(categorised)) if category and categorised else None,
        similarity=None if sim is None else round(sim, 4), against=len(against),
        counter_quotes=tuple(CounterQuote(e.passage_id, e.citation, e.text, e.category or "")
                             for e in against[:COUNTER_QUOTES]),
    )


def in_scope(item: EvidenceItem, scope: Mapping[str, Sequence[str]]) -> bool | None:
    """True inside the scope, False outside, None when the source does not record a scope field."""
    unknown = False
    for name, allowed in scope.items():
        value = item.source_kind if name == KIND_FIELD else str(item.metadata.get(name) or "").strip()
        if not value:
            unknown = True
        elif value not in allowed:
            return False
    return None if unknown else True


def relevance_of(items: Sequence[EvidenceItem], scope: Mapping[str, Sequence[str]]) -> Relevance:
    scope = {k: tuple(v) for k, v in sorted(scope.items())}
    if not scope:
        return Relevance({}, 0, 0, 0, None, 0)
    verdicts = [(e, in_scope(e, scope)) for e in items]
    inside = [e for e, v in verdicts if v is True]
    return Relevance(
        scope=scope, in_scope=len(inside), out_of_scope=sum(1 for _, v in verdicts if v is False),
        not_recorded=sum(1 for _, v in verdicts if v is None),
        share_in_scope=(len(inside) / len(items)) if items else None,
        sources_in_scope=len({e.source_name for e in inside}),
    )


def limitations_of(items: Sequence[EvidenceItem], appraisals: Mapping[str, Mapping]) -> Limitations:
    def quality(name: str) -> str:
        a = appraisals.get(name)
        return a["quality"] if a else "not appraised"

    passages = Counter(quality(e.source_name) for e in items)
    sources = Counter(quality(name) for name in {e.source_name for e in items})
    keys = (*QUALITIES, "not appraised")
    n = max(len(items), 1)
    return Limitations(
        passages_by_quality={k: passages.get(k, 0) for k in keys},
        sources_by_quality={k: sources.get(k, 0) for k in keys},
        low_share=round(passages.get("low", 0) / n, 4), unappraised_share=round(passages.get("not appraised", 0) / n, 4),
    )


def profile(theme_id: int, category: str | None, items: Sequence[EvidenceItem], *,
            vectors: Mapping[int, np.ndarray] | None = None, fields: Sequence[str] = (),
            scope: Mapping[str, Sequence[str]] | None = None, appraisals: Mapping[str, Mapping] | None = None,
            reviewer: Mapping | None = None) -> EvidenceProfile:
    """The evidence profile of one theme from its placed passages and what the reviewer recorded."""
    items = list({e.passage_id: e for e in items}.values())
    a = adequacy_of(items, fields)
    c = coherence_of(items, category, vectors or {})
    r = relevance_of(items, scope or {})
    m = limitations_of(items, appraisals or {})
    components, level, reasons = judge(a, c, r, m)
    return EvidenceProfile(theme_id, a, c, r, m, components, level, reasons, dict(reviewer) if reviewer else None)


# --- from a project ----------------------------------------------------------------------------------

def profiles_for(project: Project, themes: Sequence[ThemeRow]) -> dict[int, EvidenceProfile]:
    """Profiles of `themes` (store `ThemeRow`s), reading each fact once for all of them."""
    if not themes:
        return {}
    metadata = project.source_metadata()
    from .readmodel import latest_space  # the read model builds on this module's neighbours

    space = latest_space(project)
    fields_seen = project.metadata_fields()
    sources_with = Counter(k for meta in metadata.values() for k in meta)
    fields = group_fields(fields_seen, sources_with)
    scope = project.review_scope()
    appraisals = project.source_appraisals()
    confidences = project.theme_confidences()
    out: dict[int, EvidenceProfile] = {}
    for theme in themes:
        items = []
        rows = project.theme_evidence_rows(theme.id)
        # Only this theme's passages: a page of one theme must not read all of a large project's.
        passages = project.passages_by_id([r["id"] for r in rows])
        categories = project.passage_categories([r["id"] for r in rows])
        for r in rows:
            cat = categories.get(r["id"], {})
            p = passages.get(r["id"])
            items.append(EvidenceItem(
                passage_id=r["id"], source_name=r["source_name"], source_kind=r["source_kind"],
                metadata=metadata.get(r["source_id"], {}), speaker=p.speaker if p else None,
                start_char=r["start_char"], end_char=r["end_char"], text=r["text"],
                category=cat.get("category"), category_score=cat.get("scores", {})))
        vectors: dict[int, np.ndarray] = {}
        if space is not None:
            hashes = {e.passage_id: passages[e.passage_id].text_sha256 for e in items if e.passage_id in passages}
            cached = space.vectors(hashes.values())
            vectors = {pid: cached[h] for pid, h in hashes.items() if h in cached}
            if len({v.shape for v in vectors.values()}) > 1:
                vectors = {}  # vectors of different models: no honest similarity
        out[theme.id] = profile(theme.id, theme.category, items, vectors=vectors, fields=fields, scope=scope,
                                appraisals=appraisals, reviewer=confidences.get(theme.id))
    return out
