"""Warm start: a re-run that adds a few passages extends the stored themes instead of re-partitioning.

Why (issue 13, items 7 and 8): a fresh partition of a corpus with one more interview moves the
boundaries of most themes (Ward's tree, the number of themes and the minimum size all follow the
corpus size), so on the demo only 3 of 12 themes kept their id and 90 % of their passages, and
every theme a reviewer had not accepted could change under them. When the passages that are new
since the last full partition are a small share of the corpus (`WARM_SHARE`), discover instead:

1. keeps every stored theme with its members, placed and unplaced, as the last run left them
   (and so every reviewer's decision: accepted, renamed, merged, moved, rejected);
2. places each new passage by the rule the clustering uses for passages its refits disagreed on
   (`synth.refine.place_near`): in its nearest stored theme when it sits as close to the theme's
   centre as the theme's own placed members typically do, else it stays unplaced (nearest theme
   recorded); by the same rule it offers each passage the machine left unplaced before to the live
   theme recorded as its nearest: the themes have changed since (carved, split, moved into, joined
   by the new passages), and a passage now as close as a theme's own members is no longer an
   outlier of it. A passage a reviewer took out of a theme (or placed) is never offered: it stays
   as the reviewer left it;
3. groups the new passages left unplaced into candidate new themes by the recurring-idea rule of
   `synth.recurring.gather_unplaced` (at least 3 passages from 3 sources, as tight as a typical
   theme), so a new idea still needs to recur across sources.

A re-run with nothing new changes nothing. Past the share, with other clustering settings, another
model, or `synth discover --recluster`, discover partitions the whole corpus again and matches the
new themes to the stored ones (`synth.match`). The share counts every passage added or removed
since the last full partition, so warm starts cannot drift far from what a full run would find.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .cluster import Clustering
from .label import ThemeDescription
from .match import CHANGED, KEPT, NEW, MatchReport, ThemeMatch
from .records import Passage
from .recurring import gather_unplaced
from .refine import place_near, unit
from .vectors import UnitRows, unit_rows

WARM_SHARE = 0.10  # passages added or removed since the last full partition, as a share of the corpus
KEPT_JACCARD = 0.8  # as synth.match: a theme that kept this share of its members is 'kept'
# Run params a warm start must share ("merged_partition": synth/partition_choice.py, the partition chosen).
SETTINGS = ("clusterer", "min_theme_size", "stance", "codebook", "turn_context", "merged_partition")


@dataclass(frozen=True)
class StoredTheme:
    """A live (or rejected) theme of the last run, as the store has it."""

    theme_id: int
    label: str
    definition: str
    top_terms: tuple[str, ...]
    centroid: np.ndarray | None
    quotes: tuple[int, ...]  # passage ids, in rank order
    live: bool = True  # False: rejected; earlier unplaced passages are not offered to it


@dataclass(frozen=True)
class StoredMembership:
    theme_id: int
    probability: float
    placed: bool
    by_human: bool = False  # a reviewer placed it, or took it out of a theme: discover leaves it be


@dataclass(frozen=True)
class WarmStart:
    """The run's clustering over the inductive passages: the stored themes first, in `theme_ids`
    order, then the candidate new themes (described by discover like any new theme)."""

    clustering: Clustering
    theme_ids: tuple[int, ...]
    stored_descriptions: tuple[ThemeDescription, ...]
    matching: MatchReport  # stored themes -> their own ids; new themes NEW; stored themes left empty: gone
    new_passages: int
    removed_passages: int
    since_full: int  # passages added or removed since the last full partition, this run's included
    base_run: int  # the run that made the last full partition

    @property
    def n_new_themes(self) -> int:
        return self.clustering.n_themes - len(self.theme_ids)


def warm_start_reason(last_run: Mapping | None, settings: Mapping, *, same_space: bool, recluster: bool,
                      changed: int, n: int) -> str | None:
    """Why this run partitions the corpus afresh (None: it may warm-start)."""
    if recluster:
        return "asked for (--recluster)"
    if last_run is None:
        return "first run"
    if not same_space:
        return "another embedding model or route than the last run"
    params = last_run.get("params") or {}
    differing = [key for key in SETTINGS if params.get(key) != settings.get(key)]
    if differing:
        return "other settings than the last run (" + ", ".join(differing) + ")"
    since = int((last_run.get("stats") or {}).get("warm_start", {}).get("since_full", 0)) + changed
    if since > WARM_SHARE * n:
        return f"{since} passages added or removed since the last full partition, over {WARM_SHARE:.0%} of {n}"
    return None


def changed_passages(passages: Sequence[Passage], stored: Mapping[int, StoredMembership],
                     last_run: Mapping | None) -> tuple[int, int]:
    """(new, removed): passages without a stored place in a stored theme, and the last run's
    passages that are no longer here (its count, less those still stored)."""
    new = sum(1 for p in passages if p.id not in stored)
    before = int(((last_run or {}).get("stats") or {}).get("n_passages", 0))
    return new, max(0, before - (len(passages) - new))


def warm_start(passages: Sequence[Passage], vectors: np.ndarray | UnitRows, group_ids: np.ndarray,
               themes: Sequence[StoredTheme], stored: Mapping[int, StoredMembership], *,
               removed: int, since_before: int, base_run: int, place_threshold: float = 0.5) -> WarmStart:
    """The stored themes extended by the new passages (module docstring); pure, over arrays.

    `stored`: passage id -> its stored membership, for passages placed or recorded in one of `themes`;
    every other passage is new.
    """
    n = len(passages)
    X = unit_rows(vectors)
    index = {t.theme_id: j for j, t in enumerate(themes)}
    k = len(themes)
    old = np.array([p.id in stored for p in passages], bool)
    nearest = np.full(n, -1, np.int64)
    placed = np.zeros(n, bool)
    probability = np.zeros(n)
    for i, p in enumerate(passages):
        m = stored.get(p.id)
        if m is not None:
            nearest[i], placed[i], probability[i] = index[m.theme_id], m.placed, m.probability

    centres = np.zeros((k, X.shape[1]), np.float32)
    for j in range(k):
        members = np.flatnonzero(placed & (nearest == j))
        if len(members):
            centres[j] = unit(X[members].astype(np.float64).sum(axis=0))
    new = np.flatnonzero(~old)
    has_members = centres.any(axis=1)
    if len(new) and has_members.any():
        sims = X[new] @ centres.T
        sims[:, ~has_members] = -np.inf
        nearest[new] = np.argmax(sims, axis=1)
    centroids = [t.centroid if t.centroid is not None and t.centroid.shape == (X.shape[1],) else centres[j]
                 for j, t in enumerate(themes)]

    # Placed members (they set each theme's centre and floor), new passages, and the passages the
    # machine left unplaced before whose recorded nearest theme is live (offered again by the same
    # rule; a reviewer's 'not in this theme' is never revisited). With nothing new nothing is
    # offered: a re-run with nothing new changes nothing.
    offered = np.array([p.id in stored and not stored[p.id].placed and not stored[p.id].by_human
                        and themes[index[stored[p.id].theme_id]].live for p in passages], bool)
    rows = np.flatnonzero(placed | (~old & (nearest >= 0)) | offered)
    offered_placed = 0
    if len(new) and len(rows) and k:
        near = place_near(X[rows], nearest[rows], placed[rows])
        now = near & ~placed[rows]
        offered_placed = int((now & offered[rows]).sum())
        probability[rows[now]] = np.maximum(probability[rows[now]], place_threshold)
        placed[rows] = near
        view = Clustering(labels=np.where(placed[rows], nearest[rows], -1), nearest=nearest[rows],
                          probability=probability[rows], centroids=np.asarray(centres, np.float32))
        gathered, made = gather_unplaced(view, X[rows], np.asarray(group_ids)[rows])
        if made:
            fresh = np.flatnonzero(gathered.labels >= k)
            nearest[rows[fresh]] = gathered.labels[fresh]
            placed[rows[fresh]] = True
            probability[rows[fresh]] = gathered.probability[fresh]
            centroids.extend(gathered.centroids[k:])
    # A new passage with no theme to be near (every stored theme is empty) has nowhere to go.
    nowhere = nearest < 0
    labels = np.where(placed & ~nowhere, nearest, -1)
    clustering = Clustering(labels=labels, nearest=nearest, probability=probability,
                            centroids=np.stack(centroids).astype(np.float32) if centroids else np.zeros((0, X.shape[1]), np.float32),
                            stats={"n_passages": n, "n_themes": len(centroids),
                                   "coverage": float((labels >= 0).mean()) if n else 0.0,
                                   "unplaced": int((labels < 0).sum()),
                                   "earlier_unplaced_placed": offered_placed})

    position = {p.id: i for i, p in enumerate(passages)}
    descriptions = tuple(ThemeDescription(label=t.label, definition=t.definition, top_terms=t.top_terms,
                                          quote_indices=tuple(position[q] for q in t.quotes if q in position))
                         for t in themes)
    matches, gone = [], []
    was_placed = np.array([p.id in stored and stored[p.id].placed for p in passages], bool)
    for j, t in enumerate(themes):
        before = was_placed & (nearest == j)
        now = labels == j
        if not now.any() and not (nearest == j).any():
            gone.append(t.theme_id)
        shared = int((before & now).sum())
        union = int((before | now).sum())
        similarity = shared / union if union else 1.0
        matches.append(ThemeMatch(j, t.theme_id, KEPT if similarity >= KEPT_JACCARD else CHANGED, similarity, "members"))
    matches.extend(ThemeMatch(j, None, NEW) for j in range(k, len(centroids)))
    changed = int(len(new)) + removed
    return WarmStart(clustering=clustering, theme_ids=tuple(t.theme_id for t in themes),
                     stored_descriptions=descriptions, matching=MatchReport(tuple(matches), tuple(gone)),
                     new_passages=int(len(new)), removed_passages=removed, since_full=since_before + changed,
                     base_run=base_run)


def stats_of(warm: WarmStart) -> dict:
    """What the run records of a warm start (the next run reads `since_full` and `base_run`)."""
    return {**warm.clustering.stats, "warm_start": {
        "base_run": warm.base_run, "since_full": warm.since_full, "new_passages": warm.new_passages,
        "removed_passages": warm.removed_passages, "new_themes": warm.n_new_themes}}


def read_stored(project, passages: Sequence[Passage], exclude: set[int]) -> tuple[list[StoredTheme], dict[int, StoredMembership]]:
    """The themes a warm start extends (the reviewable ones, less `exclude`: codes seeding this run)
    and the stored membership of each of `passages` that sits in one of them."""
    from .statuses import LIVE, REVIEWABLE

    themes = [StoredTheme(theme_id=t.id, label=t.label, definition=t.definition, top_terms=tuple(t.top_terms),
                          centroid=project.theme_centroid(t.id), quotes=tuple(q.id for q in project.quotes(t.id)),
                          live=t.status in LIVE)
              for t in project.themes(statuses=REVIEWABLE) if t.id not in exclude]
    ids = {t.theme_id for t in themes}
    stored = {pid: StoredMembership(m.theme_id, float(m.probability), bool(m.placed), bool(m.by_human))
              for pid, m in project.memberships_of([p.id for p in passages]).items() if m.theme_id in ids}
    return themes, stored


def prepare(project, last_run: Mapping | None, passages: Sequence[Passage], vectors: np.ndarray | UnitRows,
            group_ids: np.ndarray, settings: Mapping, *, exclude: set[int], same_space: bool,
            recluster: bool) -> tuple[WarmStart | None, str]:
    """discover's entry: the stored themes extended by the new passages, or None and the reason this
    run partitions every passage afresh."""
    themes, stored = read_stored(project, passages, exclude) if last_run is not None else ([], {})
    new, removed = changed_passages(passages, stored, last_run)
    reason = warm_start_reason(last_run, settings, same_space=same_space, recluster=recluster,
                               changed=new + removed, n=len(passages))
    if reason is None and not stored:
        reason = "no stored themes to extend"
    if reason is not None:
        return None, reason
    previous = (last_run.get("stats") or {}).get("warm_start", {})
    return warm_start(passages, vectors, group_ids, themes, stored, removed=removed,
                      since_before=int(previous.get("since_full", 0)),
                      base_run=int(previous.get("base_run", last_run["id"]))), ""
