"""Reading the review app's requests: form fields and query values checked and turned into ids,
and where a form may send the browser back to. A bad value is a `_BadForm` (a 400, said plainly)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request

from ..store import MAX_ROW_ID

PAGE_SIZE = 100
# Where a form may send the browser back to: a page of this app, never another site.
LOCAL_PAGE = re.compile(r"^/(?:themes/\d+|unplaced|sources/\d+|log|search|validate)?(?:\?[A-Za-z0-9_=&%.-]*)?(?:#[pmu]\d+)?$")


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
