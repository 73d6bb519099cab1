"""Stance within a topic and the survey question as a prior (issue 13, item 5); label locations (item 4).

Pure functions first (synth/stance.py, categorise.question_prior, the table reader), then the demo
end to end: real SQLite, the real bundled model, the CLI and the review app over ASGI.
"""

from __future__ import annotations

import json
import re

import httpx
import numpy as np
import pytest

from conftest import Synth, copy_project
from synth.cluster import Clustering
from synth.errors import InputError
from synth.readers.tables import read_table
from synth.stance import divided_stances, split_by_stance
from synth.store import Project


def _clustering(labels: np.ndarray, X: np.ndarray) -> Clustering:
    k = int(labels.max()) + 1
    centroids = np.stack([X[labels == j].mean(axis=0) for j in range(k)]).astype(np.float32)
    return Clustering(labels=labels.copy(), nearest=labels.copy(), probability=np.ones(len(labels)),
                      centroids=centroids, stats={})


def test_divided_stances_needs_both_sides_to_recur():
    groups = list(range(8))
    assert divided_stances(["barrier"] * 4 + ["enabler"] * 4, groups) == ("barrier", "enabler")
    # One side from a single source is an anecdote, not a side of the topic.
    assert divided_stances(["barrier"] * 4 + ["enabler"] * 4, [0, 1, 2, 3, 9, 9, 9, 9]) is None
    # Under a quarter of the passages, or under three, is no side.
    assert divided_stances(["barrier"] * 10 + ["enabler"] * 2, list(range(12))) is None
    assert divided_stances(["context"] * 6 + ["enabler"] * 4, list(range(10))) is None


def test_split_by_stance_cuts_along_categories_and_keeps_the_larger_side():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 8)).astype(np.float32)
    labels = np.array([0] * 12 + [1] * 8)
    cats = ["barrier"] * 4 + ["enabler"] * 7 + ["context"] + ["practice"] * 8
    groups = np.arange(20)
    result = split_by_stance(_clustering(labels, X), X, groups, cats)
    assert len(result.splits) == 1  # theme 1 is all practice: one stance, not cut
    split = result.splits[0]
    assert split.parent == 0 and split.sides == (0, 2) and split.stances == ("enabler", "barrier")
    out = result.clustering
    assert out.n_themes == 3
    assert set(out.labels[:4]) == {2} and set(out.labels[4:11]) == {0}  # each stance on its own side
    assert out.labels[11] in (0, 2)  # context follows the closer side
    assert (out.labels[12:] == 1).all()


def test_a_theme_a_reviewer_holds_together_is_never_cut():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 8)).astype(np.float32)
    labels = np.zeros(10, np.int64)
    cats = ["barrier"] * 5 + ["enabler"] * 5
    held = np.array([7] * 6 + [-1] * 4)  # a reviewer merged or accepted most of it as theme 7
    assert not split_by_stance(_clustering(labels, X), X, np.arange(10), cats, held=held).splits
    assert split_by_stance(_clustering(labels, X), X, np.arange(10), cats).splits


@pytest.mark.parametrize("question, category", [
    ("What made it harder?", "barrier"), ("What got in the way?", "barrier"),
    ("What helped you most?", "enabler"), ("What worked well?", "enabler"),
    ("What should change?", "practice"), ("What would you improve?", "practice"),
    # "better" and "best" share the lemma "well": the question's own word decides, not the first cue listed
    ("What could we do better?", "practice"), ("What could be better?", "practice"),
    ("What was the best thing about it?", "enabler"),
    ("How old are you?", None),
    # A weak cue alone is no leaning: a question column holding codes ("Trust A - Q1") or a question
    # that can be answered either way.
    ("Trust A - Q1", None), ("How much do you trust the jobcentre?", None)])
def test_the_question_wording_decides_its_prior(question, category):
    from synth.categorise import question_prior

    prior = question_prior(question)
    assert prior.category == category
    for cue in prior.cues:  # offsets point into the question
        assert question[cue.start_char:cue.end_char] == cue.phrase


