"""The review web app: one small view per page, Jinja templates, every change through `actions`.

`create_app(project_path, reviewer=...)` returns a Starlette app; nothing lives at module level.
Each request opens the project file, reads or acts, and closes it, so several apps (two reviewers)
and the CLI can work on the same file; stale edits are refused by the themes' revisions.

Safety: pages are rendered with autoescaping, so any source text shows as text; every POST must
carry the app session's token (hidden form field or X-CSRF-Token header) and its cookie; the Host
header must name this machine (against DNS rebinding); no request names a file: the project path
is fixed when the app is made, and requests carry only numeric ids.

The pages are in `pages`, the actions in `posts`, the reading of forms in `forms`; this module
makes the app and holds the plumbing they share (opening the project, rendering, errors, acting).
After a decision that teaches, the app's `relearner` updates the learned category suggestions in
the background; every page says while it does, and what it did.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import anyio
import jinja2
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
from .. import statuses
from ..store import Project
from ..readmodel import ReadModel
from . import actions
from .forms import PAGE_SIZE, _BadForm, _typed, _wants_json  # noqa: F401 (PAGE_SIZE re-exported)
from .pages import PageViews
from .posts import ActionViews
from .relearner import Relearner

HERE = Path(__file__).resolve().parent
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
    env.globals["statuses"] = statuses  # the status vocabulary and its moves, one table for every page
    templates = Jinja2Templates(env=env)
    relearner = Relearner(path)
    views = _Views(session, templates, relearner)
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
        Route("/check", views.check_next),
        Route("/validate", views.validation),
        Route("/validate/sample", views.validation_sample, methods=["POST"]),
        Route("/validate/{item_id:int}", views.validation_code, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    # Security headers outermost, so every answer carries them: the host check's 400 and a 500 too.
    middleware = [Middleware(_SecurityHeaders), Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # On shutdown (Ctrl-C): no relearn writes after this; one being computed ends unwritten.
        if not await anyio.to_thread.run_sync(relearner.stop):
            logging.getLogger("synth.review").warning("the background relearn's write did not finish in time; "
                                                      "its transaction is not committed")

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={404: views.not_found, SynthError: views.synth_error})
    app.state.relearner = relearner
    return app


class _Views(PageViews, ActionViews):
    def __init__(self, session: _Session, templates: Jinja2Templates, relearner: Relearner) -> None:
        self.s = session
        self.templates = templates
        self.relearner = relearner
        # What the read model keeps between requests (see ReadModel): theme summaries of a large
        # project take seconds to build, and a review action changes only the themes it touches;
        # whole-project counts are kept until the project file changes. Threads may both compute one
        # value at once: each gets a right answer, the dict keeps one.
        self._shared: dict = {}
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

    def model(self, project: Project) -> ReadModel:
        """The request's read model; theme summaries are kept across requests until their theme changes."""
        return ReadModel(project, shared=self._shared)

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
                last = project.latest_undoable(self.s.reviewer)
        except SynthError:  # the error page itself must not fail on the project
            last = None
        ctx = {"token": self.s.token, "reviewer": self.s.reviewer, "project_name": self.s.project_path.name,
               "flash": unquote(flash) if flash else None, "undo_of": last, "categories": CATEGORIES,
               "relearn": self.relearner.status(),
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
                  back: Callable[[FormData, actions.Outcome | None], str], *, teaches: bool = False) -> Response:
        """Run one action; `teaches`: it may change what the category suggestions learn from (a
        reviewer's category, an accepted theme's members or category), so they are relearned."""
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        default_back = back(form, None)
        try:
            with self.project(write=True) as project:
                outcome = do(project, form)
                if teaches:
                    self.relearner.decision_made(project)
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

