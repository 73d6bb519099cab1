"""The small review project the review tests share, built directly through the `Project` API
(sources, passages at exact offsets, embeddings, themes, memberships), so that those tests do not
depend on clustering; conftest.py serves it as the `built` and `project` fixtures.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synth.records import ExtractedDocument, PassageSpan
from synth.store import Project, now_iso

MODEL_ID = "test-model"
DIM = 8
HOSTILE = 'She wrote <script>alert("pwned")</script> and <img src=x onerror=alert(1)> in the form, &amp; more.'

# (source, group, category, text). Groups: A1/A2 are two halves of theme A (staffing), B training,
# C funding; None is unplaced. A1 and A2 differ in embedding and category, so both kinds of split
# separate them.
PASSAGES = [
    ("interview-alice", "A1", "barrier", "We never had enough caseworkers; the waiting list just grew."),
    ("interview-alice", "B", "enabler", "The induction course gave new advisers real confidence with clients."),
    ("interview-alice", "A2", "practice", "We now recruit peer mentors from people who finished the programme."),
    ("interview-alice", "C", "barrier", "Money from the council arrived six months late, so we paused intake."),
    ("interview-alice", None, "context", "The office is next to the bus station."),
    ("report-2021", "A1", "barrier", "Staff shortages were the most cited obstacle across all sites."),
    ("report-2021", "B", "enabler", "Structured training for frontline staff improved retention."),
    ("report-2021", "C", "barrier", "Delayed grant payments forced providers to cut services mid-year."),
    ("report-2021", "A2", "practice", "Sites that hired former participants as mentors filled vacancies faster."),
    ("survey-answers", "A1", "barrier", "not enough staff to see everyone"),
    ("survey-answers", "B", "enabler", "the training helped me do my job"),
    ("survey-answers", "A2", "practice", "they should hire people who have been through it"),
    ("survey-answers", "C", "barrier", "funding came too late every year"),
    ("survey-answers", None, "enabler", "my adviser was kind and listened"),
    ("hostile-notes", "B", "enabler", HOSTILE),
    ("hostile-notes", None, "context", "Plain closing remark <b>not bold</b>."),
]
KINDS = {"interview-alice": "interview", "report-2021": "literature", "survey-answers": "survey",
         "hostile-notes": "interview"}
META = {"interview-alice": {"programme": "Into Work", "area": "Leeds"}, "report-2021": {"year": "2021"},
        "survey-answers": {"programme": "Into Work"}, "hostile-notes": {"area": "<i>Hull</i>"}}
GROUP_VECTOR = {"A1": (0, 5), "A2": (0, 6), "B": (1,), "C": (2,), None: (1, 3)}


@dataclass
class Built:
    path: Path
    themes: dict[str, int] = field(default_factory=dict)       # "A", "B", "C" -> theme id
    passages: dict[str, list[int]] = field(default_factory=dict)  # group -> passage ids
    sources: dict[str, int] = field(default_factory=dict)      # name -> source id
    text: dict[int, str] = field(default_factory=dict)         # passage id -> text


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _vector(group: str | None, rng: np.random.Generator) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    for i in GROUP_VECTOR[group]:
        v[i] = 1.0 if i < 3 else 0.6
    v += rng.normal(0, 0.03, DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def build_review_project(path: Path) -> Built:
    """A small project as discover would leave it: 3 suggested themes, 3 unplaced passages."""
    built = Built(path)
    rng = np.random.default_rng(0)
    with Project.open(path) as project, project.transaction():
        run_id = project.add_run(started_at=now_iso(), seed=0, model_id=MODEL_ID, params={}, stats={}, report={})
        by_source: dict[str, list[tuple]] = {}
        for row in PASSAGES:
            by_source.setdefault(row[0], []).append(row)
        vectors: dict[str, np.ndarray] = {}
        placed: dict[str, list[tuple[int, float]]] = {}
        for name, rows in by_source.items():
            text, spans = f"Notes: {name}\n\n", []
            for _, group, _, passage in rows:
                spans.append(PassageSpan(len(text), len(text) + len(passage), passage))
                text += passage + "\n\n"
            doc = ExtractedDocument(name=name, path=f"{name}.txt", kind=KINDS[name], text=text, sha256=_sha(text),
                                    metadata=META[name])
            source, ids = project.add_source(doc, spans, [_sha(s.text) for s in spans])
            built.sources[name] = source.id
            for pid, span, (_, group, category, passage) in zip(ids, spans, rows, strict=True):
                assert source.text[span.start_char:span.end_char] == passage
                vectors[_sha(passage)] = _vector(group, rng)
                built.passages.setdefault(str(group), []).append(pid)
                built.text[pid] = passage
                scores = {c: 0.1 for c in ("barrier", "enabler", "practice", "context")}
                scores[category] = 0.7
                project.set_passage_category(pid, category, scores, [])
                placed.setdefault(str(group)[0] if group else "none", []).append((pid, float(rng.uniform(0.6, 0.95))))
        project.store_embeddings(MODEL_ID, vectors)
        specs = {"A": ("Staffing", "barrier", ["staff", "shortage", "recruit"]),
                 "B": ("Training", "enabler", ["training", "induction"]),
                 "C": ("Funding delays", "barrier", ["funding", "late"])}
        for key, (label, category, terms) in specs.items():
            members = placed[key]
            centroid = np.mean([vectors[_sha(built.text[pid])] for pid, _ in members], axis=0)
            theme_id = project.create_theme(label=label, definition=f"Passages about {label.lower()}.",
                                            top_terms=terms, run_id=run_id, centroid=centroid)
            project.update_theme(theme_id, bump_revision=False, category=category, category_confidence=0.62,
                                 category_mix={category: 0.7, "context": 0.3},
                                 category_reasons=[f"most passages read as {category}"])
            for pid, prob in members:
                project.set_membership(pid, theme_id, probability=prob, placed=True, by_human=False, run_id=run_id)
            project.set_quotes(theme_id, [pid for pid, _ in members][:3])
            built.themes[key] = theme_id
        # One unplaced passage remembers its nearest theme (as discover leaves it); the rest have none.
        project.set_membership(built.passages["None"][0], built.themes["B"], probability=0.2, placed=False,
                               by_human=False, run_id=run_id)
    return built


def build_big_project(path: Path, *, sources: int = 50, per_source: int = 100, placed: int = 3000) -> tuple[int, int]:
    """sources × per_source passages; the first `placed` in one theme, the rest unplaced. Returns (theme, source)."""
    rng = np.random.default_rng(1)
    with Project.open(path) as project, project.transaction():
        run_id = project.add_run(started_at=now_iso(), seed=0, model_id=MODEL_ID, params={}, stats={}, report={})
        all_ids, vectors = [], {}
        first_source = None
        for s in range(sources):
            parts = [f"Passage {s}-{i}: the service {'worked' if i % 2 else 'failed'} for person {i}." for i in range(per_source)]
            text, spans = "", []
            for part in parts:
                spans.append(PassageSpan(len(text), len(text) + len(part), part))
                text += part + "\n"
            doc = ExtractedDocument(name=f"doc-{s:03d}", path=f"doc-{s:03d}.txt", kind="interview", text=text,
                                    sha256=_sha(text))
            source, ids = project.add_source(doc, spans, [_sha(p) for p in parts])
            first_source = first_source or source.id
            all_ids += ids
            for part in parts:
                vectors[_sha(part)] = rng.normal(size=DIM).astype(np.float32)
        project.store_embeddings(MODEL_ID, vectors)
        theme_id = project.create_theme(label="Big theme", run_id=run_id, centroid=np.ones(DIM, dtype=np.float32))
        other = project.create_theme(label="Other theme", run_id=run_id, centroid=-np.ones(DIM, dtype=np.float32))
        for pid in all_ids[:placed]:
            project.set_membership(pid, theme_id, probability=0.5, placed=True, by_human=False, run_id=run_id)
        for pid in all_ids[placed:placed + 10]:
            project.set_membership(pid, other, probability=0.5, placed=True, by_human=False, run_id=run_id)
    return theme_id, first_source


def members(project: Project, theme_id: int) -> set[int]:
    return {m.passage_id for m in project.memberships(theme_id=theme_id, placed=True)}


# A tiny corpus for the tests that run the real ingest + discover.
CORPUS = {
    "staffing.txt": [
        "We never had enough caseworkers to see every client, so the waiting list kept growing.",
        "Staff shortages meant advisers carried caseloads far above the recommended level.",
        "Recruiting experienced advisers was hard because the pay was lower than elsewhere.",
        "Vacancies stayed open for months and the remaining staff were exhausted.",
        "The service lost three caseworkers in one year and could not replace them quickly.",
        "Sickness absence among overstretched staff made the shortage worse every winter.",
    ],
    "training.txt": [
        "The induction course gave new advisers real confidence when working with clients.",
        "Structured training for frontline staff improved how they handled difficult cases.",
        "Shadowing an experienced colleague for two weeks was the most useful training I had.",
        "Regular refresher training kept advisers up to date with benefit rules.",
        "Online training modules let staff learn at their own pace between appointments.",
        "Mentoring from a senior adviser helped new starters settle into the role.",
    ],
    "funding.txt": [
        "Money from the council arrived six months late, so we had to pause new referrals.",
        "Delayed grant payments forced providers to cut services in the middle of the year.",
        "Short funding cycles meant we could never plan more than a few months ahead.",
        "The contract was renewed at the last minute every year, which made staff anxious.",
        "Uncertain funding stopped us from offering permanent contracts to good staff.",
        "When the grant was cut we closed the evening drop-in sessions.",
    ],
}


def discover_corpus(synth, project: Path) -> Path:
    """CORPUS written as three interviews beside `project`, ingested into it and discovered (seed 42), with the
    real CLI (`synth` is conftest's runner): the project's path."""
    corpus = project.parent / "corpus"
    corpus.mkdir()
    for name, paragraphs in CORPUS.items():
        (corpus / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    synth.ok("ingest", project, corpus, "--kind", "interview")
    synth.ok("discover", project, "--seed", "42")
    return project
