"""The review app answers hostile ids and numbers with 404/400, never a 500, and every answer,
errors included, carries the security headers. Issue 12, item 17; the favicon from the UX list."""

from __future__ import annotations

import re

import httpx
import pytest

from synth.review.app import create_app
from review_fixture import Built
from test_review_http import anyio_backend  # noqa: F401 (a fixture)

pytestmark = pytest.mark.anyio
BASE = "http://127.0.0.1"
HUGE = str(2**63)  # one past SQLite's largest integer
HUGER = "9" * 40


@pytest.fixture
async def client(built: Built):
    app = create_app(built.path, reviewer="tester")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url=BASE) as c:
        yield c


def _secure(r: httpx.Response) -> None:
    assert "default-src 'none'" in r.headers.get("content-security-policy", ""), (r.status_code, dict(r.headers))
    assert r.headers.get("x-content-type-options") == "nosniff"
    assert "Traceback" not in r.text


async def _form(client, url="/") -> dict:
    r = await client.get(url)
    fields = {"csrf_token": re.search(r'<meta name="csrf-token" content="([^"]+)">', r.text).group(1)}
    fields.update(re.findall(r'name="(rev-\d+)" value="(\d+)"', r.text))
    return fields


@pytest.mark.parametrize("url", [f"/themes/{HUGE}", f"/themes/{HUGER}", f"/sources/{HUGE}", f"/sources/{HUGER}"])
async def test_huge_ids_in_pages_are_404(client, url) -> None:
    r = await client.get(url)
    assert r.status_code == 404
    _secure(r)


@pytest.mark.parametrize("action", ["accept", "reject", "rename", "split", "memo"])
async def test_huge_ids_in_actions_are_404(client, action) -> None:
    fields = await _form(client)
    r = await client.post(f"/themes/{HUGE}/{action}", data={**fields, f"rev-{HUGE}": "1", "label": "x", "text": "x",
                                                           "k": "2"})
    assert r.status_code in (400, 404), r.text
    _secure(r)
    r = await client.post(f"/passages/{HUGE}/memo", data={**fields, "text": "x"})
    assert r.status_code == 404
    _secure(r)


@pytest.mark.parametrize("k", ["²", "٣", "3\u0663", HUGE, "-2", "2.0", ""])
async def test_split_with_a_strange_k_is_a_400(client, built: Built, k) -> None:
    theme = built.themes["A"]
    fields = await _form(client, f"/themes/{theme}")
    r = await client.post(f"/themes/{theme}/split", data={**fields, "k": k})
    assert r.status_code == 400, (k, r.status_code, r.text[:300])
    _secure(r)


async def test_huge_ids_in_form_fields_are_a_400(client, built: Built) -> None:
    fields = await _form(client)
    r = await client.post("/merge", data={**fields, "target": HUGE, "theme": [str(built.themes["A"])]})
    assert r.status_code == 400
    _secure(r)
    r = await client.post("/passages/move", data={**fields, "theme_id": str(built.themes["A"]), "passage": [HUGE]})
    assert r.status_code == 400
    _secure(r)


async def test_a_bad_host_400_carries_the_headers(built: Built) -> None:
    app = create_app(built.path, reviewer="tester")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://evil.example") as c:
        r = await c.get("/")
    assert r.status_code == 400
    _secure(r)


async def test_a_defect_is_a_plain_500_with_the_headers(built: Built, monkeypatch) -> None:
    from synth.readmodel import ReadModel

    def broken(*args, **kwargs):
        raise RuntimeError("a defect")

    monkeypatch.setattr(ReadModel, "entries", broken)
    app = create_app(built.path, reviewer="tester")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url=BASE) as c:
        r = await c.get("/")
    assert r.status_code == 500
    _secure(r)
    assert "a defect" not in r.text


async def test_the_favicon_is_served(client) -> None:
    r = await client.get("/favicon.ico", follow_redirects=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.text.lstrip().startswith("<svg")
    page = (await client.get("/")).text
    assert 'rel="icon" href="/static/favicon.svg"' in page


# --- UX: split lands on the first part; a stale edit blames the right person and keeps the text -----

async def test_after_a_split_the_browser_lands_on_the_first_part(client, built: Built) -> None:
    a = built.themes["A"]
    fields = await _form(client, f"/themes/{a}")
    r = await client.post(f"/themes/{a}/split", data={**fields, "k": "2", "back": f"/themes/{a}"})
    assert r.status_code == 303
    from synth.store import Project

    with Project.open(built.path, create=False) as p:
        first = min(t.id for t in p.themes() if t.parent_id == a)
    assert r.headers["location"] == f"/themes/{first}"


async def test_a_stale_edit_from_my_other_tab_is_not_blamed_on_someone_else(built: Built) -> None:
    a = built.themes["A"]
    app = create_app(built.path, reviewer="alice")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as tab1, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as tab2:
        f1 = await _form(tab1, f"/themes/{a}")
        f2 = await _form(tab2, f"/themes/{a}")
        assert (await tab1.post(f"/themes/{a}/rename", data={**f1, "label": "From tab one"})).status_code == 303
        typed = "A careful definition that took ten minutes to write, with <b>markup</b> & more."
        r = await tab2.post(f"/themes/{a}/define", data={**f2, "definition": typed})
    assert r.status_code == 409
    _secure(r)
    import html as html_module

    text = html_module.unescape(r.text)
    assert "someone else" not in text.lower()
    assert "You changed this theme in another tab or window" in text and "rename" in text
    assert typed in text and "<b>markup</b>" not in r.text  # kept, and escaped
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(built.path, reviewer="bob")),
                                 base_url=BASE) as bob:
        fb = await _form(bob, f"/themes/{a}")
        fb[f"rev-{a}"] = "1"
        r = await bob.post(f"/themes/{a}/rename", data={**fb, "label": "Bob's label"})
    assert r.status_code == 409
    text = html_module.unescape(r.text)
    assert "changed by someone else" in text and "alice" in text and "Bob's label" in text
