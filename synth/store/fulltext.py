"""Full-text search over passages (SQLite FTS5, `passages_fts`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


from ..records import Passage
from .rows import MATCH_END, MATCH_START, SearchPage, SearchRow, _MEMBERS_OF_THEME


COUNT_CAP = 10_000  # a search counts its matches up to this many ("more than 10,000")
RANK_CAP = 20_000   # a query found in more passages than this is listed in document order, not ranked


class SearchTables:
    """Passage search (part of `Project`)."""

    db: sqlite3.Connection
    path: Path

    # -- search ----------------------------------------------------------------------------------

    def search_passages(self, match: str, *, kind: str | None = None, theme_id: int | None = None,
                        codable_only: bool = True, limit: int = 50, offset: int = 0) -> SearchPage:
        """Passages of current sources matching an FTS5 query, best first (bm25), and how many match.

        The matched words come back between MATCH_START and MATCH_END (characters no text holds; see
        `SearchRow.matches`), so callers escape the text themselves and never trust markup from it.
        Two bounds keep every search fast on a large project: the count stops at COUNT_CAP, and a query
        whose words are in more than RANK_CAP passages (a word like "the") lists them in document order,
        as ranking all of them costs more than it tells. Raises `sqlite3.OperationalError` for a query
        FTS5 cannot parse (the caller words it).
        """
        clauses, args = ["passages_fts MATCH ?", "s.is_current = 1"], [match]
        if codable_only:
            clauses.append("p.codable = 1")
        if kind is not None:
            clauses.append("s.kind = ?")
            args.append(kind)
        if theme_id is not None:
            clauses.append(f"p.id IN (SELECT passage_id FROM ({_MEMBERS_OF_THEME}))")
            args += [theme_id, theme_id]
        where = " AND ".join(clauses)
        joins = "FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid JOIN sources s ON s.id = p.source_id"
        total = self.db.execute(f"SELECT COUNT(*) FROM (SELECT 1 {joins} WHERE {where} LIMIT ?)",
                                [*args, COUNT_CAP + 1]).fetchone()[0]
        # The index alone counts its matches in milliseconds (no filters): that decides whether to rank.
        ranked = self.db.execute("SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH ?",
                                 (match,)).fetchone()[0] <= RANK_CAP
        order = "score, p.id" if ranked else "passages_fts.rowid"
        rows = self.db.execute(
            f"SELECT p.id, p.source_id, s.name, s.kind, p.start_char, p.end_char, p.text, p.speaker,"
            f" highlight(passages_fts, 0, ?, ?) AS marked, {'bm25(passages_fts)' if ranked else '0.0'} AS score"
            f" {joins} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [MATCH_START, MATCH_END, *args, limit, offset])
        hits = [SearchRow(passage_id=r[0], source_id=r[1], source_name=r[2], source_kind=r[3], start_char=r[4],
                          end_char=r[5], text=r[6], speaker=r[7], marked=r[8], score=-float(r[9])) for r in rows]
        return SearchPage(total=min(total, COUNT_CAP), more=total > COUNT_CAP, ranked=ranked, rows=hits)

    def current_codable_hashes(self) -> list[tuple[int, str]]:
        """(passage id, text hash) of every codable passage of a current source (semantic search)."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT p.id, p.text_sha256 FROM passages p JOIN sources s ON s.id = p.source_id"
            " WHERE s.is_current = 1 AND p.codable = 1 ORDER BY p.id")]
