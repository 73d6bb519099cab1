"""Theme summaries: what `synth themes`, the review app and the exports show about each theme.

Everything here is derived from the project's current state (memberships may have been moved by
reviewers since the last run), so spread and evidence always agree with what a reviewer sees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .records import Passage, Source
from .statuses import LIVE
from .store import Project, ThemeRow
from .synthesis import Evidence, transferability, triangulate, triangulate_counts


@dataclass(frozen=True)
class Quote:
    passage_id: int
    source_name: str
    start_char: int
    end_char: int
    text: str
    section_heading: str | None = None  # the heading the quote sits under in its source

    @property
    def citation(self) -> str:
        return f"{self.source_name} [{self.start_char}–{self.end_char}]"


@dataclass(frozen=True)
class Spread:
    sources: int
    kinds: dict[str, int]                    # passages per source kind
    by_metadata: dict[str, dict[str, int]]   # field -> value -> passages
    sources_by_kind: dict[str, int] = field(default_factory=dict)  # distinct sources per source kind
    structure: int = 0                       # placed passages that are headings or furniture


@dataclass(frozen=True)
class ThemeSummary:
    id: int
    guid: str
    label: str
    definition: str
    status: str
    category: str | None
    confidence: float | None
    mix: dict[str, float]
    reasons: tuple[str, ...]
    top_terms: tuple[str, ...]
    size: int
    spread: Spread
    quotes: tuple[Quote, ...]
    triangulation: dict = field(default_factory=dict)
    transferability: dict = field(default_factory=dict)
    revision: int = 1

    def to_dict(self) -> dict:
        out = asdict(self)
        out["quotes"] = [{**asdict(q), "citation": q.citation} for q in self.quotes]
        return out


@dataclass(frozen=True)
class ThemeListEntry:
    """What a list of themes shows per theme: counts only, no passages or quotes. Built for every
    theme from one aggregate query, so a list of hundreds of themes over 100,000 passages stays
    fast; its figures are the same as the full `ThemeSummary`'s (tested)."""

    id: int
    label: str
    status: str
    category: str | None
    confidence: float | None
    top_terms: tuple[str, ...]
    size: int
    spread: Spread  # by_metadata left empty: a list does not show it
    triangulation: dict
    revision: int


def list_entries(project: Project, statuses: Sequence[str] = LIVE, *, themes: Sequence[ThemeRow] | None = None,
                 counts: tuple[dict, dict] | None = None) -> list[ThemeListEntry]:
    """The list entries of the themes of `statuses` (or of `themes`, already read; `counts` likewise)."""
    counts, substance = counts if counts is not None else project.theme_list_counts()
    out = []
    for theme in themes if themes is not None else project.themes(statuses=statuses):
        by_kind = counts.get(theme.id, {})
        passages = {kind: n for kind, (n, _) in by_kind.items()}
        sources = {kind: n for kind, (_, n) in by_kind.items()}
        kept = substance.get(theme.id, {})
        structure = sum(passages.values()) - sum(n for n, _ in kept.values())
        out.append(ThemeListEntry(
            id=theme.id, label=theme.label, status=theme.status, category=theme.category,
            confidence=theme.category_confidence, top_terms=theme.top_terms, size=sum(passages.values()),
            spread=Spread(sources=sum(sources.values()), kinds=dict(sorted(passages.items())), by_metadata={},
                          sources_by_kind=dict(sorted(sources.items())), structure=structure),
            triangulation=_plain(triangulate_counts({k: n for k, (n, _) in kept.items()},
                                                    {k: n for k, (_, n) in kept.items()}, structure)),
            revision=theme.revision,
        ))
    return out