def test_the_question_leans_an_answer_and_says_so():
    from synth.categorise import categorise_passages, default_prototypes
    from synth.embed import Embedder, resolve_model

    texts = ["The bus into town.", "The bus into town."]
    vectors = Embedder(resolve_model(), device="cpu").encode(texts)
    plain = categorise_passages(texts[:1], vectors[:1], prototypes=default_prototypes())[0]
    harder, helped = categorise_passages(texts, vectors, prototypes=default_prototypes(),
                                         questions=["What made it harder?", "What helped you most?"])
    assert harder.category == "barrier" and helped.category == "enabler"
    assert harder.scores["barrier"] > plain.scores["barrier"] + 0.2
    assert any('answers the question "What made it harder?": leans barrier' in r for r in harder.reasons())
    assert not any("question" in r for r in plain.reasons())


def test_a_question_code_leans_no_answer_and_its_cues_are_not_the_themes():
    """The trial's NHS table: a question column of codes ("Trust A - Q1") must not make a complaint read
    as praise, turn a nil answer ("Cannot think of anything") against its no-question reading, or give
    a theme "trust" as its enabler cue."""
    from synth.categorise import categorise_passages, categorise_theme, default_prototypes
    from synth.embed import Embedder, resolve_model

    texts = ["Staff are never around, always too busy.", "Cannot think of anything",
             "The staff were very helpful and friendly."]
    vectors = Embedder(resolve_model(), device="cpu").encode(texts)
    plain = categorise_passages(texts, vectors, prototypes=default_prototypes())
    coded = categorise_passages(texts, vectors, prototypes=default_prototypes(), questions=["Trust A - Q1"] * 3)
    assert [c.category for c in coded] == [c.category for c in plain]
    for a, b in zip(coded, plain):
        assert a.scores == pytest.approx(b.scores)
    assert coded[0].category == "barrier"
    assert any('answers the question "Trust A - Q1": no clear leaning' in r for r in coded[0].reasons())
    theme = categorise_theme(coded[2:] * 3)
    assert theme.category == "enabler"
    assert not any('"trust"' in r for r in theme.reasons), theme.reasons
    leaned = categorise_theme(categorise_passages(texts[2:], vectors[2:], prototypes=default_prototypes(),
                                                  questions=["What helped you most?"]) * 3)
    assert any('"help" ×3' in r for r in leaned.reasons), leaned.reasons


def test_question_column_is_read_and_checked(tmp_path):
    csv = tmp_path / "answers.csv"
    csv.write_text("id,prompt,answer\n1,What made it harder?,The bus\n2,What worked well?,The shuttle\n")
    table = read_table(csv, csv.read_bytes(), text_column="answer", id_column="id", question_column="prompt")
    assert [r.metadata["question"] for r in table.rows] == ["What made it harder?", "What worked well?"]
    with pytest.raises(InputError, match="no question column named 'ask'"):
        read_table(csv, csv.read_bytes(), text_column="answer", id_column=None, question_column="ask")
    clash = tmp_path / "clash.csv"
    clash.write_text("question,prompt,answer\nq,p,a\n")
    with pytest.raises(InputError, match="would be overwritten"):
        read_table(clash, clash.read_bytes(), text_column="answer", id_column=None, question_column="prompt")


# -- the discovered_demo, end to end ---------------------------------------------------------------------


def test_demo_transport_divides_into_linked_siblings(discovered_demo):
    with Project.open(discovered_demo, create=False, write=False) as project:
        links = project.stance_links()
        themes = {t.id: t for t in project.themes()}
    assert links, "no stance siblings on the demo"
    for a, others in links.items():
        for link in others:
            b = link["other_id"]
            assert any(x["other_id"] == a for x in links[b])  # both directions
            assert themes[a].category != themes[b].category  # they differ in stance
            assert link["topic"]
    # The example: the bus that doesn't run against the shuttle that works.
    transport = [t for t in themes.values() if "shuttle" in t.label.lower() or "bus" in t.label.lower()]
    assert any(links.get(t.id) for t in transport), [t.label for t in themes.values()]


