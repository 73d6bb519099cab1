"""Cross-source synthesis of themes: framework matrix, triangulation and transferability.

Pure functions over plain `Evidence` records (one per passage assigned to a theme), so they can be
tested and reused without a project database. Every figure carries the passages behind it: a
matrix cell quotes its most central passage with a citation, and every label has an explanation
that says what was counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import SynthError
from .records import SOURCE_KINDS

LITERATURE = "literature"
FIELDWORK_KINDS = ("interview", "survey")
NOT_RECORDED = "(not recorded)"


@dataclass(frozen=True)
class Evidence:
    """One passage assigned to a theme, with what synthesis needs to know about its source."""

    passage_id: int
    source_name: str
    source_kind: str  # one of records.SOURCE_KINDS
    metadata: Mapping[str, str]
    start_char: int
    end_char: int
    text: str
    centrality: float  # how typical of its theme the passage is (higher is more central)
    substantive: bool = True  # False: a heading or furniture (synth.structure); triangulation skips it

    @property
    def citation(self) -> str:
        return f"{self.source_name} [{self.start_char}–{self.end_char}]"


def _check_kinds(evidence: Sequence[Evidence]) -> None:
    for e in evidence:
        if e.source_kind not in SOURCE_KINDS:
            raise SynthError(f"evidence for passage {e.passage_id} ({e.source_name}): source kind "
                             f"{e.source_kind!r} is not one of {', '.join(SOURCE_KINDS)}; "
                             "set the source's kind when ingesting it")


def _distinct(evidence: Sequence[Evidence]) -> list[Evidence]:
    """One record per passage (a passage listed twice is still one piece of evidence)."""
    return list({e.passage_id: e for e in evidence}.values())


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


# --------------------------------------------------------------------------------------------
# Triangulation


MIN_PASSAGES_PER_SIDE = 2  # substantive passages each side needs before a theme is "corroborated"
# ... and a side must not be a sliver of the theme: at least this share of its substantive passages,
# unless it has SLIVER_ESCAPE passages or more (a small literature need not match a large survey).
# In the trial of a second review (docs/benchmarks.md, "A second review read as a user"), 3 stray
# literature lines ("whole of their time on the programme.") among 236 survey comments on friendly
# staff made that theme "corroborated"; 2 of 53 passages and 3 of 42 did the same elsewhere.
MIN_SHARE_PER_SIDE = 0.10
SLIVER_ESCAPE = 5


@dataclass(frozen=True)
class Triangulation:
    label: str  # 'corroborated' | 'fieldwork only' | 'literature only' | 'thin evidence' | 'no evidence'
    passages: Mapping[str, int]  # substantive passages per source kind
    sources: Mapping[str, int]  # distinct sources of those passages per source kind
    explanation: str
    structure: int = 0  # placed passages that are headings or furniture: shown, never counted

    @property
    def fieldwork_passages(self) -> int:
        return sum(self.passages[k] for k in FIELDWORK_KINDS)


def triangulate(evidence: Sequence[Evidence]) -> Triangulation:
    """Whether a theme is supported by the literature, by fieldwork (interviews, surveys), or both.

    Only substance counts: a heading or a line of publication furniture placed in a theme (a
    reviewer may include one) says nothing about the idea. Interviews and surveys are both
    fieldwork. A theme is corroborated when each side has at least MIN_PASSAGES_PER_SIDE
    substantive passages; one passage such as "Updates to this page" or a single stray sentence
    does not corroborate anything, and neither does a sliver: a side under MIN_SHARE_PER_SIDE of the
    theme with fewer than SLIVER_ESCAPE passages. Otherwise the side that has that much evidence names it (fieldwork
    only is new evidence; literature only has not been seen in the field), and a theme with too
    little on both sides is 'thin evidence'.
    """
    _check_kinds(evidence)
    items = _distinct(evidence)
    kept = [e for e in items if e.substantive]
    passages = {k: sum(1 for e in kept if e.source_kind == k) for k in SOURCE_KINDS}
    sources = {k: len({e.source_name for e in kept if e.source_kind == k}) for k in SOURCE_KINDS}
    return triangulate_counts(passages, sources, structure=len(items) - len(kept))


def triangulate_counts(passages_by_kind: Mapping[str, int], sources_by_kind: Mapping[str, int],
                       structure: int = 0) -> Triangulation:
    """`triangulate` from counts alone (distinct substantive passages and their sources per source
    kind, and how many structure passages were left out), for callers that count in SQL rather
    than load every passage (the review app's theme list)."""
    passages = {k: int(passages_by_kind.get(k, 0)) for k in SOURCE_KINDS}
    sources = {k: int(sources_by_kind.get(k, 0)) for k in SOURCE_KINDS}
    literature = passages[LITERATURE]
    fieldwork_n = sum(passages[k] for k in FIELDWORK_KINDS)
    enough = MIN_PASSAGES_PER_SIDE

    def part(kind: str) -> str:
        return f"{_plural(passages[kind], 'passage')} from {_plural(sources[kind], kind + ' source')}"

    total = literature + fieldwork_n

    def carries(n: int) -> bool:  # enough passages on one side, and not a sliver of the theme
        return n >= enough and (n >= SLIVER_ESCAPE or n >= MIN_SHARE_PER_SIDE * total)

    def too_few(side: str, n: int) -> str:
        if n >= enough:
            return (f"; {side} has only {_plural(n, 'passage')} of {total} ({n / total:.0%}), too few to "
                    f"corroborate ({MIN_SHARE_PER_SIDE:.0%} of the theme or {SLIVER_ESCAPE} passages needed)")
        return f"; {side} has only {_plural(n, 'passage')}, too few to corroborate ({enough} needed on each side)"

    fieldwork = " and ".join(part(k) for k in FIELDWORK_KINDS if passages[k])
    if carries(literature) and carries(fieldwork_n):
        label = "corroborated"
        explanation = f"corroborated: {part(LITERATURE)} and fieldwork ({fieldwork})"
    elif fieldwork_n and (carries(fieldwork_n) or not literature):
        label = "fieldwork only"
        explanation = f"fieldwork only (new evidence): {fieldwork}; " + (
            too_few("the literature", literature)[2:] if literature else "not found in the literature")
    elif literature and (carries(literature) or not fieldwork_n):
        label = "literature only"
        explanation = f"literature only: {part(LITERATURE)}; " + (
            too_few("fieldwork", fieldwork_n)[2:] if fieldwork_n else "not seen in fieldwork (interviews or surveys)")
    elif literature or fieldwork_n:
        label = "thin evidence"
        explanation = (f"thin evidence: {part(LITERATURE)} and {_plural(fieldwork_n, 'fieldwork passage')}; "
                       f"{enough} substantive passages are needed on each side to corroborate")
    else:
        label = "no evidence"
        explanation = "no evidence: the theme has no substantive passages"
    if label != "no evidence" and sum(sources.values()) == 1:
        explanation += "; a single source, so treat it with caution"
    if structure:
        explanation += f"; {_plural(structure, 'heading or furniture passage', 'heading or furniture passages')} not counted"
    return Triangulation(label, dict(passages), dict(sources), explanation, structure)


# --------------------------------------------------------------------------------------------
# Transferability


@dataclass(frozen=True)
class Transferability:
    score: float  # 0 (one place only, or no evidence) .. approaching 1 (many distinct contexts): 1 - 1/contexts
    contexts: tuple[str, ...]  # e.g. "programme=Into Work · area=Leeds", or "source=Smith 2019" when unrecorded
    passages_per_context: Mapping[str, int]
    sources: int
    explanation: str


def _context_keys(evidence: Sequence[Evidence], fields: Sequence[str]) -> list[dict[str, str]]:
    keys = []
    for e in evidence:
        key = {f: str(e.metadata[f]).strip() for f in fields if str(e.metadata.get(f) or "").strip()}
        keys.append(key or {"source": e.source_name})
    return keys


def _merge_contexts(keys: list[dict[str, str]]) -> tuple[list[dict[str, str]], dict[tuple, int]]:
    """Distinct contexts; a partly recorded one ("programme=A") joins a fuller one it agrees with
    (the first such, fullest first). Returns the contexts and, for every key, its context's index.

    A key joins a context that holds all of its (field, value) pairs, so an index from each pair to
    the contexts holding it finds the candidates without comparing every key with every context
    (a large survey has a context per respondent)."""
    unique = [dict(t) for t in dict.fromkeys(tuple(sorted(k.items())) for k in keys)]
    unique.sort(key=lambda k: (-len(k), sorted(k.items())))
    accepted: list[dict[str, str]] = []
    holding: dict[tuple[str, str], set[int]] = {}
    home: dict[tuple, int] = {}
    for key in unique:
        pairs = list(key.items())
        candidates = set.intersection(*(holding.get(pair, set()) for pair in pairs)) if pairs else set()
        if candidates:
            home[tuple(sorted(pairs))] = min(candidates)
            continue
        home[tuple(sorted(pairs))] = len(accepted)
        for pair in pairs:
            holding.setdefault(pair, set()).add(len(accepted))
        accepted.append(key)
    return accepted, home


def _describe(context: dict[str, str], fields: Sequence[str]) -> str:
    order = {f: i for i, f in enumerate(fields)}
    return " · ".join(f"{k}={v}" for k, v in sorted(context.items(), key=lambda kv: order.get(kv[0], len(order))))


def transferability(evidence: Sequence[Evidence], fields: Sequence[str] = ("programme", "area")) -> Transferability:
    """How far a practice has been seen working in more than one context.

    A context is the combination of the given metadata fields of a passage's source; a passage
    whose source records none of them counts its source as the context. Score: 1 - 1/contexts
    (one context 0, two 0.5, three 0.67, four 0.75).
    """
    _check_kinds(evidence)
    items = _distinct(evidence)
    if not items:
        return Transferability(0.0, (), {}, 0, "no evidence: the theme has no passages")
    keys = _context_keys(items, fields)
    contexts, home_of = _merge_contexts(keys)
    counts: dict[str, int] = {}
    source_sets: dict[str, set[str]] = {}
    for e, key in zip(items, keys):
        name = _describe(contexts[home_of[tuple(sorted(key.items()))]], fields)
        counts[name] = counts.get(name, 0) + 1
        source_sets.setdefault(name, set()).add(e.source_name)
    names = tuple(_describe(c, fields) for c in contexts)
    n_sources = len({e.source_name for e in items})
    score = 1.0 - 1.0 / len(contexts)

    def detail(name: str) -> str:
        return f"{name} ({_plural(counts[name], 'passage')} from {_plural(len(source_sets[name]), 'source')})"

    unrecorded = sum(1 for k in keys if "source" in k)
    if len(contexts) == 1:
        explanation = f"seen in one place only: {detail(names[0])}; no evidence yet that it works elsewhere"
    else:
        explanation = (f"seen in {len(contexts)} contexts across {_plural(n_sources, 'source')}: "
                       + "; ".join(detail(n) for n in names))
    if unrecorded:
        explanation += (f". {_plural(unrecorded, 'passage')} had no {' or '.join(fields)} recorded, "
                        "so their source stands for the context")
    return Transferability(round(score, 4), names, dict(counts), n_sources, explanation)


# --------------------------------------------------------------------------------------------
# Framework matrix


@dataclass(frozen=True)
class MatrixCell:
    count: int  # distinct passages of the theme in this column
    quote: str | None  # the most central of them, verbatim
    citation: str | None  # "source_name [start–end]"
    passage_id: int | None
    sources: int  # distinct sources behind the count


@dataclass(frozen=True)
class MatrixRow:
    theme_id: int
    label: str
    cells: Mapping[str, MatrixCell]  # every column of the matrix, in the same order in every row
    total: int


EMPTY_CELL = MatrixCell(0, None, None, None, 0)


def _column(e: Evidence, by: str) -> str:
    if by == "source":
        return e.source_name
    if by == "kind":
        return e.source_kind
    value = str(e.metadata.get(by) or "").strip()
    return value or NOT_RECORDED


def framework_matrix(themes: Mapping[int, tuple[str, Sequence[Evidence]]], by: str = "source") -> list[MatrixRow]:
    """Themes × columns (sources, source kinds, or the values of a metadata field such as 'area').

    Each cell holds the number of the theme's passages in that column and its most representative
    quote (highest centrality; the lower passage id on a tie) with its citation. Columns are sorted,
    with passages that lack the field under "(not recorded)" last.
    """
    grouped: dict[int, dict[str, list[Evidence]]] = {}
    columns: set[str] = set()
    for theme_id, (_, evidence) in themes.items():
        _check_kinds(evidence)
        cells: dict[str, list[Evidence]] = {}
        for e in _distinct(evidence):
            cells.setdefault(_column(e, by), []).append(e)
        grouped[theme_id] = cells
        columns.update(cells)
    ordered = sorted(columns, key=lambda c: (c == NOT_RECORDED, c.casefold(), c))
    rows = []
    for theme_id, (label, _) in themes.items():
        cells = {}
        for column in ordered:
            members = grouped[theme_id].get(column)
            if not members:
                cells[column] = EMPTY_CELL
                continue
            best = min(members, key=lambda e: (-e.centrality, e.passage_id))
            cells[column] = MatrixCell(len(members), best.text, best.citation, best.passage_id,
                                       len({e.source_name for e in members}))
        rows.append(MatrixRow(theme_id, label, dict(cells), sum(c.count for c in cells.values())))
    return rows