class ProjectView:
    """Lookups shared by the summaries of many themes. A page of the review app needs only a few
    themes' evidence, so nothing is loaded up front; exports that walk the whole project use the
    full `sources`, `passages` and `categories` maps, each loaded once on first use."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._sources: dict[int, Source] = {}
        self._all_sources: dict[int, Source] | None = None
        self._passages: dict[int, Passage] | None = None
        self._categories: dict[int, dict] | None = None
        self._names: dict[int, str] | None = None

    @property
    def sources(self) -> dict[int, Source]:
        if self._all_sources is None:
            self._all_sources = {s.id: s for s in self.project.sources(current_only=False)}
            self._sources.update(self._all_sources)
        return self._all_sources

    @property
    def passages(self) -> dict[int, Passage]:
        if self._passages is None:
            self._passages = {p.id: p for p in self.project.passages()}
        return self._passages

    @property
    def categories(self) -> dict[int, dict]:
        if self._categories is None:
            self._categories = self.project.passage_categories()
        return self._categories

    def read_sources(self, source_ids: Sequence[int]) -> None:
        """Read the sources of `source_ids` not read yet, in one go (a page of passages from many)."""
        missing = [s for s in dict.fromkeys(source_ids) if s not in self._sources]
        if missing:
            self._sources.update(self.project.sources_by_id(missing))

    def source(self, source_id: int) -> Source:
        if source_id not in self._sources:
            self._sources[source_id] = self.project.source(source_id)
        return self._sources[source_id]

    def passage(self, passage_id: int) -> Passage:
        if self._passages is not None and passage_id in self._passages:
            return self._passages[passage_id]
        return self.project.passage(passage_id)

    def evidence(self, theme_id: int, *, with_text: bool = True) -> list[Evidence]:
        """The theme's placed passages as evidence; `with_text=False` leaves `text` empty (for counts)."""
        metadata = self.project.metadata_of_theme_sources(theme_id)
        return [
            Evidence(passage_id=r["id"], source_name=r["source_name"], source_kind=r["source_kind"],
                     metadata=metadata.get(r["source_id"], {}), start_char=r["start_char"], end_char=r["end_char"],
                     text=r["text"], centrality=r["probability"],
                     substantive=r["structure_kind"] is None or bool(r["codable"]))
            for r in self.project.theme_evidence_rows(theme_id, with_text=with_text)
        ]

    def quote(self, passage: Passage) -> Quote:
        if self._names is None:  # one query for every name, rather than loading each quoted source
            self._names = self.project.source_names()
        return Quote(passage.id, self._names[passage.source_id], passage.start_char, passage.end_char, passage.text,
                     passage.section_heading)


def spread_of(evidence: Sequence[Evidence]) -> Spread:
    by_meta: dict[str, Counter] = {}
    for e in evidence:
        for key, value in e.metadata.items():
            by_meta.setdefault(key, Counter())[value] += 1
    sources_by_kind: dict[str, set[str]] = {}
    for e in evidence:
        sources_by_kind.setdefault(e.source_kind, set()).add(e.source_name)
    return Spread(
        sources=len({e.source_name for e in evidence}),
        kinds=dict(sorted(Counter(e.source_kind for e in evidence).items())),
        by_metadata={k: dict(sorted(c.items())) for k, c in sorted(by_meta.items())},
        sources_by_kind={k: len(v) for k, v in sorted(sources_by_kind.items())},
        structure=sum(1 for e in evidence if not e.substantive),
    )


def summarise(view: ProjectView, theme: ThemeRow) -> ThemeSummary:
    evidence = view.evidence(theme.id, with_text=False)  # quotes are read separately
    tri = triangulate(evidence)
    transfer = transferability(evidence) if theme.category == "practice" else None
    return ThemeSummary(
        id=theme.id, guid=theme.guid, label=theme.label, definition=theme.definition, status=theme.status,
        category=theme.category, confidence=theme.category_confidence, mix=theme.category_mix,
        reasons=theme.category_reasons, top_terms=theme.top_terms, size=len(evidence), spread=spread_of(evidence),
        quotes=tuple(view.quote(p) for p in view.project.quotes(theme.id)),
        triangulation=_plain(tri), transferability=_plain(transfer) if transfer else {},
        revision=theme.revision,
    )


def summarise_all(project: Project, statuses: Sequence[str] = LIVE) -> list[ThemeSummary]:
    from .readmodel import ReadModel  # the read model builds on this module's view

    return ReadModel(project).summaries(statuses)


def _plain(obj: object) -> dict:
    return asdict(obj) if hasattr(obj, "__dataclass_fields__") else dict(obj)  # type: ignore[arg-type]