def test_survey_answers_carry_their_question_in_the_reasons(discovered_demo):
    with Project.open(discovered_demo, create=False, write=False) as project:
        names = project.source_names()
        survey = [p for p in project.passages(codable_only=True) if "survey" in names[p.source_id]]
        cats = project.passage_categories([p.id for p in survey])
    asked = [c for c in cats.values() if any(cue.get("question") for cue in c["cues"])]
    assert len(asked) == len(survey)
    harder = [c for c in asked if any(cue.get("question") == "What made it harder?" for cue in c["cues"])]
    assert sum(c["category"] == "barrier" for c in harder) >= 0.8 * len(harder)


def test_rerun_keeps_siblings_and_a_merged_pair_is_never_split_again(discovered_demo, tmp_path):
    from synth.review import actions

    path = copy_project(discovered_demo, tmp_path / "copy.synth")
    synth = Synth()
    with Project.open(path, create=False, write=False) as project:
        before = {a: sorted(x["other_id"] for x in xs) for a, xs in project.stance_links().items()}
    synth.ok("discover", path, "--seed", "42")
    with Project.open(path, create=False, write=False) as project:
        after = {a: sorted(x["other_id"] for x in xs) for a, xs in project.stance_links().items()}
    assert after == before  # same ids, same links

    a = min(before)
    b = before[a][0]
    with Project.open(path, create=False) as project:
        actions.rename(project, b, "Reviewer's own label", reviewer="rev")
        actions.merge(project, a, [b], reviewer="rev")
    synth.ok("discover", path, "--seed", "42")
    with Project.open(path, create=False, write=False) as project:
        theme_a, theme_b = project.theme(a), project.theme(b)
        assert theme_a.status == "suggested" and theme_b.status == "merged"
        assert theme_b.label == "Reviewer's own label"
        assert a not in project.stance_links()
        members = {m.passage_id for m in project.memberships(theme_id=a, placed=True)}
        new_themes = [t for t in project.themes() if t.id > max(max(before), b)]
        # The merged passages are not split out again into a new theme.
        for t in new_themes:
            theirs = {m.passage_id for m in project.memberships(theme_id=t.id, placed=True)}
            assert not (theirs & members)


def test_themes_command_and_json_show_siblings_and_label_locations(discovered_demo):
    from synth.label_spans import singular

    synth = Synth()
    out = synth.ok("themes", discovered_demo)
    assert "same topic" in out and "other stance" in out
    data = json.loads(synth.ok("themes", discovered_demo, "--json"))
    with_siblings = [t for t in data if t["siblings"]]
    assert with_siblings
    with Project.open(discovered_demo, create=False, write=False) as project:
        texts = {s.id: s.text for s in project.sources()}
        for t in data:
            for loc in t["label_locations"]:
                found = texts[loc["source_id"]][loc["source_start"]:loc["source_end"]]
                # the label's words, each in its singular or plural (synth.label_spans)
                same = [singular(w) for w in found.lower().split()] == [singular(w) for w in t["label"].lower().split()]
                assert same, (found, t["label"])
    assert sum(bool(t["label_locations"]) for t in data) >= 0.75 * len(data)


def test_codebook_csv_has_siblings_and_label_locations(discovered_demo, tmp_path):
    import csv

    out = tmp_path / "codebook.csv"
    Synth().ok("export", discovered_demo, "codebook", "--include-suggested", "-o", out)
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert any(r["same_topic_other_stance"].startswith("Same topic, other stance:") for r in rows)
    assert sum(bool(r["label_locations"]) for r in rows) >= 0.75 * len(rows)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_theme_page_links_siblings_and_marks_the_label(discovered_demo, tmp_path, anyio_backend):
    from synth.review.app import create_app

    path = copy_project(discovered_demo, tmp_path / "app.synth")
    with Project.open(path, create=False, write=False) as project:
        theme_id = next(iter(project.stance_links()))
        other = project.stance_links()[theme_id][0]["other_id"]
        label = project.theme(theme_id).label
        renamed = other
    app = create_app(path, reviewer="rev")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        r = await client.get(f"/themes/{theme_id}")
        assert r.status_code == 200
        assert 'id="stance-siblings"' in r.text and f'href="/themes/{other}"' in r.text
        assert '<mark class="label-phrase"' in r.text
        marked = r.text.split('<mark class="label-phrase" title="the theme\'s label">')[1].split("</mark>")[0]
        assert " ".join(marked.lower().split()) == label.lower()
    # A reviewer's rename: the page marks where the new label occurs, found now.
    from synth.review import actions

    with Project.open(path, create=False) as project:
        text = project.passage(project.memberships(theme_id=renamed, placed=True)[0].passage_id).text
        word = re.search(r"[A-Za-z]{4,}", text).group(0)
        actions.rename(project, renamed, word, reviewer="rev")
    app = create_app(path, reviewer="rev")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        r = await client.get(f"/themes/{renamed}")
        assert '<mark class="label-phrase"' in r.text


