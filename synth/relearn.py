"""What the project teaches: reads the reviewer's decisions, asks synth/learn.py, hands back records.

Discover calls `learned_categories` and `taught_themes` (and writes what they return in its one
transaction); `synth passage categorise` calls `refresh_learned_categories` right after a reviewer
sets a category, and the review app relearns the same way in the background after each decision
that teaches (`prepare_refresh`, then `apply_refresh`; synth/review/relearner.py). Every reader of a passage's
category goes through `effective_categories`: the reviewer's where set, else the learned
suggestion, else the machine's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from typing import TYPE_CHECKING

from . import learn, placement
from .records import CATEGORIES, Passage
from .store import Project

if TYPE_CHECKING:
    from .categorise import PassageCategory

# Above this many codable passages the app leaves relearning to the next discover (it would take
# more than a moment on a laptop: reading every vector from the project file).
REFRESH_LIMIT = 20_000


@dataclass(frozen=True)
class EffectiveCategory:
    category: str
    by: str                        # "reviewer", "learned" or "machine"
    scores: Mapping[str, float]    # the machine's or the learned model's (a reviewer's: 1 for their choice)
    reasons: tuple[str, ...] = ()


def effective_categories(project: Project, passage_ids: Sequence[int] | None = None) -> dict[int, EffectiveCategory]:
    """Each passage's current category: the reviewer's where they set one, else the learned suggestion,
    else the machine's."""
    machine = project.passage_categories(passage_ids)
    learned = project.learned_categories(passage_ids)
    reviewed = project.reviewed_categories(passage_ids)
    out: dict[int, EffectiveCategory] = {}
    for pid in set(machine) | set(learned) | set(reviewed):
        if pid in reviewed:
            cat = reviewed[pid]["category"]
            out[pid] = EffectiveCategory(cat, "reviewer", {c: float(c == cat) for c in CATEGORIES},
                                         (f"set by {reviewed[pid]['reviewer']} at {reviewed[pid]['at']}",))
        elif pid in learned:
            out[pid] = EffectiveCategory(learned[pid]["category"], "learned", learned[pid]["scores"],
                                         tuple(learned[pid]["reasons"]))
        else:
            out[pid] = EffectiveCategory(machine[pid]["category"], "machine", machine[pid]["scores"])
    return out


def _taught(project: Project, passage_ids: Sequence[int]) -> dict[int, str]:
    """Passage id → category a reviewer taught: set on the passage itself, or (weaker, and only where
    the passage has none of its own) the category a reviewer gave the accepted theme it is placed in."""
    ids = set(passage_ids)
    taught: dict[int, str] = {}
    accepted = {t.id: t.category for t in project.themes(statuses=("accepted",)) if t.category_by_human and t.category}
    if accepted:
        for m in project.memberships(placed=True):
            if m.theme_id in accepted and m.passage_id in ids:
                taught[m.passage_id] = accepted[m.theme_id]
    for pid, r in project.reviewed_categories().items():
        if pid in ids:
            taught[pid] = r["category"]
    return taught


def machine_scores(machine: Sequence[PassageCategory | Mapping]) -> np.ndarray:
    """(n, 4) scores in CATEGORIES order, from PassageCategory records or stored score dicts."""
    return np.array([[(m.scores if hasattr(m, "scores") else m)[c] for c in CATEGORIES] for m in machine])


def passage_contexts(project: Project, passages: Sequence[Passage]) -> list[tuple[str, ...]]:
    """Where each passage comes from, as "key=value" items: its source's kind and metadata."""
    kinds = {s.id: s.kind for s in project.sources()}
    meta = project.source_metadata()
    return [(f"kind={kinds.get(p.source_id, '')}", *(f"{k}={v}" for k, v in meta.get(p.source_id, {}).items()))
            for p in passages]


def reply_forms(machine: Sequence[PassageCategory | Mapping]) -> list[tuple[str, ...]]:
    """Each passage's form of reply as context items (learn.REPLY_NIL for a nil answer, found by the
    machine's cues), from PassageCategory records or stored category dicts (their "cues").

    A reply that concedes something before a "but" is not a form of its own: as a stratum it gained
    about 0.002 on NHS and lost 0.01-0.02 on NaPiRE text only (docs/benchmarks.md, "Contrast and nil
    answers, third pass"); the contrast acts through the cues' weights instead (cue_match._with_contrast)."""
    from .cue_match import NIL_LEMMA

    def nil(m: PassageCategory | Mapping) -> bool:
        cues = m.cues if hasattr(m, "cues") else m.get("cues", ())
        return any((c.lemma if hasattr(c, "lemma") else c.get("lemma")) == NIL_LEMMA for c in cues)

    return [(learn.REPLY_NIL,) if nil(m) else () for m in machine]


