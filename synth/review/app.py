"""The review web app: one small view per page, Jinja templates, every change through `actions`.

`create_app(project_path, reviewer=...)` returns a Starlette app; nothing lives at module level.
Each request opens the project file, reads or acts, and closes it, so several apps (two reviewers)
and the CLI can work on the same file; stale edits are refused by the themes' revisions.

Safety: pages are rendered with autoescaping, so any source text shows as text; every POST must
carry the app session's token (hidden form field or X-CSRF-Token header) and its cookie; the Host
header must name this machine (against DNS rebinding); no request names a file: the project path
is fixed when the app is made, and requests carry only numeric ids.

Over 450 lines because it holds one view per page and per action, with the request plumbing they
share; the read model of issue 12 is to take the queries and summaries out.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

import jinja2
import numpy as np
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..errors import ConflictError, NotFoundError, ProjectBusyError, ProjectReadOnlyError, SynthError
from ..records import CATEGORIES
from ..store import MAX_ROW_ID, THEME_STATUSES, Project, ThemeRow
from ..summary import ProjectView, ThemeSummary, list_entries, summarise
from .. import search as searching
from . import actions, appraisal, coding

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 100
LOG_PAGE_SIZE = 200
NEAREST = 3
STATUS_FILTERS = {
    "review": ("suggested", "accepted", "rejected"),
    "all": THEME_STATUSES,
    **{s: (s,) for s in THEME_STATUSES},
}
SORTS = ("id", "label", "size", "spread", "confidence")
# Where a form may send the browser back to: a page of this app, never another site.
LOCAL_PAGE = re.compile(r"^/(?:themes/\d+|unplaced|sources/\d+|log|search|validate)?(?:\?[A-Za-z0-9_=&%.-]*)?(?:#[pmu]\d+)?$")
SEARCH_PAGE_SIZE = 50
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
     b"base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class _SecurityHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", []))
                names = {k.lower() for k, _ in message["headers"]}
                message["headers"] += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            # A defect, not a user's error: the browser gets a plain 500 with the same headers as
            # every other response (no traceback), the server's log gets the traceback.
            if started:
                raise
            logging.getLogger("synth.review").exception("error while answering %s %s", scope.get("method"),
                                                         scope.get("path"))
            await with_headers({"type": "http.response.start", "status": 500,
                                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"Internal error: synth could not answer this "
                                                              b"request. The project is unchanged.\n"})


@dataclass(frozen=True)
class _Session:
    """What one running app shares between its requests (never module-level)."""

    project_path: Path
    reviewer: str
    token: str
    cookie: str  # name of the token cookie; per app, so two apps on one host don't clash
    flash_cookie: str


def create_app(project_path: str | Path, *, reviewer: str,
               allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Starlette:
    """The review app for one project file, acting as `reviewer`."""
    path = Path(project_path)
    # Fail now, with the store's message, not on the first page; bring an older project's schema up
    # to date. A read-only project (or one a discover is writing) is still reviewed: its pages work
    # and each change says why it cannot be saved.
    try:
        Project.open(path, create=False).close()
    except (ProjectBusyError, ProjectReadOnlyError):
        Project.open(path, write=False).close()
    suffix = secrets.token_hex(4)
    session = _Session(path, reviewer, secrets.token_urlsafe(32), f"synth_token_{suffix}", f"synth_flash_{suffix}")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda x: "" if x is None else f"{x:.0%}"
    env.filters["num"] = lambda x, d=2: "" if x is None else f"{x:.{d}f}"
    templates = Jinja2Templates(env=env)
    views = _Views(session, templates)
    routes = [
        Route("/", views.themes),
        Route("/themes/{theme_id:int}", views.theme),
        Route("/unplaced", views.unplaced),
        Route("/sources/{source_id:int}", views.source),
        Route("/log", views.log),
        Route("/search", views.search),
        Route("/themes/new", views.create_theme, methods=["POST"]),
        Route("/passages/code", views.code, methods=["POST"]),
        Route("/themes/{theme_id:int}/{action:str}", views.theme_action, methods=["POST"]),
        Route("/merge", views.merge, methods=["POST"]),
        Route("/passages/move", views.move, methods=["POST"]),
        Route("/passages/remove", views.remove, methods=["POST"]),
        Route("/passages/{passage_id:int}/memo", views.passage_memo, methods=["POST"]),
        Route("/passages/{passage_id:int}/include", views.passage_include, methods=["POST"]),
        Route("/sources/{source_id:int}/appraise", views.appraise, methods=["POST"]),
        Route("/undo", views.undo, methods=["POST"]),
        # Browsers ask for /favicon.ico whatever the page says: send them to the SVG icon.
        Route("/favicon.ico", lambda request: RedirectResponse("/static/favicon.svg", status_code=301)),
        Route("/passages/{passage_id:int}/categorise", views.passage_categorise, methods=["POST"]),
        Route("/validate", views.validation),
        Route("/validate/sample", views.validation_sample, methods=["POST"]),
        Route("/validate/{item_id:int}", views.validation_code, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    # Security headers outermost, so every answer carries them: the host check's 400 and a 500 too.
    middleware = [Middleware(_SecurityHeaders), Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))]
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={404: views.not_found, SynthError: views.synth_error})


class _Views:
    def __init__(self, session: _Session, templates: Jinja2Templates) -> None:
        self.s = session
        self.templates = templates
        # Theme summaries of a large project take seconds to build, and a review action changes only
        # the themes it touches: keep each summary until its theme, the run or the sources change.
        self._summaries: dict[int, tuple[tuple, ThemeSummary]] = {}
        self._embedder: tuple[str, object] | None = None  # (model id, embedder) for searches by meaning

    def _query_embedder(self, project: Project) -> object | None:
        """The project's embedding route, loaded once per app: a search by meaning embeds its words."""
        run = project.latest_run()
        if run is None:
            return None  # `similar` says that nothing is embedded yet
        if self._embedder is None or self._embedder[0] != run["model_id"]:
            from ..fast_embed import embedder_for, route_of_model_id  # loads the model only when asked

            self._embedder = (run["model_id"], embedder_for(route_of_model_id(run["model_id"])))
        return self._embedder[1]

    def _summary(self, project: Project, view: ProjectView, theme: ThemeRow, world: tuple) -> ThemeSummary:
        key = (theme.revision, theme.updated_at, theme.status, theme.size, world)
        cached = self._summaries.get(theme.id)
        if cached is None or cached[0] != key:
            cached = (key, summarise(view, theme))
            self._summaries[theme.id] = cached
        return cached[1]

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def project(self, *, write: bool = False) -> Iterator[Project]:
        """The project for one request: pages only read it (and never wait for a writer)."""
        project = Project.open(self.s.project_path, create=False, write=write)
        try:
            yield project
        finally:
            project.close()

    def render(self, request: Request, name: str, context: dict, status: int = 200) -> Response:
        flash = request.cookies.get(self.s.flash_cookie)
        try:
            with self.project() as project:
                last = actions.undoable(project, self.s.reviewer)
        except SynthError:  # the error page itself must not fail on the project
            last = None
        ctx = {"token": self.s.token, "reviewer": self.s.reviewer, "project_name": self.s.project_path.name,
               "flash": unquote(flash) if flash else None, "undo_of": last, "categories": CATEGORIES,
               "path": request.url.path, "title": "Error", "back": "/", **context}
        response = self.templates.TemplateResponse(request, name, ctx, status_code=status)
        response.set_cookie(self.s.cookie, self.s.token, httponly=True, samesite="strict")
        if flash:
            response.delete_cookie(self.s.flash_cookie)
        return response

    def error(self, request: Request, status: int, message: str, back: str = "/",
              typed: list[tuple[str, str]] | None = None) -> Response:
        """An error page; `typed` is the text the reviewer wrote in a refused form, shown back to them
        so nothing they typed is lost (a stale page is refused, but their words are not)."""
        if _wants_json(request):
            return JSONResponse({"ok": False, "error": message, "typed": dict(typed or [])}, status_code=status)
        return self.render(request, "error.html", {"status": status, "message": message, "back": back,
                                                   "typed": typed or []}, status)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return self.error(request, 404, "No such page.")

    async def synth_error(self, request: Request, exc: Exception) -> Response:
        """A page that cannot be shown because of the project file (damaged, removed): say why."""
        return self.error(request, 503, str(exc))

    async def _form(self, request: Request) -> FormData | Response:
        """The request's form, if it carries this session's token (else a 403 response)."""
        form = await request.form()
        sent = str(form.get("csrf_token") or request.headers.get("x-csrf-token") or "")
        cookie = request.cookies.get(self.s.cookie, "")
        if not (hmac.compare_digest(sent, self.s.token) and hmac.compare_digest(cookie, self.s.token)):
            return self.error(request, 403, "This form has expired or did not come from this review app; "
                                            "reload the page and try again.")
        return form

    async def act(self, request: Request, do: Callable[[Project, FormData], actions.Outcome],
                  back: Callable[[FormData, actions.Outcome | None], str]) -> Response:
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        default_back = back(form, None)
        try:
            with self.project(write=True) as project:
                outcome = do(project, form)
        except ConflictError as exc:
            return self.error(request, 409, str(exc), default_back, typed=_typed(form))
        except ProjectBusyError as exc:
            return self.error(request, 503, str(exc), default_back)
        except NotFoundError as exc:
            return self.error(request, 404, str(exc), default_back, typed=_typed(form))
        except (SynthError, _BadForm) as exc:
            return self.error(request, 400, str(exc), default_back, typed=_typed(form))
        if _wants_json(request):
            return JSONResponse({"ok": True, "message": outcome.message, "decision": outcome.decision_id,
                                 "created": list(outcome.created)})
        response = RedirectResponse(back(form, outcome), status_code=303)
        response.set_cookie(self.s.flash_cookie, quote(outcome.message), httponly=True, samesite="strict")
        return response

    # -- pages ---------------------------------------------------------------------------------

    def themes(self, request: Request) -> Response:
        q = request.query_params
        status = q.get("status", "review") if q.get("status") in STATUS_FILTERS else "review"
        category = q.get("category", "") if q.get("category") in (*CATEGORIES, "none") else ""
        sort = q.get("sort", "id") if q.get("sort") in SORTS else "id"
        with self.project() as project:
            summaries = list_entries(project, STATUS_FILTERS[status])
        if category:
            summaries = [s for s in summaries if (s.category or "none") == category]
        keys = {"id": lambda s: s.id, "label": lambda s: s.label.lower(), "size": lambda s: (-s.size, s.id),
                "spread": lambda s: (-s.spread.sources, -s.size, s.id),
                "confidence": lambda s: (-(s.confidence or 0.0), s.id)}
        summaries.sort(key=keys[sort])
        live = [s for s in summaries if s.status in actions.LIVE]  # merge targets: shown, with their revision
        return self.render(request, "themes.html", {
            "summaries": summaries, "live": live, "status": status, "category": category, "sort": sort,
            "status_filters": list(STATUS_FILTERS), "sorts": SORTS, "title": "Themes"})

    def theme(self, request: Request) -> Response:
        theme_id = request.path_params["theme_id"]
        with self.project() as project:
            try:
                theme = project.theme(theme_id)
            except NotFoundError as exc:
                return self.error(request, 404, str(exc))
            view = ProjectView(project)
            summary = self._summary(project, view, theme, _world(project))
            members = project.theme_members(theme_id)  # placed members and a reviewer's further codings
            page, pages, shown = _paginate(members, request.query_params.get("page"))
            categories = _categories(project, [pid for pid, _, _ in shown])
            memos = actions.memos(project)
            rows = [_passage_row(view, pid, categories, None if not primary else probability)
                    for pid, probability, primary in shown]
            all_themes = {t.id: t for t in project.themes(statuses=THEME_STATUSES)}
            for row, (pid, _, primary) in zip(rows, shown):
                m = None if primary else project.membership(pid)
                row["primary"] = primary
                row["primary_theme"] = all_themes.get(m.theme_id) if m is not None and m.placed else None
            history = [(d, actions.describe(d)) for d in project.decisions(theme_id=theme_id)]
            from ..evidence import LEVELS, profiles_for  # the evidence profile (GRADE-CERQual) of this theme

            profile = profiles_for(project, [theme])[theme.id]
        passage_memos = _memos_by_passage(memos)
        for row in rows:
            row["memos"] = passage_memos.get(row["id"], [])
        _mark_label(rows, summary.label_locations)
        return self.render(request, "theme.html", {
            "theme": theme, "summary": summary, "rows": rows, "page": page, "pages": pages,
            "member_count": len(members),
            "theme_memos": [m for m in memos if m.theme_id == theme_id and m.passage_id is None],
            "history": history, "profile": profile, "levels": LEVELS,
            "parent": all_themes.get(theme.parent_id) if theme.parent_id else None,
            "merged_into": all_themes.get(theme.merged_into) if theme.merged_into else None,
            "children": [t for t in all_themes.values() if t.parent_id == theme.id],
            "merged_in": [t for t in all_themes.values() if t.merged_into == theme.id],
            "targets": [t for t in all_themes.values() if t.status in actions.LIVE and t.id != theme.id],
            **_neighbours(list(all_themes.values()), theme.id),
            "back": _page_url(f"/themes/{theme_id}", page), "title": theme.label})

    def unplaced(self, request: Request) -> Response:
        with self.project() as project:
            view = ProjectView(project)
            live = {t.id: t for t in project.themes()}
            placed = {m.passage_id for m in project.memberships(placed=True) if m.theme_id in live}
            placed |= {c.passage_id for c in project.codings() if c.theme_id in live}  # coded by a reviewer
            candidates = [p for p in project.passages(codable_only=True) if p.id not in placed]
            page, pages, shown = _paginate(candidates, request.query_params.get("page"))
            categories = _categories(project, [p.id for p in shown])
            rows = [_passage_row(view, p.id, categories) for p in shown]
            nearest = _nearest_themes(project, shown, live)
            for row, p in zip(rows, shown):
                m = project.membership(p.id)
                row["nearest"] = nearest.get(p.id) or ([(live[m.theme_id], None)] if m and m.theme_id in live else [])
                row["was_in"] = project.theme(m.theme_id) if m else None
                row["removed_by_human"] = bool(m and m.by_human and not m.placed)
            memos = _memos_by_passage(actions.memos(project))
        for row in rows:
            row["memos"] = memos.get(row["id"], [])
        return self.render(request, "unplaced.html", {
            "rows": rows, "page": page, "pages": pages, "total": len(candidates), "targets": list(live.values()),
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
            themes = {t.id: t for t in project.themes(statuses=THEME_STATUSES)}
            member = {}
            for p in passages:
                m = project.membership(p.id)
                if m is not None and m.placed and m.theme_id in themes:
                    member[p.id] = themes[m.theme_id]
            also: dict[int, list[ThemeRow]] = {}  # a reviewer's further codings: a second tag each
            for c in project.codings(passage_ids=[p.id for p in passages]):
                if c.theme_id not in themes:
                    continue
                if c.passage_id not in member:  # its primary theme is gone: the coding is its highlight
                    member[c.passage_id] = themes[c.theme_id]
                elif member[c.passage_id].id != c.theme_id:
                    also.setdefault(c.passage_id, []).append(themes[c.theme_id])
            memos = _memos_by_passage(actions.memos(project))
            target_passage = next((p for p in passages if p.id == target), None)
            target_category = _categories(project, [target]).get(target) if target_passage else None
            notes = project.source_notes(source_id)
            appraised = project.source_appraisals().get(source.name)
        segments = _segments(source.text, passages, member, target)
        current = [p for p in passages if p.source_id == source_id]
        for seg in segments:
            if seg["passage"] is not None:
                seg["also"] = also.get(seg["passage"].id, [])
        return self.render(request, "source.html", {
            "targets": [t for t in themes.values() if t.status in actions.LIVE],
            "source": source, "segments": segments, "target": target_passage,
            "structure": [p for p in current if p.structure_kind is not None],
            "target_theme": member.get(target) if target else None,
            "target_memos": memos.get(target, []) if target else [], "coded": len(member),
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
            targets = project.theme_names(statuses=actions.LIVE)  # no passage counts: cheap on large projects
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

    async def create_theme(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            category = f.get("category") or None
            return coding.create_theme(p, str(f.get("label") or ""), _passage_ids(f), reviewer=self.s.reviewer,
                                       category=str(category) if category else None,
                                       definition=str(f.get("definition") or ""))

        def back(f: FormData, outcome: actions.Outcome | None) -> str:
            return f"/themes/{outcome.created[0]}" if outcome and outcome.created else _back(f, "/")
        return await self.act(request, do, back)

    async def code(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            return coding.add_to_theme(p, _int_field(f, "theme_id"), _passage_ids(f), reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: _back(f, "/"))

    # -- actions -------------------------------------------------------------------------------

    async def theme_action(self, request: Request) -> Response:
        theme_id = request.path_params["theme_id"]
        action = request.path_params["action"]
        r = self.s.reviewer
        simple = {"accept": actions.accept, "reject": actions.reject, "restore": actions.restore}
        if action in simple:
            def do(p: Project, f: FormData) -> actions.Outcome:
                return simple[action](p, theme_id, reviewer=r, expected=_revisions(f, theme_id))
        elif action in ("rename", "define", "recategorise"):
            fn, field = {"rename": (actions.rename, "label"), "define": (actions.define, "definition"),
                         "recategorise": (actions.recategorise, "category")}[action]

            def do(p: Project, f: FormData) -> actions.Outcome:
                return fn(p, theme_id, _field(f, field), reviewer=r, expected=_revisions(f, theme_id))
        elif action == "split":
            def do(p: Project, f: FormData) -> actions.Outcome:
                by_category = f.get("by") == "category"
                k = None if by_category else _int_field(f, "k")
                return actions.split(p, theme_id, k=k, by_category=by_category, reviewer=r,
                                     expected=_revisions(f, theme_id))
        elif action == "memo":
            def do(p: Project, f: FormData) -> actions.Outcome:
                return actions.memo(p, _field(f, "text"), theme_id=theme_id, reviewer=r)
        elif action == "confidence":
            def do(p: Project, f: FormData) -> actions.Outcome:
                return appraisal.set_confidence(p, theme_id, _field(f, "level"), _field(f, "reason"), reviewer=r)
        else:
            return self.error(request, 404, f"no action {action!r}; use accept, reject, restore, rename, define, "
                                            "recategorise, split, memo or confidence")
        def back(f: FormData, outcome: actions.Outcome | None) -> str:
            if action == "split" and outcome and outcome.created:
                return f"/themes/{outcome.created[0]}"  # the parent is retired: show the first part
            return _back(f, f"/themes/{theme_id}")
        return await self.act(request, do, back)

    async def merge(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            target = _int_field(f, "target")
            others = [v for v in _ints(f.getlist("theme")) if v != target]
            if not others:
                raise _BadForm("tick at least one theme, other than the target, to merge into it")
            return actions.merge(p, target, others, reviewer=self.s.reviewer,
                                 expected=_revisions(f, target, *others))

        def back(f: FormData, outcome: actions.Outcome | None) -> str:
            target = _int_or_none(f.get("target"))
            return f"/themes/{target}" if outcome and target else _back(f, "/")
        return await self.act(request, do, back)

    async def move(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            return actions.move(p, _passage_ids(f), _int_field(f, "theme_id"), reviewer=self.s.reviewer,
                                expected=_revisions(f, *_ints(f.getlist("from_theme"))),
                                only_unplaced=f.get("only_unplaced") == "1")
        return await self.act(request, do, lambda f, o: _back(f, "/"))

    async def remove(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            from_themes = _ints(f.getlist("from_theme"))
            return actions.remove(p, _passage_ids(f), reviewer=self.s.reviewer,
                                  expected=_revisions(f, *from_themes),
                                  theme_id=from_themes[0] if len(from_themes) == 1 else None)
        return await self.act(request, do, lambda f, o: _back(f, "/"))

    async def passage_memo(self, request: Request) -> Response:
        passage_id = request.path_params["passage_id"]

        def do(p: Project, f: FormData) -> actions.Outcome:
            return actions.memo(p, _field(f, "text"), passage_id=passage_id, reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: _back(f, "/"))

    async def passage_categorise(self, request: Request) -> Response:
        """Set one passage's category; the learned suggestions are refreshed at once (cheap: one small fit)."""
        passage_id = request.path_params["passage_id"]

        def do(p: Project, f: FormData) -> actions.Outcome:
            from ..relearn import refresh_learned_categories

            category = f.get(f"category-{passage_id}") or f.get("category")
            if not isinstance(category, str):
                raise _BadForm("the form has no category for this passage")
            outcome = actions.categorise(p, [passage_id], category, reviewer=self.s.reviewer)
            with p.transaction():
                changed = refresh_learned_categories(p)
            if changed:
                return actions.Outcome(outcome.decision_id, f"{outcome.message}; {changed} suggestion(s) updated")
            return outcome

        def back(f: FormData, o: actions.Outcome | None) -> str:
            url = _back(f, "/")
            anchor = {"/sources/": "p", "/themes/": "m", "/unplaced": "u"}
            mark = next((m for prefix, m in anchor.items() if url.startswith(prefix)), None)
            return url if "#" in url or mark is None else f"{url}#{mark}{passage_id}"  # back to the same passage
        return await self.act(request, do, back)

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

    async def validation_sample(self, request: Request) -> Response:
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        from .. import validate

        try:
            size = _int_field(form, "size")
            seed = _int_or_none(form.get("seed")) or 0
            with self.project(write=True) as project:
                sample_id, counts = validate.draw_sample(project, size, seed=seed, reviewer=self.s.reviewer)
        except (SynthError, _BadForm) as exc:
            return self.error(request, 400, str(exc), "/validate")
        response = RedirectResponse("/validate", status_code=303)
        response.set_cookie(self.s.flash_cookie, quote(f"drew validation sample {sample_id}: {size} passages from "
                                                       f"{len(counts)} strata"), httponly=True, samesite="strict")
        return response

    async def validation_code(self, request: Request) -> Response:
        item_id = request.path_params["item_id"]

        def do(p: Project, f: FormData) -> actions.Outcome:
            theme = _field(f, "theme_id")
            theme_id = None if theme == "none" else _int_or_none(theme)
            if theme_id is None and theme != "none":
                raise _BadForm("choose a theme, or 'none of these'")
            return actions.code_validation_item(p, item_id, theme_id, _field(f, "category"), reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: "/validate")
    async def passage_include(self, request: Request) -> Response:
        passage_id = request.path_params["passage_id"]

        def do(p: Project, f: FormData) -> actions.Outcome:
            return actions.include(p, [passage_id], reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: _back(f, "/"))

    async def appraise(self, request: Request) -> Response:
        source_id = request.path_params["source_id"]

        def do(p: Project, f: FormData) -> actions.Outcome:
            return appraisal.appraise(p, source_id, _field(f, "quality"), str(f.get("note") or ""),
                                      reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: _back(f, f"/sources/{source_id}"))

    async def undo(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            return actions.undo(p, reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: _back(f, "/"))


# --- helpers --------------------------------------------------------------------------------------

class _BadForm(Exception):
    """A form field that is missing or malformed (a 400, said plainly)."""


TYPED_FIELDS = {"label": "Label", "definition": "Definition", "text": "Memo"}


def _typed(form: FormData) -> list[tuple[str, str]]:
    """The free text a form carried (label, definition, memo), to show back when the edit is refused."""
    return [(name, value) for key, name in TYPED_FIELDS.items()
            if isinstance(value := form.get(key), str) and value.strip()]


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    if value is None or not isinstance(value, str):
        raise _BadForm(f"the form has no {name!r} field")
    return value


def _int_or_none(value: object) -> int | None:
    """A whole number written in ASCII digits that SQLite can hold; anything else (a superscript
    '²' or Arabic-Indic digit passes str.isdigit) is None, answered as a 400, never a crash."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19):
        return None
    number = int(value)
    return number if number <= MAX_ROW_ID else None


def _int_field(form: FormData, name: str) -> int:
    value = _int_or_none(form.get(name))
    if value is None:
        raise _BadForm(f"the form's {name!r} field must be a whole number")
    return value


def _ints(values: list) -> list[int]:
    return [n for n in (_int_or_none(v) for v in values) if n is not None]


def _passage_ids(form: FormData) -> list[int]:
    ids = _ints(form.getlist("passage"))
    if not ids:
        raise _BadForm("tick at least one passage first")
    return ids


def _revisions(form: FormData, *theme_ids: int) -> dict[int, int]:
    """The revision the page showed for each theme an edit involves: required, so no edit is blind."""
    out = {}
    for theme_id in theme_ids:
        value = _int_or_none(form.get(f"rev-{theme_id}"))
        if value is None:
            raise _BadForm(f"the form does not say which revision of theme {theme_id} it was made from; reload the page")
        out[theme_id] = value
    return out


def _back(form: FormData, default: str) -> str:
    back = form.get("back")
    return back if isinstance(back, str) and LOCAL_PAGE.match(back) else default


def _page_url(base: str, page: int) -> str:
    return base if page == 1 else f"{base}?{urlencode({'page': page})}"


def _paginate(items: list, page: str | None, size: int = PAGE_SIZE) -> tuple[int, int, list]:
    pages = max(1, -(-len(items) // size))
    number = min(max(_int_or_none(page) or 1, 1), pages)
    return number, pages, items[(number - 1) * size:number * size]


def _world(project: Project) -> tuple:
    """What every summary depends on beyond its own theme: the latest run, and the sources."""
    return project.db.execute(
        "SELECT (SELECT MAX(id) FROM runs), (SELECT COUNT(*) FROM sources WHERE is_current = 1),"
        " (SELECT MAX(id) FROM sources), (SELECT COUNT(*) FROM source_metadata)"
    ).fetchone()[:]


def _passage_row(view: ProjectView, passage_id: int, categories: Mapping[int, dict],
                 probability: float | None = None) -> dict:
    p = view.passage(passage_id)
    source = view.source(p.source_id)
    return {"id": p.id, "text": p.text, "source": source, "start": p.start_char, "end": p.end_char,
            "speaker": p.speaker, "probability": probability, "section": p.section_heading,
            "structure": p.structure_kind,
            "category": categories.get(p.id, {}).get("category"), "category_by": categories.get(p.id, {}).get("by"),
            "category_reasons": categories.get(p.id, {}).get("reasons", ())}


def _mark_label(rows: list[dict], locations: Sequence[Mapping]) -> None:
    """Cut each row's text where the theme's label occurs, so the page can highlight it (issue 13, item 4)."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for loc in locations:
        spans.setdefault(loc["passage_id"], []).append((loc["start"], loc["end"]))
    for row in rows:
        at, parts = 0, []
        for start, end in sorted(spans.get(row["id"], ())):
            if start < at:
                continue
            parts += [(row["text"][at:start], False), (row["text"][start:end], True)]
            at = end
        if parts:
            row["text_parts"] = [*parts, (row["text"][at:], False)]


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


def _nearest_themes(project: Project, passages: list, live: Mapping) -> dict[int, list]:
    """Up to NEAREST live themes per passage, by cosine similarity of its embedding to theme centroids."""
    run = project.latest_run()
    if run is None or not passages or not live:
        return {}
    vectors = project.cached_embeddings(run["model_id"], [p.text_sha256 for p in passages])
    centroids = {tid: project.theme_centroid(tid) for tid in live}
    ids = [tid for tid, c in centroids.items() if c is not None]
    if not vectors or not ids:
        return {}
    c = np.stack([centroids[t] for t in ids]).astype(np.float64)
    if len({v.shape for v in vectors.values()} | {c.shape[1:]}) != 1:
        return {}  # vectors and centroids from different models: no honest similarity
    c /= np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
    out = {}
    for p in passages:
        v = vectors.get(p.text_sha256)
        if v is None:
            continue
        sims = c @ (v / max(float(np.linalg.norm(v)), 1e-12))
        order = np.argsort(-sims)[:NEAREST]
        out[p.id] = [(live[ids[i]], float(sims[i])) for i in order]
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