def test_carve_recurring_pulls_a_tight_idea_from_three_sources_out_of_its_theme():
    from synth.recurring import carve_recurring

    rng = np.random.default_rng(3)
    common = rng.normal(size=16)  # themes of one corpus resemble each other
    centres = [common + rng.normal(size=16) for _ in range(4)]
    idea = common + rng.normal(size=16)
    X = np.concatenate([centres[0] + 0.5 * rng.normal(size=(12, 16)),   # the broad theme ...
                        idea + 0.1 * rng.normal(size=(4, 16)),           # ... with a tight idea from four sources
                        *(c + 0.5 * rng.normal(size=(12, 16)) for c in centres[1:])]).astype(np.float32)
    labels = np.array([0] * 16 + [1] * 12 + [2] * 12 + [3] * 12)
    groups = np.array(list(range(12)) + [20, 21, 22, 23] + list(range(36)))
    out, carved = carve_recurring(_clustering(labels, X), X, groups)
    assert carved >= 1
    assert len(set(out.labels[12:16])) == 1 and out.labels[12] not in (0, 1)
    # From one source, the same idea is no recurring idea: not carved.
    one_source = groups.copy()
    one_source[12:16] = 20
    _, carved = carve_recurring(_clustering(labels, X), X, one_source)
    assert carved == 0
    # A theme a reviewer holds together is never cut.
    held = np.array([5] * 16 + [-1] * 36)
    _, carved = carve_recurring(_clustering(labels, X), X, groups, held=held)
    assert carved == 0


def test_no_stance_keeps_divided_themes_whole(discovered_demo, tmp_path):
    path = copy_project(discovered_demo, tmp_path / "whole.synth")
    out = Synth().ok("discover", path, "--seed", "42", "--no-stance")
    assert "themes" in out
    with Project.open(path, create=False, write=False) as project:
        assert project.stance_links() == {}


def test_gather_unplaced_makes_a_theme_of_a_tight_idea_from_three_sources():
    from synth.recurring import gather_unplaced

    rng = np.random.default_rng(4)
    common = rng.normal(size=16)
    centres = [common + rng.normal(size=16) for _ in range(3)]
    idea = common + rng.normal(size=16)
    X = np.concatenate([*(c + 0.5 * rng.normal(size=(10, 16)) for c in centres),
                        idea + 0.1 * rng.normal(size=(3, 16)),          # three unplaced passages, one idea
                        rng.normal(size=(3, 16)) * 3]).astype(np.float32)  # three unplaced strays
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10 + [-1] * 6)
    clustering = _clustering(np.where(labels < 0, 0, labels), X)
    clustering = Clustering(labels=labels, nearest=clustering.nearest, probability=np.where(labels < 0, 0.2, 1.0),
                            centroids=clustering.centroids, stats={})
    groups = np.array(list(range(30)) + [40, 41, 42] + [50, 51, 52])
    out, made = gather_unplaced(clustering, X, groups)
    assert made == 1
    assert len(set(out.labels[30:33])) == 1 and out.labels[30] == 3
    assert (out.labels[33:] == -1).all()  # strays stay unplaced
    one_source = groups.copy()
    one_source[30:33] = 40
    assert gather_unplaced(clustering, X, one_source)[1] == 0
