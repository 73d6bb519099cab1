"""Search: find passages by their words (SQLite FTS5) or by their meaning (the cached vectors).

`search` takes an FTS5 query as a reviewer types it -- words, "a phrase", prefix*, AND / OR / NOT,
NEAR(a b) -- and returns hits, best first, each with where its words matched, its source and
offsets, its theme(s) and its category. `similar` ranks passages by cosine similarity to a text
(embedded with the project's model route) or to a passage's own vector ("more like this").
The CLI and the review app both call these two functions.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from .errors import NotFoundError, SynthError
from .records import SOURCE_KINDS
from .store import PassageAt, Project, SearchRow

MAX_LIMIT = 1000
MAX_QUERY = 1000
HOW_TO = ('words match anywhere; use "double quotes" for a phrase, word* for a prefix, AND / OR / NOT in capitals, '
          'and put a word with other characters (like - or :) in quotes')


@dataclass(frozen=True)
class Hit(PassageAt):
    """A search result: the passage where it stands, how well it matched, and where it is coded."""

    score: float                          # bm25 (higher is better) or cosine similarity
    matches: tuple[tuple[int, int], ...]  # matched stretches, offsets into `text`
    theme_id: int | None                  # the primary theme, where the passage is placed in one
    theme_label: str | None
    theme_status: str | None
    also_coded: tuple[tuple[int, str], ...]  # a reviewer's further codings: (theme id, label)
    category: str | None

    def segments(self) -> list[tuple[str, bool]]:
        """The text cut into (piece, is_match) pieces, for a page to escape and highlight."""
        out, at = [], 0
        for start, end in self.matches:
            if start > at:
                out.append((self.text[at:start], False))
            out.append((self.text[start:end], True))
            at = end
        if at < len(self.text):
            out.append((self.text[at:], False))
        return out

    def as_json(self) -> dict:
        return {"passage_id": self.passage_id, "source": self.source_name, "source_id": self.source_id,
                "kind": self.source_kind, "start_char": self.start_char, "end_char": self.end_char,
                "text": self.text, "speaker": self.speaker, "score": round(self.score, 4),
                "matches": [[self.start_char + s, self.start_char + e] for s, e in self.matches],
                "theme_id": self.theme_id, "theme_label": self.theme_label,
                "also_coded": [{"theme_id": t, "theme_label": label} for t, label in self.also_coded],
                "category": self.category}


@dataclass(frozen=True)
class Results:
    query: str
    mode: str   # 'text' or 'semantic'
    total: int  # how many passages match (text; at most store.COUNT_CAP), or were ranked (semantic)
    hits: tuple[Hit, ...]
    more: bool = False   # more than `total` match
    ranked: bool = True  # best first; a query found in most passages is listed in document order


def _check_filters(project: Project, kind: str | None, theme_id: int | None, limit: int) -> None:
    if kind is not None and kind not in SOURCE_KINDS:
        raise SynthError(f"kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    if theme_id is not None:
        project.theme(theme_id)  # not found: says so, and how to list the themes
    if not 1 <= limit <= MAX_LIMIT:
        raise SynthError(f"limit {limit} must be between 1 and {MAX_LIMIT}")


def search(project: Project, query: str, *, kind: str | None = None, theme_id: int | None = None,
           limit: int = 50, offset: int = 0) -> Results:
    """Full-text search over the codable passages of current sources."""
    query = (query or "").strip()
    if not query:
        raise SynthError("the search is empty; give some words to look for")
    if len(query) > MAX_QUERY:
        raise SynthError(f"the search has {len(query)} characters; keep it under {MAX_QUERY}")
    _check_filters(project, kind, theme_id, limit)
    try:
        found = project.search_passages(query, kind=kind, theme_id=theme_id, limit=limit, offset=max(0, offset))
    except sqlite3.OperationalError as exc:
        raise SynthError(f"search {query!r}: {_fts_problem(str(exc))}; {HOW_TO}") from None
    rows = found.rows
    return Results(query, "text", found.total, tuple(_hits(project, rows, [r.matches() for r in rows],
                                                           [r.score for r in rows])),
                   more=found.more, ranked=found.ranked)


def _fts_problem(message: str) -> str:
    """SQLite's words for a query it cannot parse, said for a reviewer."""
    message = message.removeprefix("fts5: ")
    if message.startswith("no such column"):  # `word:` reads as a column filter
        return f"cannot search for {message.removeprefix('no such column: ')!r} followed by ':' ({message})"
    if message.startswith("unknown special query"):
        return f"a query cannot start with '*' ({message})"
    return message


