"""A small reviewed project built through the `Project` API, for the export and report tests.

It does not run the clustering pipeline: sources, passages (exact offsets), themes in every
status, memberships, quotes, passage categories, embeddings and a reviewer's decisions are written
directly, so the exports are tested on a state whose every detail is known. The texts are hard on
offsets on purpose: CRLF line endings, an emoji sequence outside the BMP, combining accents, markup.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synth.records import ExtractedDocument, PassageSpan
from synth.store import Project

MODEL_ID = "test-model@1"
REVIEWER = "ana"

# name: (kind, metadata, [(sentence, codable)], text joiner)
SOURCES = {
    "interview_01.txt": ("interview", {"programme": "Into Work", "area": "Leeds", "role": "participant"}, [
        ("Interviewer: How did you find the support?", False),
        ("P1: My English was not good enough for the forms, so I struggled to apply.", True),
        ("P1: The mentor from the mosque helped me every week 👩‍👩‍👧 and I trusted her.", True),
    ], "\r\n"),
    "smith_2019.md": ("literature", {"programme": "Work Programme", "area": "Bradford"}, [
        ("Language barriers limited access to online job search for recent migrants.", True),
        ("Community mentors improved engagement among women who had not used Jobcentres before.", True),
        ("Outreach sessions in community venues could be adopted by other Jobcentres.", True),
    ], "\n\n"),
    "survey_r17": ("survey", {"area": "Leeds", "role": "participant"}, [
        ("=Café sessions at the library were easy to reach — merci! <script>alert(1)</script> & more", True),
    ], "\n"),
    "interview_02.txt": ("interview", {"programme": "Into Work", "area": "Bradford", "role": "staff"}, [
        ("Staff: We ran drop-in sessions at the community centre every Tuesday.", True),
        ("Staff: Local jobs are mostly in warehouses and care, on night shifts.", True),
        ("Staff: Childcare costs meant many parents could not take part.", True),
        ("Staff: Some clients had no English and needed interpreters at every appointment.", True),
    ], "\r\n"),
}

# label: (status, category, top terms, [(source, sentence index, probability)], quote ranks)
THEMES = {
    "Language barriers": ("accepted", "barrier", ["english", "language", "interpreter"],
                          [("interview_01.txt", 1, 0.95), ("smith_2019.md", 0, 0.9), ("interview_02.txt", 3, 0.7)]),
    "Trusted community mentors": ("accepted", "enabler", ["mentor", "community", "trust"],
                                  [("interview_01.txt", 2, 0.9), ("smith_2019.md", 1, 0.8)]),
    "Outreach in community venues": ("accepted", "practice", ["venue", "session", "outreach"],
                                     [("smith_2019.md", 2, 0.92), ("survey_r17", 0, 0.85), ("interview_02.txt", 0, 0.8)]),
    "Local labour market": ("suggested", "context", ["job", "warehouse", "shift"], [("interview_02.txt", 1, 0.9)]),
    "Childcare": ("rejected", "barrier", ["childcare", "cost"], [("interview_02.txt", 2, 0.9)]),
}


@dataclass
class Built:
    path: Path
    theme_ids: dict[str, int] = field(default_factory=dict)
    guids: dict[str, str] = field(default_factory=dict)
    passage_ids: dict[tuple[str, int], int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_review_project(path: Path) -> Built:
    built = Built(path)
    rng = np.random.default_rng(7)
    with Project.open(path) as project, project.transaction():
        for name, (kind, meta, sentences, joiner) in SOURCES.items():
            text = joiner.join(s for s, _ in sentences) + joiner
            spans, at = [], 0
            for sentence, codable in sentences:
                start = text.index(sentence, at)
                spans.append(PassageSpan(start, start + len(sentence), sentence,
                                         speaker=sentence.split(":")[0] if ":" in sentence[:12] else None, codable=codable))
                at = start + len(sentence)
            doc = ExtractedDocument(name=name, path=f"/evidence/{name}", kind=kind, text=text, sha256=sha(text), metadata=meta)
            _, ids = project.add_source(doc, spans, [sha(s.text) for s in spans])
            built.texts[name] = text
            for i, pid in enumerate(ids):
                built.passage_ids[(name, i)] = pid
        run_id = project.add_run(started_at="2026-01-01T00:00:00+00:00", seed=42, model_id=MODEL_ID, params={},
                                 stats={}, report={})
        vectors = {}
        for k, (label, (status, category, terms, members)) in enumerate(THEMES.items()):
            centre = np.zeros(8, dtype=np.float32)
            centre[k] = 3.0
            tid = project.create_theme(label=label, definition=f"Passages about {terms[0]} and {terms[1]}.",
                                       top_terms=terms, run_id=run_id, status=status, centroid=centre)
            project.update_theme(tid, bump_revision=False, category=category, category_confidence=0.8,
                                 category_mix={category: 1.0},
                                 category_reasons=[f"{len(members)} of {len(members)} passages read as {category}",
                                                   f'{category} cues: "{terms[0]}" ×1'])
            built.theme_ids[label] = tid
            built.guids[label] = project.theme(tid).guid
            for source, index, probability in members:
                pid = built.passage_ids[(source, index)]
                project.set_membership(pid, tid, probability=probability, placed=True, by_human=False, run_id=run_id)
                text = SOURCES[source][2][index][0]
                vectors[sha(text)] = centre + rng.normal(0, 0.3, 8).astype(np.float32)
            project.set_quotes(tid, [built.passage_ids[(s, i)] for s, i, _ in members][:2])
        for (source, index), pid in built.passage_ids.items():
            sentence, codable = SOURCES[source][2][index]
            if codable:
                vectors.setdefault(sha(sentence), rng.normal(0, 1, 8).astype(np.float32))
                category = next((THEMES[label][1] for label, spec in THEMES.items()
                                 if any(m[0] == source and m[1] == index for m in spec[3])), "context")
                scores = {c: 0.1 for c in ("barrier", "enabler", "practice", "context")}
                scores[category] = 0.7
                project.set_passage_category(pid, category, scores, [])
        project.store_embeddings(MODEL_ID, vectors)

        # The reviewer's work, in the shape the review log uses.
        t = built.theme_ids
        for label in ("Language barriers", "Trusted community mentors", "Outreach in community venues"):
            project.update_theme(t[label], status="accepted")
            project.log_decision(reviewer=REVIEWER, action="accept", theme_id=t[label],
                                 before={"themes": {str(t[label]): {"status": "suggested"}}},
                                 after={"themes": {str(t[label]): {"status": "accepted"}}})
        project.update_theme(t["Language barriers"], label_by_human=True)
        project.log_decision(reviewer=REVIEWER, action="rename", theme_id=t["Language barriers"],
                             before={"themes": {str(t["Language barriers"]): {"label": "english / forms / struggle"}}},
                             after={"themes": {str(t["Language barriers"]): {"label": "Language barriers"}}})
        # The mentor passage of the literature was first in the language theme; the reviewer moved it.
        moved = built.passage_ids[("smith_2019.md", 1)]
        project.set_membership(moved, t["Trusted community mentors"], probability=0.8, placed=True, by_human=True)
        project.log_decision(reviewer=REVIEWER, action="move", theme_id=t["Trusted community mentors"], passage_id=moved,
                             before={"memberships": {str(moved): {"theme_id": t["Language barriers"], "placed": True,
                                                                  "probability": 0.5, "by_human": False}}},
                             after={"memberships": {str(moved): {"theme_id": t["Trusted community mentors"],
                                                                 "placed": True, "probability": 0.8, "by_human": True}}})
        project.log_decision(reviewer=REVIEWER, action="memo", theme_id=t["Outreach in community venues"],
                             after={"memo": "Only venues outside Jobcentre offices count."})
        project.log_decision(reviewer="ben", action="reject", theme_id=t["Childcare"],
                             before={"themes": {str(t["Childcare"]): {"status": "suggested"}}},
                             after={"themes": {str(t["Childcare"]): {"status": "rejected"}}})
    return built


def placed_passages(built: Built, label: str) -> list[tuple[str, int]]:
    """(source, sentence index) of each passage placed in the theme after the review."""
    return [(s, i) for s, i, _ in THEMES[label][3]]
