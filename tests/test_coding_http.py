"""Search and building themes in the review app over real HTTP: the search box on every page, the
results page (highlights escaped, source and offsets, theme and category), new theme / add to theme
from ticked passages on every list, coding from the source view, and the CSP kept intact."""

from __future__ import annotations

import re

import httpx
import pytest
from markupsafe import escape

from review_fixture import HOSTILE, Built
from test_review_http import anyio_backend, client, client_for, page, post, state  # noqa: F401 (fixtures)

pytestmark = pytest.mark.anyio


async def test_every_page_has_the_search_box(client, built: Built) -> None:
    for url in ("/", f"/themes/{built.themes['A']}", "/unplaced", f"/sources/{built.sources['report-2021']}", "/log",
                "/search"):
        text, _ = await page(client, url)
        assert re.search(r'<form method="get" action="/search" class="search-box" role="search">\s*'
                         r'<input type="search" name="q" id="search-input"', text), url
        assert 'id="keys-help"' in text and "<script src=\"/static/review.js\" defer></script>" in text


async def test_results_show_highlighted_matches_source_offsets_theme_and_category(client, built: Built) -> None:
    text, _ = await page(client, "/search?q=shortages")
    assert "1 passage matches" in text
    pid = next(p for p, t in built.text.items() if "shortages" in t)
    passage = built.text[pid]
    assert '<blockquote class="passage-text"><mark class="match">Staff</mark>' not in text
    assert f'{escape(passage[:passage.index("shortages")])}<mark class="match">shortages</mark>' in text
    with state(built) as p:
        q = p.passage(pid)
    assert f"report-2021 [{q.start_char}–{q.end_char}]" in text
    assert f'href="/sources/{q.source_id}?passage={pid}#p{pid}"' in text
    assert f'theme {built.themes["A"]}: Staffing' in text and '<span class="category">barrier</span>' in text
    assert f'value="{pid}"' in text and 'formaction="/themes/new"' in text and 'formaction="/passages/code"' in text


async def test_hostile_text_in_results_is_escaped_around_the_highlight(client, built: Built) -> None:
    text, _ = await page(client, "/search?q=pwned")
    assert "<script>alert" not in text and "<img src=x" not in text
    assert '&lt;script&gt;alert(&#34;<mark class="match">pwned</mark>&#34;)&lt;/script&gt;' in text
    text, _ = await page(client, "/search?q=" + httpx.QueryParams({"x": '"<b>not"'})["x"])
    assert "<b>not" not in text


async def test_a_bad_query_says_what_is_wrong_on_one_line(client, built: Built) -> None:
    r = await client.get("/search", params={"q": '"unclosed'})
    assert r.status_code == 400 and "unterminated string" in r.text
    r = await client.get("/search", params={"q": "x", "theme": "999"})
    assert r.status_code == 400 and "theme 999 is not in" in r.text
    r = await client.get("/search", params={"q": "staff", "kind": "survey"})
    assert r.status_code == 200 and "survey-answers" in r.text and "report-2021" not in r.text.split("<main>")[1]


async def test_more_like_this_ranks_by_the_cached_vectors(client, built: Built) -> None:
    a1 = built.passages["A1"]
    r = await client.get("/search", params={"like": str(a1[0])})
    assert r.status_code == 200 and f"Passages like passage {a1[0]}" in r.text
    order = [int(x) for x in re.findall(r'<li id="h(\d+)"', r.text)]
    assert a1[0] not in order and set(order[:len(a1) - 1]) == set(a1[1:])  # its own group is nearest


async def test_new_theme_from_ticked_search_results(client, built: Built) -> None:
    _, f = await page(client, "/search?q=training")
    hits = [p for p, t in built.text.items() if "training" in t.lower()]
    r = await post(client, "/themes/new", [("csrf_token", f["csrf_token"]), ("back", "/search?q=training"),
                                           ("label", "Learning on the job"), ("category", "practice"),
                                           *[("passage", str(p)) for p in hits]])
    assert r.status_code == 303
    tid = int(r.headers["location"].rsplit("/", 1)[1])
    with state(built) as p:
        theme = p.theme(tid)
        assert (theme.label, theme.category, theme.status, theme.size) == ("Learning on the job", "practice",
                                                                          "accepted", len(hits))
        assert {pid for pid, _, _ in p.theme_members(tid)} == set(hits)
    text, _ = await page(client, f"/themes/{tid}")
    assert "created theme" in text and "Also coded here by a reviewer" in text
    # Nothing is written for a bad request.
    r = await post(client, "/themes/new", [("csrf_token", f["csrf_token"]), ("label", " "), ("passage", str(hits[0]))])
    assert r.status_code == 400 and "the new label is empty" in r.text
    r = await post(client, "/themes/new", [("csrf_token", f["csrf_token"]), ("label", "X"), ("passage", "424242")])
    assert r.status_code == 404 and "passage 424242 is not in" in r.text
    r = await post(client, "/themes/new", [("label", "X"), ("passage", str(hits[0]))])
    assert r.status_code == 403
    with state(built) as p:
        assert len(p.themes()) == 4 and len(p.decisions()) == 1