def learned_categories(project: Project, passages: Sequence[Passage], vectors: np.ndarray,
                       scores: np.ndarray, forms: Sequence[Sequence[str]] | None = None
                       ) -> dict[int, learn.LearnedCategory]:
    """A learned suggestion for every passage the reviewer did not categorise (empty when nothing was
    taught); `scores` are the machine's, one row per passage in CATEGORIES order; `forms`: each
    passage's form of reply (`reply_forms`), which joins its context."""
    taught = _taught(project, [p.id for p in passages])
    if not taught:
        return {}
    rows = [i for i, p in enumerate(passages) if p.id in taught]
    examples = [learn.TaughtPassage(passages[i].id, taught[passages[i].id], passages[i].text) for i in rows]
    contexts = passage_contexts(project, passages)
    if forms is not None:
        contexts = [(*c, *f) for c, f in zip(contexts, forms, strict=True)]
    results = learn.learn_categories(examples, vectors[rows], vectors, scores, taught_rows=rows,
                                     contexts=contexts, texts=[p.text for p in passages])
    reviewed = project.reviewed_categories()
    return {p.id: r for p, r in zip(passages, results) if p.id not in reviewed}


def store_learned(project: Project, learned: Mapping[int, learn.LearnedCategory], run_id: int | None) -> None:
    project.replace_learned_categories({pid: {"category": r.category, "scores": dict(r.scores), "reasons": r.reasons}
                                        for pid, r in learned.items()}, run_id)


def with_learned(passages: Sequence[Passage], machine: Sequence[PassageCategory],
                 learned: Mapping[int, learn.LearnedCategory], reviewed: Mapping[int, dict]) -> dict[int, PassageCategory]:
    """The categories a theme's vote counts: the reviewer's, else the learned, else the machine's."""
    from .categorise import PassageCategory
    out = {}
    for p, m in zip(passages, machine):
        if p.id in reviewed:
            cat = reviewed[p.id]["category"]
            out[p.id] = PassageCategory(scores={c: float(c == cat) for c in CATEGORIES}, category=cat, cues=m.cues)
        elif p.id in learned:
            out[p.id] = PassageCategory(scores=dict(learned[p.id].scores), category=learned[p.id].category, cues=m.cues)
        else:
            out[p.id] = m
    return out


@dataclass(frozen=True)
class Refresh:
    """Suggestions relearned from one state of the project (`state`, see `learning_state`): written by
    `apply_refresh` only while the project is still in that state."""

    state: str
    run_id: int
    learned: Mapping[int, learn.LearnedCategory]
    changed: int  # how many passages' current category the new suggestions change


def learning_state(project: Project, codable_ids: Sequence[int] | None = None) -> str:
    """A digest of everything a relearn reads that a reviewer or a command can change without a new
    run: the latest run, which passages are codable, and what is taught (`_taught`). Two states with
    the same digest give the same suggestions; any decision that teaches changes it."""
    run = project.latest_run()
    ids = [p.id for p in project.passages(codable_only=True)] if codable_ids is None else list(codable_ids)
    taught = sorted(_taught(project, ids).items())
    return hashlib.sha256(repr((run["id"] if run else None, ids, taught)).encode()).hexdigest()


def too_large_to_refresh(project: Project) -> bool:
    return project.more_codable_than(REFRESH_LIMIT)


def prepare_refresh(project: Project) -> Refresh | None:
    """Relearn from the stored vectors and machine categories, writing nothing (the slow part: a few
    seconds at 10,000 passages). None where there is nothing to relearn from (no discover yet, no
    stored vectors) or the project is over REFRESH_LIMIT. Reads one consistent state (`snapshot`)."""
    with project.snapshot():
        run = project.latest_run()
        if run is None:
            return None
        passages = project.passages(codable_only=True)
        if len(passages) > REFRESH_LIMIT:
            return None
        state = learning_state(project, [p.id for p in passages])
        vectors = project.cached_embeddings(run["model_id"], [p.text_sha256 for p in passages])
        stored = project.passage_categories()
        keep = [i for i, p in enumerate(passages) if p.text_sha256 in vectors and p.id in stored]
        if not keep:
            return None
        passages = [passages[i] for i in keep]
        matrix = np.stack([vectors[p.text_sha256] for p in passages])
        machine = machine_scores([stored[p.id]["scores"] for p in passages])
        before = {pid: r.category for pid, r in effective_categories(project).items()}
        learned = learned_categories(project, passages, matrix, machine,
                                     forms=reply_forms([stored[p.id] for p in passages]))
    changed = sum(1 for pid, r in learned.items() if before.get(pid) != r.category)
    return Refresh(state, run["id"], learned, changed)


