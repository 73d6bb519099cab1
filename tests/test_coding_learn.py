"""Issue 14: correcting passage categories, learning from them, and measuring agreement.

CLI and HTTP tests run on the small hand-built project of test_review_actions (real SQLite, real
app over httpx); the learning tests run the real `synth ingest` + `synth discover` on the demo corpus.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import httpx
import pytest

from conftest import DEMO
from synth.review import actions
from synth.review.app import create_app
from synth.store import Project
from review_fixture import Built

BASE = "http://127.0.0.1"


def _snapshot(path: Path) -> tuple:
    with Project.open(path, create=False) as p:
        return (len(p.decisions()), p.reviewed_categories(), p.learned_categories(), p.validation_samples())


def _error_line(result) -> str:
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    return lines[0]


# --- categorise from the CLI ---------------------------------------------------------------------------

def test_categorise_sets_audits_exports_and_undoes(built: Built, synth, tmp_path: Path) -> None:
    pid = built.passages["B"][0]  # the machine says enabler
    out = synth.ok("passage", "categorise", built.path, str(pid), "--as", "barrier", "--reviewer", "alice")
    assert f"set passage {pid} to barrier" in out
    with Project.open(built.path, create=False) as p:
        assert p.reviewed_categories()[pid]["category"] == "barrier"
        assert p.passage_categories()[pid]["category"] == "enabler"  # the machine's own stays, for the record
        last = p.decisions()[-1]
        assert last.action == "categorise" and last.reviewer == "alice"
        assert actions.describe(last) == f"passage {pid} category: none → barrier"
    synth.ok("export", built.path, "assignments", "-o", tmp_path / "a.csv")
    with (tmp_path / "a.csv").open(encoding="utf-8") as fh:
        rows = {int(r["passage_id"]): r for r in csv.DictReader(fh)}
    assert rows[pid]["passage_category"] == "barrier"
    assert list(rows[pid]) == ["passage_id", "source_name", "start_char", "end_char", "text", "theme_id", "theme_label",
                               "category", "probability", "passage_category", "barrier", "enabler", "practice", "context"]
    assert "undid decision" in synth.ok("theme", "undo", built.path, "--reviewer", "alice")
    with Project.open(built.path, create=False) as p:
        assert pid not in p.reviewed_categories()
    # A second reviewer's later setting blocks undoing the first one's (never overwrite a later edit).
    synth.ok("passage", "categorise", built.path, str(pid), "--as", "barrier", "--reviewer", "alice")
    synth.ok("passage", "categorise", built.path, str(pid), "--as", "context", "--reviewer", "bob")
    result = synth("theme", "undo", built.path, "--reviewer", "alice")
    assert "has been set again since" in _error_line(result)


def test_categorise_bad_input_changes_nothing(built: Built, synth) -> None:
    pid = built.passages["B"][0]
    before = _snapshot(built.path)
    line = _error_line(synth("passage", "categorise", built.path, str(pid), "99999", "--as", "barrier"))
    assert "passage 99999 is not in" in line
    line = _error_line(synth("passage", "categorise", built.path, str(pid), "--as", "obstacle"))
    assert "'obstacle' is not one of barrier, enabler, practice, context" in line
    assert _snapshot(built.path) == before
    synth.ok("passage", "categorise", built.path, str(pid), "--as", "barrier")
    line = _error_line(synth("passage", "categorise", built.path, str(pid), "--as", "barrier"))
    assert "already barrier" in line


# --- validation from the CLI ---------------------------------------------------------------------------

def test_validation_round_from_the_cli(built: Built, synth) -> None:
    out = synth.ok("validate", built.path, "--sample", "8", "--seed", "3", "--reviewer", "alice")
    assert "drew validation sample 1: 8 passages from 4 strata" in out  # 3 themes + unplaced, each seen
    with Project.open(built.path, create=False) as p:
        items = p.validation_items(1)
        strata = {it["stratum"] for it in items}
        machine = {it["id"]: (it["machine_theme_id"], it["machine_category"]) for it in items}
        labels = {t.id: t.label for t in p.themes()}
    assert strata == {f"theme {t}" for t in built.themes.values()} | {"unplaced"}
    nxt = synth.ok("validate", built.path, "--next", "--reviewer", "alice")
    first = items[0]
    assert f"item {first['id']} (1 of 8)" in nxt and "category" not in nxt.split("themes:")[0].lower()
    # alice agrees with synth on every theme, bob differs on the first item's category and theme.
    for it in items:
        theme, category = machine[it["id"]]
        synth.ok("validate", built.path, "--code", str(it["id"]), "--theme", str(theme) if theme else "none",
                 "--category", category, "--reviewer", "alice")
        bob_theme = "none" if it is first else (str(theme) if theme else "none")
        bob_cat = "context" if it is first and category != "context" else category
        if it is first and bob_cat == category:
            bob_cat = "barrier"
        synth.ok("validate", built.path, "--code", str(it["id"]), "--theme", bob_theme, "--category", bob_cat,
                 "--reviewer", "bob")
    assert "alice has coded all 8 items" in synth.ok("validate", built.path, "--next", "--reviewer", "alice")
    report = json.loads(synth.ok("validate", built.path, "--report", "--json"))
    assert report["coded"] == {"alice": 8, "bob": 8}
    alice = report["overall"]["alice"]
    assert alice["precision"]["value"] == 1.0 and alice["recall"]["value"] == 1.0
    lo, hi = alice["precision"]["ci95"]
    assert 0.5 < lo < 1.0 and hi == 1.0  # Wilson: an all-hit sample of a few items is not certainty
    pairs = {(g["a"], g["b"]): g for g in report["agreements"]}
    assert pairs[("synth", "alice")]["theme_kappa"] == pytest.approx(1.0)
    assert pairs[("synth", "alice")]["category_alpha"] == pytest.approx(1.0)
    assert pairs[("synth", "bob")]["theme_agreement"]["hits"] == 7 or machine[first["id"]][0] is None
    assert ("alice", "bob") in pairs and pairs[("alice", "bob")]["items"] == 8
    assert pairs[("alice", "bob")]["category_agreement"]["hits"] == 7
    text = synth.ok("validate", built.path, "--report")
    assert "synth against alice: precision 1.00" in text and "alice vs bob on 8 items" in text
    assert any(label in text for label in labels.values())
    # Re-coding is audited and undoable.
    synth.ok("validate", built.path, "--code", str(first["id"]), "--theme", "none", "--category", "practice",
             "--reviewer", "alice")
    synth.ok("theme", "undo", built.path, "--reviewer", "alice")
    with Project.open(built.path, create=False) as p:
        assert p.validation_code(first["id"], "alice")["category"] == machine[first["id"]][1]


def test_validation_bad_input_changes_nothing(built: Built, synth) -> None:
    before = _snapshot(built.path)
    line = _error_line(synth("validate", built.path, "--sample", "500"))
    assert "--sample 500 is larger than" in line and "16 codable passages" in line
    line = _error_line(synth("validate", built.path, "--report"))
    assert "no validation sample yet" in line
    assert _snapshot(built.path) == before
    synth.ok("validate", built.path, "--sample", "4")
    before = _snapshot(built.path)
    with Project.open(built.path, create=False) as p:
        item = p.validation_items(1)[0]["id"]
    assert "validation item 999 is not in" in _error_line(
        synth("validate", built.path, "--code", "999", "--theme", "none", "--category", "barrier"))
    assert "theme 4242 is not in" in _error_line(
        synth("validate", built.path, "--code", str(item), "--theme", "4242", "--category", "barrier"))
    assert "'nice' is not one of" in _error_line(
        synth("validate", built.path, "--code", str(item), "--theme", "none", "--category", "nice"))
    assert "--theme 'x'" in _error_line(
        synth("validate", built.path, "--code", str(item), "--theme", "x", "--category", "barrier"))
    assert _snapshot(built.path) == before


def test_codebook_and_report_carry_agreement(built: Built, synth, tmp_path: Path) -> None:
    synth.ok("theme", "accept", built.path, *[str(t) for t in built.themes.values()])
    synth.ok("validate", built.path, "--sample", "16")
    with Project.open(built.path, create=False) as p:
        items = p.validation_items(1)
    for it in items:
        synth.ok("validate", built.path, "--code", str(it["id"]), "--theme",
                 str(it["machine_theme_id"]) if it["machine_theme_id"] else "none", "--category", "barrier",
                 "--reviewer", "alice")
    synth.ok("export", built.path, "codebook", "-o", tmp_path / "cb.json")
    codes = [c for g in json.loads((tmp_path / "cb.json").read_text())["groups"] for c in g["codes"]]
    assert all(c["agreement"].startswith("Agreement with reviewers (validation sample 1") for c in codes)
    synth.ok("export", built.path, "codebook", "-o", tmp_path / "cb.qdc")
    qdc = (tmp_path / "cb.qdc").read_text(encoding="utf-8")
    assert qdc.count("Agreement with reviewers (validation sample 1") == len(codes)  # in each code's Description
    synth.ok("report", built.path, "-o", tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="agreement"' in page and "synth against alice: precision 1.00" in page


# --- the app over HTTP ---------------------------------------------------------------------------------

pytestmark_http = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _page(client: httpx.AsyncClient, url: str) -> tuple[str, str]:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    return r.text, re.search(r'<meta name="csrf-token" content="([^"]+)">', r.text).group(1)


@pytest.mark.anyio
async def test_http_categorise_and_blind_validation(built: Built) -> None:
    theme = built.themes["B"]
    pid = built.passages["B"][0]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(built.path, reviewer="alice")),
                                 base_url=BASE) as client:
        text, token = await _page(client, f"/themes/{theme}")
        assert f'formaction="/passages/{pid}/categorise"' in text
        r = await client.post(f"/passages/{pid}/categorise", data={"csrf_token": token, f"category-{pid}": "practice",
                                                                   "back": f"/themes/{theme}"})
        assert r.status_code == 303 and r.headers["location"] == f"/themes/{theme}#m{pid}"
        text, token = await _page(client, f"/themes/{theme}")
        assert re.search(rf'id="category-of-{pid}"[^>]*>practice \(reviewer\)', text)
        # Bad input: an unknown category, a missing token.
        r = await client.post(f"/passages/{pid}/categorise", data={"csrf_token": token, "category": "nope"},
                              headers={"accept": "application/json"})
        assert r.status_code == 400 and "'nope' is not one of" in r.json()["error"]
        r = await client.post(f"/passages/{pid}/categorise", data={"category": "context"})
        assert r.status_code == 403

        # Blind validation: the page shows the passage, never synth's theme or category for it.
        text, token = await _page(client, "/validate")
        assert "Draw a new sample" in text
        r = await client.post("/validate/sample", data={"csrf_token": token, "size": "999"})
        assert r.status_code == 400 and "is larger than" in r.text
        r = await client.post("/validate/sample", data={"csrf_token": token, "size": "5", "seed": "2"})
        assert r.status_code == 303
        text, token = await _page(client, "/validate")
        with Project.open(built.path, create=False) as p:
            item = p.validation_items(1)[0]
            shown = p.passage(item["passage_id"])
        form = text[text.index('id="validation-form"'):text.index("</form>", text.index('id="validation-form"'))]
        assert "selected" not in form and "checked" not in form
        assert str(shown.text).split()[0] in text
        assert "(learned)" not in text and "(reviewer)" not in text
        r = await client.post(f"/validate/{item['id']}", data={"csrf_token": token, "theme_id": "none",
                                                              "category": "context"})
        assert r.status_code == 303
        text, _ = await _page(client, "/validate")
        assert "Item 2 of 5" in text and "synth against alice" in text


# --- learning on the real demo corpus ------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    from synth.cli import cli

    path = tmp_path_factory.mktemp("learn") / "demo.synth"
    runner = CliRunner()
    for args in (["ingest", str(path), str(DEMO)], ["discover", str(path), "--seed", "42"]):
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return path


def _find(project: Project, *needles: str) -> list[int]:
    out = []
    for needle in needles:
        hits = [p.id for p in project.passages(codable_only=True) if needle in p.text]
        assert len(hits) == 1, (needle, hits)
        out.append(hits[0])
    return out


def _categories(path: Path) -> dict[int, str]:
    from synth.relearn import effective_categories

    with Project.open(path, create=False) as p:
        return {pid: c.category for pid, c in effective_categories(p).items()}


# Shortfalls that evaluation reports write in the service's own vocabulary: a reviewer's barrier examples.
SHORTFALLS = ("more patchy, in respect of", "limited use of specialist provision",
              "evidence on the extent and nature of in-work support is limited",
              "This could make it difficult for the providers")

@pytest.mark.slow
def test_discover_learns_from_corrected_categories(demo: Path, tmp_path: Path, synth) -> None:
    path = tmp_path / "demo.synth"
    shutil.copy(demo, path)
    with Project.open(path, create=False) as p:
        examples = _find(p, *SHORTFALLS)
        (target,) = _find(p, "was less widespread")
        machine = p.passage_categories()
    assert machine[target]["category"] != "barrier"  # what the machine says today
    synth.ok("passage", "categorise", path, *map(str, examples), "--as", "barrier", "--reviewer", "alice")
    synth.ok("discover", path, "--seed", "42")
    with Project.open(path, create=False) as p:
        learned = p.learned_categories([target])[target]
        assert p.passage_categories([target])[target]["category"] == machine[target]["category"]  # kept as made
    assert learned["category"] == "barrier"
    assert any(f"passage {e} (barrier" in learned["reasons"][-1] for e in examples)  # says why: the nearest taught
    synth.ok("export", path, "assignments", "-o", tmp_path / "a.csv")
    with (tmp_path / "a.csv").open(encoding="utf-8") as fh:
        rows = {int(r["passage_id"]): r for r in csv.DictReader(fh)}
    assert rows[target]["passage_category"] == "barrier"
    assert all(rows[e]["passage_category"] == "barrier" for e in examples)


@pytest.mark.slow
def test_reviewer_decisions_are_never_overridden(demo: Path, tmp_path: Path, synth) -> None:
    path = tmp_path / "demo.synth"
    shutil.copy(demo, path)
    with Project.open(path, create=False) as p:
        # Teach "barrier" strongly around one passage, but the reviewer called that one "context".
        examples = _find(p, *SHORTFALLS)
        (kept,) = _find(p, "was less widespread")
        (moved,) = _find(p, "I have no computer at home")
        theme = next(t for t in p.themes() if t.size > 5)
    synth.ok("passage", "categorise", path, *map(str, examples), "--as", "barrier", "--reviewer", "alice")
    synth.ok("passage", "categorise", path, str(kept), "--as", "context", "--reviewer", "alice")
    synth.ok("theme", "move", path, str(moved), str(theme.id), "--reviewer", "alice")
    synth.ok("theme", "recategorise", path, str(theme.id), "enabler", "--reviewer", "alice")
    for _ in range(2):
        synth.ok("discover", path, "--seed", "42")
        cats = _categories(path)
        assert cats[kept] == "context" and all(cats[e] == "barrier" for e in examples)
        with Project.open(path, create=False) as p:
            assert kept not in p.learned_categories()
            m = p.membership(moved)
            assert m.theme_id == theme.id and m.placed and m.by_human
            assert p.theme(theme.id).category == "enabler"


# Five passages on digital exclusion a reviewer builds a theme from, and four others like them.
DIGITAL_EXAMPLES = ("Digital is the hidden barrier", "Everything is online: the claim", "many don't have a laptop",
                    "I could not fill the online forms alone", "I have no computer at home")
DIGITAL_LIKE_THEM = ("We run a digital drop-in", "They lent me a Chromebook", "Help to set up an email address",
                     "The online test was very long")


@pytest.mark.slow
def test_a_theme_built_from_examples_attracts_similar_passages(demo: Path, tmp_path: Path, synth) -> None:
    path = tmp_path / "demo.synth"
    shutil.copy(demo, path)
    with Project.open(path, create=False) as p:
        examples = _find(p, *DIGITAL_EXAMPLES)
        held_out = _find(p, *DIGITAL_LIKE_THEM)
        with p.transaction():
            theme = p.create_theme(label="Digital exclusion", label_by_human=True, status="accepted")
    with Project.open(path, create=False) as p:
        actions.move(p, examples, theme, reviewer="alice")
    synth.ok("discover", path, "--seed", "42")
    with Project.open(path, create=False) as p:
        members = {m.passage_id for m in p.memberships(theme_id=theme, placed=True)}
        codable = len(p.passages(codable_only=True))
    assert set(examples) <= members
    attracted = members & set(held_out)
    assert len(attracted) >= 2, (attracted, sorted(members))
    assert len(members) < codable // 4  # it attracts what is like its examples, not everything


@pytest.mark.slow
def test_a_theme_created_from_placed_passages_teaches_placement_on_every_run(demo: Path, tmp_path: Path,
                                                                             synth) -> None:
    """`synth theme create` (and the app's "new theme from these") codes passages that discover had
    already placed elsewhere to the new theme as well: the examples are codings, not primary
    memberships. They must teach placement all the same, and keep teaching after discover has placed
    passages in the theme (on the next run, and on a full re-partition)."""
    path = tmp_path / "demo.synth"
    shutil.copy(demo, path)
    with Project.open(path, create=False) as p:
        examples = _find(p, *DIGITAL_EXAMPLES)
        held_out = _find(p, *DIGITAL_LIKE_THEM)
        assert all(p.membership(e) is not None and p.membership(e).placed for e in examples)
    out = synth.ok("theme", "create", path, "--label", "Digital exclusion", "--passages",
                   ",".join(map(str, examples)), "--reviewer", "alice")
    theme = int(out.split("created theme ")[1].split()[0])
    for flags in ((), (), ("--recluster",)):
        synth.ok("discover", path, "--seed", "42", *flags)
        with Project.open(path, create=False) as p:
            members = {m.passage_id for m in p.memberships(theme_id=theme, placed=True)}
            coded = {c.passage_id for c in p.codings(theme_id=theme)}
            codable = len(p.passages(codable_only=True))
            assert p.theme(theme).status == "accepted" and p.theme(theme).label == "Digital exclusion"
        assert set(examples) <= members | coded  # the reviewer's examples stay theirs
        assert not members & coded  # a passage is coded to the theme once, not twice
        attracted = members & set(held_out)
        assert len(attracted) >= 2, (flags, attracted, sorted(members))
        assert len(members | coded) < codable // 4
