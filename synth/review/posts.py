"""The review app's actions (POST): each checks the session token, reads its form, calls one
review action inside a write transaction and sends the browser back (or answers JSON)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import SynthError
from ..statuses import TRANSITIONS
from ..store import Project
from . import actions, appraisal, coding

from .forms import _BadForm, _back, _field, _int_field, _int_or_none, _ints, _passage_ids, _revisions


class ActionViews:
    """The actions; part of the app's views (`app._Views`), which give `act`, `_form` and `error`."""

    async def create_theme(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            category = f.get("category") or None
            return coding.create_theme(p, str(f.get("label") or ""), _passage_ids(f), reviewer=self.s.reviewer,
                                       category=str(category) if category else None,
                                       definition=str(f.get("definition") or ""))

        def back(f: FormData, outcome: actions.Outcome | None) -> str:
            return f"/themes/{outcome.created[0]}" if outcome and outcome.created else _back(f, "/")
        return await self.act(request, do, back, teaches=True)

    async def code(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            return coding.add_to_theme(p, _int_field(f, "theme_id"), _passage_ids(f), reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: _back(f, "/"), teaches=True)

    async def theme_action(self, request: Request) -> Response:
        theme_id = request.path_params["theme_id"]
        action = request.path_params["action"]
        r = self.s.reviewer
        if action in TRANSITIONS:
            def do(p: Project, f: FormData) -> actions.Outcome:
                return actions.set_status(p, theme_id, action, reviewer=r, expected=_revisions(f, theme_id))
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
        # A theme's status, category and members teach (an accepted theme a reviewer categorised);
        # its label, definition, memos and confidence do not.
        return await self.act(request, do, back, teaches=action in TRANSITIONS or action in ("recategorise", "split"))

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
        return await self.act(request, do, back, teaches=True)

    async def move(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            return actions.move(p, _passage_ids(f), _int_field(f, "theme_id"), reviewer=self.s.reviewer,
                                expected=_revisions(f, *_ints(f.getlist("from_theme"))),
                                only_unplaced=f.get("only_unplaced") == "1")
        return await self.act(request, do, lambda f, o: _back(f, "/"), teaches=True)

    async def remove(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            from_themes = _ints(f.getlist("from_theme"))
            return actions.remove(p, _passage_ids(f), reviewer=self.s.reviewer,
                                  expected=_revisions(f, *from_themes),
                                  theme_id=from_themes[0] if len(from_themes) == 1 else None)
        return await self.act(request, do, lambda f, o: _back(f, "/"), teaches=True)

    async def passage_memo(self, request: Request) -> Response:
        passage_id = request.path_params["passage_id"]

        def do(p: Project, f: FormData) -> actions.Outcome:
            return actions.memo(p, _field(f, "text"), passage_id=passage_id, reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: _back(f, "/"))

    async def passage_categorise(self, request: Request) -> Response:
        """Set one passage's category; the learned suggestions follow in the background (a few seconds
        at 10,000 passages: the app's relearner), and the pages say when they have."""
        passage_id = request.path_params["passage_id"]

        def do(p: Project, f: FormData) -> actions.Outcome:
            category = f.get(f"category-{passage_id}") or f.get("category")
            if not isinstance(category, str):
                raise _BadForm("the form has no category for this passage")
            return actions.categorise(p, [passage_id], category, reviewer=self.s.reviewer)

        def back(f: FormData, o: actions.Outcome | None) -> str:
            url = _back(f, "/")
            anchor = {"/sources/": "p", "/themes/": "m", "/unplaced": "u"}
            mark = next((m for prefix, m in anchor.items() if url.startswith(prefix)), None)
            return url if "#" in url or mark is None else f"{url}#{mark}{passage_id}"  # back to the same passage
        return await self.act(request, do, back, teaches=True)

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
        return await self.act(request, do, lambda f, o: _back(f, "/"), teaches=True)

    async def appraise(self, request: Request) -> Response:
        source_id = request.path_params["source_id"]

        def do(p: Project, f: FormData) -> actions.Outcome:
            return appraisal.appraise(p, source_id, _field(f, "quality"), str(f.get("note") or ""),
                                      reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: _back(f, f"/sources/{source_id}"))

    async def undo(self, request: Request) -> Response:
        def do(p: Project, f: FormData) -> actions.Outcome:
            return actions.undo(p, reviewer=self.s.reviewer)
        return await self.act(request, do, lambda f, o: _back(f, "/"), teaches=True)