def similar(project: Project, *, text: str | None = None, passage_id: int | None = None, kind: str | None = None,
            theme_id: int | None = None, limit: int = 50, embedder=None) -> Results:
    """Passages nearest in meaning to `text` or to passage `passage_id` (which is left out), by the
    cosine similarity of the vectors discover cached with the project's latest model route."""
    if (text is None) == (passage_id is None):
        raise SynthError("semantic search needs a text or a passage id (--like), not both")
    _check_filters(project, kind, theme_id, limit)
    run = project.latest_run()
    if run is None:
        raise SynthError(f"{project.path}: no passage has been embedded yet; run `synth discover {project.path}` first")
    model_id = run["model_id"]
    if passage_id is not None:
        try:
            passage = project.passage(passage_id)
        except NotFoundError:
            raise NotFoundError(f"passage {passage_id} is not in {project.path}") from None
        found = project.cached_embeddings(model_id, [passage.text_sha256])
        if passage.text_sha256 not in found:
            raise SynthError(f"passage {passage_id} has no stored vector (it is not codable, or came after the last "
                             f"discover); run `synth discover {project.path}` first")
        query_vector, label = found[passage.text_sha256], f"like passage {passage_id}"
    else:
        text = (text or "").strip()
        if not text:
            raise SynthError("the search is empty; give some words to look for")
        if embedder is None:
            from .fast_embed import embedder_for, route_of_model_id  # loads the model only when asked

            embedder = embedder_for(route_of_model_id(model_id))
        if embedder.spec.model_id != model_id:
            raise SynthError(f"{project.path}: its vectors come from {model_id}, which this synth cannot load; "
                             "run `synth discover` again to embed with the current model")
        query_vector, label = np.asarray(embedder.encode([text]))[0], text
    candidates = project.current_codable_hashes()
    if theme_id is not None or kind is not None:
        keep = _filtered_ids(project, {pid for pid, _ in candidates}, kind, theme_id)
        candidates = [(pid, h) for pid, h in candidates if pid in keep]
    vectors = project.cached_embeddings(model_id, [h for _, h in candidates])
    ranked = [(pid, h) for pid, h in candidates if h in vectors and pid != passage_id]
    if not ranked:
        return Results(label, "semantic", 0, ())
    matrix = np.stack([vectors[h] for _, h in ranked]).astype(np.float32)
    if matrix.shape[1] != query_vector.shape[0]:
        raise SynthError(f"{project.path}: the stored vectors and the query's have different sizes; run `synth discover`")
    # Scaled in place rather than by vectors.unit: at 100k passages a second matrix is 150 MB more.
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    sims = matrix @ (query_vector / max(float(np.linalg.norm(query_vector)), 1e-12)).astype(np.float32)
    order = np.argsort(-sims, kind="stable")[:limit]
    rows = _rows(project, [ranked[i][0] for i in order])
    return Results(label, "semantic", len(ranked),
                   tuple(_hits(project, rows, [()] * len(rows), [float(sims[i]) for i in order])))


def _filtered_ids(project: Project, wanted: set[int], kind: str | None, theme_id: int | None) -> set[int]:
    if theme_id is not None:
        wanted &= {pid for pid, _, _ in project.theme_members(theme_id)}
    if kind is not None:
        kinds = {s.id: s.kind for s in project.sources()}
        wanted = {p.id for p in project.passages(codable_only=True) if p.id in wanted and kinds[p.source_id] == kind}
    return wanted


def _rows(project: Project, ids: list[int]) -> list[SearchRow]:
    names = {s.id: s for s in project.sources(current_only=False)}
    out = []
    for pid in ids:
        p = project.passage(pid)
        s = names[p.source_id]
        out.append(SearchRow(p.id, p.source_id, s.name, s.kind, p.start_char, p.end_char, p.text, p.speaker,
                             p.text, 0.0))
    return out


def _hits(project: Project, rows: list[SearchRow], matches: list, scores: list[float]) -> list[Hit]:
    ids = [r.passage_id for r in rows]
    categories = project.passage_categories(ids)
    themes = {t.id: t for t in project.theme_names()}
    also: dict[int, list[tuple[int, str]]] = {}
    for c in project.codings(passage_ids=ids):
        if c.theme_id in themes:
            also.setdefault(c.passage_id, []).append((c.theme_id, themes[c.theme_id].label))
    out = []
    for row, found, score in zip(rows, matches, scores, strict=True):
        m = project.membership(row.passage_id)
        primary = themes.get(m.theme_id) if m is not None and m.placed else None
        out.append(Hit(passage_id=row.passage_id, source_id=row.source_id, source_name=row.source_name,
                       source_kind=row.source_kind, start_char=row.start_char, end_char=row.end_char,
                       text=row.text, speaker=row.speaker, score=score, matches=tuple(found),
                       theme_id=primary.id if primary else None, theme_label=primary.label if primary else None,
                       theme_status=primary.status if primary else None,
                       also_coded=tuple(t for t in also.get(row.passage_id, ()) if not primary or t[0] != primary.id),
                       category=categories.get(row.passage_id, {}).get("category")))
    return out
