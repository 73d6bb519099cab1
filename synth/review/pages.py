"""The review app's pages (GET): the theme list, a theme, the unplaced passages, a source, the
decision log, search and validation. Each reads the project through one `ReadModel` per request."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response

from ..errors import NotFoundError, SynthError
from ..statuses import LIVE, REVIEWABLE, THEME_STATUSES
from ..store import Project, ThemeRow
from ..readmodel import ReadModel
from ..records import CATEGORIES, Passage
from .. import search as searching
from . import actions

from .forms import LOCAL_PAGE, PAGE_SIZE, _int_or_none, _page_url, _paginate

LOG_PAGE_SIZE = 200
NEAREST = 3
STATUS_FILTERS = {
    "review": REVIEWABLE,
    "all": THEME_STATUSES,
    **{s: (s,) for s in THEME_STATUSES},
}
SORTS = ("id", "label", "size", "spread", "confidence")
SEARCH_PAGE_SIZE = 50


class PageViews:
    """The pages; part of the app's views (`app._Views`), which give `project`, `model` and `render`."""

    def themes(self, request: Request) -> Response:
        q = request.query_params
        status = q.get("status", "review") if q.get("status") in STATUS_FILTERS else "review"
        category = q.get("category", "") if q.get("category") in (*CATEGORIES, "none") else ""
        sort = q.get("sort", "id") if q.get("sort") in SORTS else "id"
        with self.project() as project:
            summaries = self.model(project).entries(STATUS_FILTERS[status])
        if category:
            summaries = [s for s in summaries if (s.category or "none") == category]
        keys = {"id": lambda s: s.id, "label": lambda s: s.label.lower(), "size": lambda s: (-s.size, s.id),
                "spread": lambda s: (-s.spread.sources, -s.size, s.id),
                "confidence": lambda s: (-(s.confidence or 0.0), s.id)}
        summaries.sort(key=keys[sort])
        live = [s for s in summaries if s.status in LIVE]  # merge targets: shown, with their revision
        return self.render(request, "themes.html", {
            "summaries": summaries, "live": live, "status": status, "category": category, "sort": sort,
            "status_filters": list(STATUS_FILTERS), "sorts": SORTS, "title": "Themes"})

    def theme(self, request: Request) -> Response:
        theme_id = request.path_params["theme_id"]
        with self.project() as project:
            model = self.model(project)
            try:
                theme = model.theme(theme_id)
            except NotFoundError as exc:
                return self.error(request, 404, str(exc))
            summary = model.summary(theme)
            members = project.theme_members(theme_id)  # placed members and a reviewer's further codings
            page, pages, shown = _paginate(members, request.query_params.get("page"))
            rows = _passage_rows(model, [pid for pid, _, _ in shown],
                                 {pid: probability for pid, probability, primary in shown if primary})
            all_themes = model.all_themes
            elsewhere = project.memberships_of([pid for pid, _, primary in shown if not primary])
            for row, (pid, _, primary) in zip(rows, shown):
                m = elsewhere.get(pid)
                row["primary"] = primary
                row["primary_theme"] = all_themes.get(m.theme_id) if m is not None and m.placed else None
            history = [(d, actions.describe(d)) for d in project.decisions(theme_id=theme_id)]
            from ..evidence import LEVELS  # the evidence profile (GRADE-CERQual) of this theme

            profile = model.profile(theme)
            theme_memos = project.live_memos(theme_id=theme_id)
        return self.render(request, "theme.html", {
            "theme": theme, "summary": summary, "rows": rows, "page": page, "pages": pages,
            "member_count": len(members), "theme_memos": theme_memos,
            "history": history, "profile": profile, "levels": LEVELS,
            "parent": all_themes.get(theme.parent_id) if theme.parent_id else None,
            "merged_into": all_themes.get(theme.merged_into) if theme.merged_into else None,
            "children": [t for t in all_themes.values() if t.parent_id == theme.id],
            "merged_in": [t for t in all_themes.values() if t.merged_into == theme.id],
            "targets": [t for t in all_themes.values() if t.status in LIVE and t.id != theme.id],
            **_neighbours(list(all_themes.values()), theme.id),
            "back": _page_url(f"/themes/{theme_id}", page), "title": theme.label})

    def unplaced(self, request: Request) -> Response:
        with self.project() as project:
            model = self.model(project)
            live = model.live()
            # One page of candidates, found and counted in SQL: a large project has tens of thousands.
            total = model.unplaced_count()
            pages = max(1, -(-total // PAGE_SIZE))
            page = min(max(_int_or_none(request.query_params.get("page")) or 1, 1), pages)
            shown = project.unplaced_page(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
            rows = _passage_rows(model, [p.id for p in shown], {}, passages={p.id: p for p in shown})
            nearest = model.space.nearest_themes(shown, live, NEAREST) if model.space and live else {}
            memberships = project.memberships_of([p.id for p in shown])
            for row, p in zip(rows, shown):
                m = memberships.get(p.id)
                row["nearest"] = nearest.get(p.id) or ([(live[m.theme_id], None)] if m and m.theme_id in live else [])
                row["was_in"] = model.theme(m.theme_id) if m else None
                row["removed_by_human"] = bool(m and m.by_human and not m.placed)
        return self.render(request, "unplaced.html", {
            "rows": rows, "page": page, "pages": pages, "total": total, "targets": list(live.values()),
            "back": _page_url("/unplaced", page), "title": "Unplaced passages"})

    def source(self, request: Request) -> Response:
        source_id = request.path_params["source_id"]
        target = _int_or_none(request.query_params.get("passage"))
        with self.project() as project:
            try:
                source = project.source(source_id)
            except NotFoundError as exc:
                return self.error(request, 404, str(exc))
            passages = project.passages(source_id=source_id, current_only=False)
            themes = self.model(project).all_themes
            member = {}
            for pid, m in project.memberships_of([p.id for p in passages]).items():
                if m.placed and m.theme_id in themes:
                    member[pid] = themes[m.theme_id]
            also: dict[int, list[ThemeRow]] = {}  # a reviewer's further codings: a second tag each
            for c in project.codings(passage_ids=[p.id for p in passages]):
                if c.theme_id not in themes:
                    continue
                if c.passage_id not in member:  # its primary theme is gone: the coding is its highlight
                    member[c.passage_id] = themes[c.theme_id]
                elif member[c.passage_id].id != c.theme_id:
                    also.setdefault(c.passage_id, []).append(themes[c.theme_id])
            target_passage = next((p for p in passages if p.id == target), None)
            target_memos = project.live_memos(passage_ids=[target]) if target_passage else []
            target_category = _categories(project, [target]).get(target) if target_passage else None
            notes = project.source_notes(source_id)
            appraised = project.source_appraisals().get(source.name)
        segments = _segments(source.text, passages, member, target)
        current = [p for p in passages if p.source_id == source_id]
        for seg in segments:
            if seg["passage"] is not None:
                seg["also"] = also.get(seg["passage"].id, [])
        return self.render(request, "source.html", {
            "targets": [t for t in themes.values() if t.status in LIVE],
            "source": source, "segments": segments, "target": target_passage,
            "structure": [p for p in current if p.structure_kind is not None],
            "target_theme": member.get(target) if target else None,
            "target_memos": target_memos, "coded": len(member),
            "passage_count": len(passages), "notes": notes, "appraisal": appraised, "qualities": ("high", "moderate", "low"),
            "target_category": target_category,
            "back": f"/sources/{source_id}" + (f"?passage={target}#p{target}" if target_passage else ""),
            "title": source.name})

    def log(self, request: Request) -> Response:
        with self.project() as project:
            decisions = project.decisions()
        decisions.reverse()
        page, pages, shown = _paginate(decisions, request.query_params.get("page"), LOG_PAGE_SIZE)
        undone = {d.undoes for d in decisions if d.undoes is not None}
        return self.render(request, "log.html", {
            "entries": [(d, actions.describe(d), d.id in undone) for d in shown], "page": page, "pages": pages,
            "total": len(decisions), "title": "Decision log"})

    def search(self, request: Request) -> Response:
        q = request.query_params
        query = (q.get("q") or "").strip()
        kind = q.get("kind") if q.get("kind") in searching.SOURCE_KINDS else None
        theme_id = _int_or_none(q.get("theme"))
        like = _int_or_none(q.get("like"))
        semantic = q.get("mode") == "semantic"
        page = max(1, _int_or_none(q.get("page")) or 1)
        results, problem = None, None
        with self.project() as project:
            targets = project.theme_names(statuses=LIVE)  # no passage counts: cheap on large projects
            try:
                if like is not None:
                    results = searching.similar(project, passage_id=like, kind=kind, theme_id=theme_id,
                                                limit=SEARCH_PAGE_SIZE)
                elif query and semantic:
                    results = searching.similar(project, text=query, kind=kind, theme_id=theme_id,
                                                limit=SEARCH_PAGE_SIZE, embedder=self._query_embedder(project))
                elif query:
                    results = searching.search(project, query, kind=kind, theme_id=theme_id, limit=SEARCH_PAGE_SIZE,
                                               offset=(page - 1) * SEARCH_PAGE_SIZE)
            except SynthError as exc:
                problem = str(exc)
        params = {k: v for k, v in (("q", query), ("kind", kind or ""), ("theme", str(theme_id or "")),
                                    ("mode", "semantic" if semantic else ""), ("like", str(like or ""))) if v}
        pages = 1 if results is None or results.mode != "text" else max(1, -(-results.total // SEARCH_PAGE_SIZE))
        back = "/search?" + urlencode({**params, **({"page": page} if page > 1 else {})}, quote_via=quote, safe="")
        return self.render(request, "search.html", {
            "query": query, "kind": kind or "", "theme_filter": theme_id, "semantic": semantic, "like": like,
            "results": results, "problem": problem, "targets": targets, "kinds": searching.SOURCE_KINDS,
            "page": min(page, pages), "pages": pages,
            "page_base": "/search?" + urlencode(params, quote_via=quote, safe=""),
            "back": back if LOCAL_PAGE.match(back) else "/search", "title": f"Search: {query}" if query else "Search"},
            status=400 if problem else 200)

    def validation(self, request: Request) -> Response:
        from .. import validate

        with self.project() as project:
            samples = project.validation_samples()
            item = passage = source = report = None
            done = total = 0
            if samples:
                item, done, total = validate.next_item(project, self.s.reviewer)
                if item is not None:
                    passage = project.passage(item["passage_id"])
                    source = project.source(passage.source_id)
                report = validate.agreement(project)
            themes = project.themes()
            codable = project.counts()["codable"]
        return self.render(request, "validate.html", {
            "samples": samples, "item": item, "passage": passage, "source": source, "done": done, "total": total,
            "report": report, "themes": themes, "codable": codable, "back": "/validate", "title": "Validate"})


# --- what the pages show of passages ----------------------------------------------------------

def _passage_rows(model: ReadModel, passage_ids: list[int], probabilities: Mapping[int, float], *,
                  passages: Mapping[int, Passage] | None = None) -> list[dict]:
    """What a page shows of each passage: its text, source, category and memos, read for the whole
    page at once (a handful of queries, however many rows)."""
    project = model.project
    passages = passages if passages is not None else project.passages_by_id(passage_ids)
    categories = _categories(project, passage_ids)
    memos = _memos_by_passage(project.live_memos(passage_ids=passage_ids))
    model.read_sources([passages[pid].source_id for pid in passage_ids])
    rows = []
    for pid in passage_ids:
        p = passages[pid]
        c = categories.get(pid, {})
        rows.append({"id": p.id, "text": p.text, "source": model.source(p.source_id), "start": p.start_char,
                     "end": p.end_char, "speaker": p.speaker, "probability": probabilities.get(pid),
                     "section": p.section_heading, "structure": p.structure_kind, "category": c.get("category"),
                     "category_by": c.get("by"), "category_reasons": c.get("reasons", ()),
                     "memos": memos.get(pid, [])})
    return rows


def _categories(project: Project, passage_ids: list[int]) -> dict[int, dict]:
    """Each passage's current category (the reviewer's, else learned, else the machine's) and who set it."""
    from ..relearn import effective_categories

    return {pid: {"category": c.category, "by": c.by, "reasons": c.reasons}
            for pid, c in effective_categories(project, passage_ids).items()}


def _neighbours(themes: list[ThemeRow], theme_id: int) -> dict:
    """The previous and next theme under review, for stepping through themes with the keyboard (n / p)."""
    ids = [t.id for t in sorted(themes, key=lambda t: t.id) if t.status in STATUS_FILTERS["review"] or t.id == theme_id]
    at = ids.index(theme_id) if theme_id in ids else -1
    return {"prev_theme": ids[at - 1] if at > 0 else None,
            "next_theme": ids[at + 1] if 0 <= at < len(ids) - 1 else None}


def _memos_by_passage(memos: list) -> dict[int, list]:
    out: dict[int, list] = {}
    for m in memos:
        if m.passage_id is not None:
            out.setdefault(m.passage_id, []).append(m)
    return out


def _segments(text: str, passages: list, member: Mapping, target: int | None) -> list[dict]:
    """The source text cut into plain pieces and passage pieces, in order, covering it exactly once.

    Only text is handed to the template, which escapes it; overlapping passages (never made by
    segmentation, but possible in an old file) are clipped so no character is shown twice.
    """
    out = []
    at = 0
    for p in sorted(passages, key=lambda p: (p.start_char, p.end_char)):
        start, end = max(p.start_char, at), min(p.end_char, len(text))
        if end <= start:
            continue
        if start > at:
            out.append({"text": text[at:start], "passage": None})
        out.append({"text": text[start:end], "passage": p, "theme": member.get(p.id), "target": p.id == target})
        at = end
    if at < len(text):
        out.append({"text": text[at:], "passage": None})
    return out