def apply_refresh(project: Project, refresh: Refresh) -> bool:
    """Write `refresh` inside the caller's transaction if the project is still in the state it was
    learned from; False (nothing written) if a decision or a command has changed what teaches since:
    stale suggestions never replace ones a newer relearn (or discover) should make."""
    if learning_state(project) != refresh.state:
        return False
    store_learned(project, refresh.learned, refresh.run_id)
    return True


def refresh_learned_categories(project: Project) -> int:
    """Relearn at once (the CLI, after a decision); returns how many suggestions changed. Writes inside
    the caller's transaction. Skipped (0) on very large projects. The review app relearns in the
    background instead (synth/review/relearner.py), with `prepare_refresh` and `apply_refresh`."""
    refresh = prepare_refresh(project)
    if refresh is None or not apply_refresh(project, refresh):
        return 0
    return refresh.changed


# Themes a reviewer made from examples (`theme create`, the app) or imported with examples: they keep
# teaching placement after discover has placed passages in them.
TAUGHT_ORIGINS = ("reviewer", "codebook")


def taught_themes(project: Project, passages: Sequence[Passage], *, exclude: set[int]) -> list[tuple[int, tuple[int, ...]]]:
    """Live themes that teach placement: (theme id, rows of their examples), at least
    placement.MIN_EXAMPLES_PER_THEME of them. A theme's examples are the passages a reviewer placed in
    it by hand or coded to it beside their primary theme (`theme create` and "add to theme" code a
    passage discover had placed elsewhere). A theme a reviewer created or imported from a codebook
    teaches on every run, with the passages discover placed in it by those examples beside them; any
    other theme teaches only while every placed passage in it was placed by hand (built by moves,
    split out).

    A discovered theme that a reviewer only added to (a merge, a few moves) keeps being found by the
    clustering and matched across runs as before; taking it out of the clustering would reshuffle the
    other themes and re-create what the reviewer merged away."""
    row_of = {p.id: i for i, p in enumerate(passages)}
    themes = {t.id: t for t in project.themes()}
    live = set(themes) - exclude
    examples: dict[int, set[int]] = {}
    machine_placed: set[int] = set()
    for m in project.memberships(placed=True):
        if m.theme_id not in live:
            continue
        if not m.by_human:
            machine_placed.add(m.theme_id)
        elif m.passage_id in row_of:
            examples.setdefault(m.theme_id, set()).add(row_of[m.passage_id])
    for c in project.codings():
        if c.theme_id in live and c.passage_id in row_of:
            examples.setdefault(c.theme_id, set()).add(row_of[c.passage_id])
    return [(tid, tuple(sorted(rows))) for tid, rows in sorted(examples.items())
            if len(rows) >= placement.MIN_EXAMPLES_PER_THEME
            and (themes[tid].origin in TAUGHT_ORIGINS or tid not in machine_placed)]


@dataclass(frozen=True)
class CheckNext:
    """A passage worth a reviewer's look: the current model is least sure of its category."""

    passage: Passage
    category: EffectiveCategory
    uncertainty: float  # 1 minus the margin between the two best categories (0: sure, 1: a toss-up)


def check_next(project: Project, count: int = 10) -> list[CheckNext]:
    """The `count` codable passages, not categorised by a reviewer, whose current category (learned or
    machine) is least certain: confirming or correcting these teaches the model most (uncertainty
    sampling). Ties go to the earlier passage, so the queue is the same on every machine."""
    if count < 1:
        raise ValueError(f"count {count}: ask for at least one passage")
    passages = {p.id: p for p in project.passages(codable_only=True)}
    current = {pid: c for pid, c in effective_categories(project).items()
               if c.by != "reviewer" and pid in passages}
    if not current:
        return []
    ids = sorted(current)
    doubt = learn.uncertainty(np.array([[current[pid].scores.get(c, 0.0) for c in CATEGORIES] for pid in ids]))
    order = np.lexsort((np.array(ids), -doubt))[:count]
    return [CheckNext(passages[ids[i]], current[ids[i]], float(doubt[i])) for i in order]
