"""`discover --codebook`: imported codes are placed first (deductive), new themes found beside them."""

from __future__ import annotations

import pytest

from conftest import DEMO
from synth.store import Project

CODEBOOK = """name,definition,category
English language and ESOL,"Limited spoken or written English, and English classes (ESOL) for people looking for work",barrier
Childcare and caring responsibilities,"Looking after children or relatives makes it hard to take up work or training",barrier
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, engine):
    from conftest import Synth

    synth = Synth()
    tmp = tmp_path_factory.mktemp("seeded")
    project = tmp / "review.synth"
    codebook = tmp / "codes.csv"
    codebook.write_text(CODEBOOK, encoding="utf-8")
    synth.ok("ingest", project, DEMO)
    synth.ok("codebook", "import", project, codebook)
    output = synth.ok("discover", project, "--codebook", "--seed", "42", *engine)
    return project, output


def test_codes_take_matching_passages_and_keep_their_names(seeded):
    project_path, output = seeded
    assert "passages placed in its codes first" in output
    with Project.open(project_path, create=False) as project:
        codes = {t.label: t for t in project.themes() if t.origin == "codebook"}
        assert set(codes) == {"English language and ESOL", "Childcare and caring responsibilities"}
        passages = {p.id: p for p in project.passages()}
        for label, words in (("English language and ESOL", ("english", "esol", "language")),
                             ("Childcare and caring responsibilities", ("child", "car", "nurser", "crèche"))):
            members = [passages[m.passage_id].text.lower() for m in project.memberships(theme_id=codes[label].id, placed=True)]
            assert len(members) >= 5, label
            on_topic = sum(any(w in text for w in words) for text in members)
            assert on_topic / len(members) >= 0.7, (label, on_topic, len(members))
            assert codes[label].status == "accepted" and codes[label].category == "barrier"


def test_inductive_themes_are_found_beside_the_codes(seeded):
    project_path, _ = seeded
    with Project.open(project_path, create=False) as project:
        inductive = [t for t in project.themes() if t.origin == "discovered"]
        assert len(inductive) >= 3
        code_ids = {t.id for t in project.themes() if t.origin == "codebook"}
        # each passage sits in one theme only: deductive members are not clustered again
        placed = project.memberships(placed=True)
        assert len({m.passage_id for m in placed}) == len(placed)
        assert any(m.theme_id in code_ids for m in placed)


def test_codebook_flag_without_a_codebook_is_refused(tmp_path, synth):
    project = tmp_path / "r.synth"
    synth.ok("ingest", project, DEMO / "literature")
    result = synth("discover", project, "--codebook")
    assert result.exit_code != 0 and "codebook import" in result.output


def test_codes_never_take_passages_from_accepted_themes(tmp_path, synth):
    project_path = tmp_path / "r.synth"
    codebook = tmp_path / "codes.csv"
    codebook.write_text(CODEBOOK, encoding="utf-8")
    synth.ok("ingest", project_path, DEMO)
    synth.ok("discover", project_path, "--seed", "42")
    with Project.open(project_path, create=False) as project:
        accepted = [t.id for t in project.themes()]
        before = {m.passage_id: m.theme_id for m in project.memberships(placed=True)}
    synth.ok("theme", "accept", project_path, *map(str, accepted))
    synth.ok("codebook", "import", project_path, codebook)
    synth.ok("discover", project_path, "--codebook", "--seed", "42")
    with Project.open(project_path, create=False) as project:
        after = {m.passage_id: m.theme_id for m in project.memberships(placed=True)}
    assert after.items() >= before.items()  # every accepted placement is still there, unchanged