async def test_add_to_theme_from_the_unplaced_and_theme_pages(client, built: Built) -> None:
    a, b = built.themes["A"], built.themes["B"]
    lone = built.passages["None"][0]
    text, f = await page(client, "/unplaced")
    assert 'formaction="/themes/new"' in text and "Place there" in text
    r = await post(client, "/passages/code", [("csrf_token", f["csrf_token"]), ("back", "/unplaced"),
                                              ("theme_id", str(a)), ("passage", str(lone))])
    assert r.status_code == 303 and r.headers["location"] == "/unplaced"
    in_b = built.passages["B"][0]
    _, f = await page(client, f"/themes/{b}")
    r = await post(client, "/passages/code", [*f.items(), ("from_theme", str(b)), ("back", f"/themes/{b}"),
                                              ("theme_id", str(a)), ("passage", str(in_b))])
    assert r.status_code == 303
    with state(built) as p:
        assert p.membership(lone).theme_id == a and p.membership(in_b).theme_id == b and p.coding(in_b, a)
    text, f = await page(client, f"/themes/{a}")
    assert f'id="m{in_b}"' in text and f'id="m{lone}"' in text
    # Removing it from theme A's page takes away the further coding, not its place in B.
    r = await post(client, "/passages/remove", [*f.items(), ("from_theme", str(a)), ("passage", str(in_b))])
    assert r.status_code == 303
    with state(built) as p:
        assert p.coding(in_b, a) is None and p.membership(in_b).theme_id == b and p.membership(in_b).placed


async def test_coding_from_the_source_view(client, built: Built) -> None:
    sid = built.sources["interview-alice"]
    lone, in_c = built.passages["None"][0], built.passages["C"][0]
    text, f = await page(client, f"/sources/{sid}?passage={lone}")
    assert re.search(rf'<input type="checkbox" class="tick" name="passage" value="{lone}"[^>]* checked>', text)
    assert '<form method="post" action="/passages/move" id="source-form">' in text
    r = await post(client, "/themes/new", [("csrf_token", f["csrf_token"]), ("back", f"/sources/{sid}"),
                                           ("label", "Place and setting"), ("passage", str(lone)),
                                           ("passage", str(in_c))])
    assert r.status_code == 303
    tid = int(r.headers["location"].rsplit("/", 1)[1])
    text, _ = await page(client, f"/sources/{sid}")
    assert f'<a class="tag" href="/themes/{tid}#m{lone}"' in text
    assert f'<a class="tag also" href="/themes/{tid}#m{in_c}"' in text  # a further coding shows as a second tag


async def test_the_csp_still_forbids_inline_scripts(client, built: Built) -> None:
    r = await client.get("/search?q=staff")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert re.findall(r"<script(?![^>]*src=)[^>]*>", r.text) == []
    assert not re.search(r"\son[a-z]+=", r.text.replace(str(escape(HOSTILE)), ""))


async def test_a_passage_coded_to_a_live_theme_is_not_listed_as_unplaced(client, built: Built) -> None:
    from synth.review import actions, coding

    a, b = built.themes["A"], built.themes["B"]
    pid = built.passages["B"][0]
    with state(built) as p:
        coding.add_to_theme(p, a, [pid], reviewer="alice")
        actions.reject(p, b, reviewer="alice")  # its primary theme is gone; its further coding is live
        other = built.passages["B"][1]
    text, _ = await page(client, "/unplaced")
    assert f'value="{other}"' in text and f'value="{pid}"' not in text


async def test_search_by_meaning_says_when_the_vectors_cannot_be_matched(client, built: Built) -> None:
    # The fixture's vectors come from a made-up model: the page says so rather than ranking nonsense.
    r = await client.get("/search", params={"q": "staff", "mode": "semantic"})
    assert r.status_code == 400 and "its vectors come from test-model" in r.text
