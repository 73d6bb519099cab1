"""The evidence profile, the reviewer's confidence and source appraisal in the review app, over real
HTTP (httpx + ASGITransport) on a real project file."""

from __future__ import annotations


import pytest

from review_fixture import Built
from test_review_http import anyio_backend, client_for, page, post  # noqa: F401 (a fixture)
from synth.store import Project

pytestmark = pytest.mark.anyio


async def test_theme_page_shows_the_profile_and_sets_the_confidence(built: Built) -> None:
    theme_id = built.themes["A"]
    async with client_for(built.path, reviewer="alice") as client:
        text, fields = await page(client, f"/themes/{theme_id}")
        assert "Evidence and confidence" in text and "suggested by synth" in text
        for component in ("methodological limitations", "coherence", "adequacy", "relevance"):
            assert f'<th scope="row">{component}</th>' in text
        r = await post(client, f"/themes/{theme_id}/confidence",
                       {"csrf_token": fields["csrf_token"], "level": "low", "reason": "One area only."})
        assert r.status_code == 303
        text, fields = await page(client, f"/themes/{theme_id}")
        assert "set by alice: One area only. — synth suggests" in text and '<option value="low" selected>' in text
        bad = await post(client, f"/themes/{theme_id}/confidence",
                         {"csrf_token": fields["csrf_token"], "level": "certain", "reason": "x"})
        assert bad.status_code == 400 and "certain" in bad.text
        forged = await post(client, f"/themes/{theme_id}/confidence", {"level": "high", "reason": "x"})
        assert forged.status_code == 403
    with Project.open(built.path, create=False) as project:
        assert project.theme_confidences()[theme_id]["level"] == "low"
        assert project.decisions()[-1].action == "confidence" and project.decisions()[-1].reviewer == "alice"


async def test_source_page_appraises_the_source(built: Built) -> None:
    with Project.open(built.path, create=False) as project:
        source = project.sources()[0]
    async with client_for(built.path, reviewer="bob") as client:
        text, fields = await page(client, f"/sources/{source.id}")
        assert "not appraised yet." in text and 'id="appraise-form"' in text
        r = await post(client, f"/sources/{source.id}/appraise",
                       {"csrf_token": fields["csrf_token"], "quality": "moderate", "note": "Small sample",
                        "back": f"/sources/{source.id}"})
        assert r.status_code == 303 and r.headers["location"] == f"/sources/{source.id}"
        text, fields = await page(client, f"/sources/{source.id}")
        assert "appraised <strong>moderate</strong> by bob (" in text and "): Small sample" in text
        bad = await post(client, "/sources/99999/appraise", {"csrf_token": fields["csrf_token"], "quality": "low"})
        assert bad.status_code == 404
    with Project.open(built.path, create=False) as project:
        assert project.source_appraisals()[source.name]["quality"] == "moderate"
        assert [d.action for d in project.decisions()].count("appraise") == 1
