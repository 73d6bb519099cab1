"""Theme summaries: what `synth themes`, the review app and the exports show about each theme.

Everything here is derived from the project's current state (memberships may have been moved by
reviewers since the last run), so spread and evidence always agree with what a reviewer sees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .records import Passage, Source
from .store import Project, ThemeRow
from .synthesis import Evidence, transferability, triangulate


@dataclass(frozen=True)
class Quote:
    passage_id: int
    source_name: str
    start_char: int
    end_char: int
    text: str

    @property
    def citation(self) -> str:
        return f"{self.source_name} [{self.start_char}–{self.end_char}]"


@dataclass(frozen=True)
class Spread:
    sources: int
    kinds: dict[str, int]                    # passages per source kind
    by_metadata: dict[str, dict[str, int]]   # field -> value -> passages


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


class ProjectView:
    """Read-only lookups shared by the summaries of many themes (sources are loaded once)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.sources: dict[int, Source] = {s.id: s for s in project.sources(current_only=False)}
        self.passages: dict[int, Passage] = {p.id: p for p in project.passages()}
        self.categories = project.passage_categories()

    def evidence(self, theme_id: int) -> list[Evidence]:
        out = []
        for m in self.project.memberships(theme_id=theme_id, placed=True):
            passage = self.passages.get(m.passage_id)
            if passage is None:
                continue
            source = self.sources[passage.source_id]
            out.append(Evidence(passage_id=passage.id, source_name=source.name, source_kind=source.kind,
                                metadata=source.metadata, start_char=passage.start_char, end_char=passage.end_char,
                                text=passage.text, centrality=m.probability))
        return out

    def quote(self, passage: Passage) -> Quote:
        return Quote(passage.id, self.sources[passage.source_id].name, passage.start_char, passage.end_char, passage.text)


def spread_of(evidence: Sequence[Evidence]) -> Spread:
    by_meta: dict[str, Counter] = {}
    for e in evidence:
        for key, value in e.metadata.items():
            by_meta.setdefault(key, Counter())[value] += 1
    return Spread(
        sources=len({e.source_name for e in evidence}),
        kinds=dict(sorted(Counter(e.source_kind for e in evidence).items())),
        by_metadata={k: dict(sorted(c.items())) for k, c in sorted(by_meta.items())},
    )


def summarise(view: ProjectView, theme: ThemeRow) -> ThemeSummary:
    evidence = view.evidence(theme.id)
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


def summarise_all(project: Project, statuses: Sequence[str] = ("suggested", "accepted")) -> list[ThemeSummary]:
    view = ProjectView(project)
    return [summarise(view, t) for t in project.themes(statuses=statuses)]


def _plain(obj: object) -> dict:
    return asdict(obj) if hasattr(obj, "__dataclass_fields__") else dict(obj)  # type: ignore[arg-type]
