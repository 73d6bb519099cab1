"""Writing one discover run's results into the project, never over a reviewer's decision.

`synth.discover` decides what the themes are; this module owns how they land in the project file:
which stored themes they continue (or which reviewer's theme a cluster folds into), their
memberships (a placement a reviewer made, or one inside an accepted theme, is never changed), the
stance links, the suggestions a run retires, each theme's category and quotes, and where its label
occurs. Every function here runs inside discover's one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .categorise import categorise_theme
from .deductive import DeductivePlacement
from .label_phrases import contradicts
from .label_spans import label_locations
from .match import PreviousTheme
from .records import CATEGORIES, Passage
from .stance import StanceResult
from .statuses import REVIEWABLE
from .store import Membership, Project, ThemeRow

if TYPE_CHECKING:
    from .discover import DiscoverReport

MAX_QUOTES = 5


def _held_by_a_reviewer(existing: Membership | None, accepted: set[int]) -> bool:
    """Discover never changes a placement a reviewer made, nor takes a passage out of an accepted theme."""
    return bool(existing and (existing.by_human or (existing.placed and existing.theme_id in accepted)))


def write_deductive_memberships(project: Project, run_id: int, passages: list[Passage],
                                 deductive: DeductivePlacement, codes) -> None:
    accepted = {t.id for t in project.themes(statuses=("accepted",))}
    coded = {(c.passage_id, c.theme_id) for c in project.codings()}
    for i in np.flatnonzero(deductive.placed):
        if _held_by_a_reviewer(project.membership(passages[i].id), accepted):
            continue
        if (passages[i].id, codes[deductive.code[i]].id) in coded:  # a reviewer's example: coded there already
            continue
        project.set_membership(passages[i].id, codes[deductive.code[i]].id,
                               probability=float(np.clip(deductive.similarity[i], 0.0, 1.0)),
                               placed=True, by_human=False, run_id=run_id)


def previous_themes(project: Project, exclude: set[int], *, with_centroids: bool = True) -> dict[int, PreviousTheme]:
    """Live themes of earlier runs, with the text hashes of their placed passages (codes seeding
    this run are left out: clusters of the remaining passages must not take their identity)."""
    members: dict[int, set[str]] = {}
    hash_of = {p.id: p.text_sha256 for p in project.passages()}
    for m in project.memberships(placed=True):
        if m.passage_id in hash_of:
            members.setdefault(m.theme_id, set()).add(hash_of[m.passage_id])
    previous = {}
    for theme in project.themes(statuses=REVIEWABLE):
        if theme.id in exclude:
            continue
        centroid = project.theme_centroid(theme.id) if with_centroids else None
        if centroid is None and not members.get(theme.id):
            continue
        previous[theme.id] = PreviousTheme(members=frozenset(members.get(theme.id, ())), centroid=centroid)
    return previous


def held_placements(project: Project, passages: list[Passage]) -> np.ndarray:
    """Per passage, the theme a reviewer's decisions hold it in, or -1: placed by hand (a move, or a
    merge), in an accepted theme, or placed in a theme other themes were merged into (the reviewer
    said all of it is one theme, so its own passages must not leave to form a new one)."""
    accepted = {t.id for t in project.themes(statuses=("accepted",))}
    live = {t.id for t in project.themes()}
    merge_targets = {t.merged_into for t in project.themes(statuses=("merged",)) if t.merged_into is not None}
    by_passage = {m.passage_id: m for m in project.memberships(placed=True)}
    out = np.full(len(passages), -1, np.int64)
    for i, passage in enumerate(passages):
        m = by_passage.get(passage.id)
        if m is not None and m.theme_id in live and (_held_by_a_reviewer(m, accepted) or m.theme_id in merge_targets):
            out[i] = m.theme_id
    return out


def _reviewer_home(clustering, k: int, held: np.ndarray) -> int | None:
    """The live theme a reviewer's decisions hold most of cluster k's passages in, if any.

    A cluster that a reviewer already folded into another theme (merge, move, accept) must not come
    back as a new theme: its members would stay where the reviewer put them and leave it empty.
    """
    members = held[clustering.labels == k]
    if len(members) == 0:
        return None
    themes, counts = np.unique(members[members >= 0], return_counts=True)
    if len(themes) and counts.max() >= 0.5 * len(members):
        return int(themes[np.argmax(counts)])
    return None


def write_themes(project: Project, run_id: int, descriptions, clustering, matching, report: DiscoverReport,
                  held: np.ndarray) -> dict[int, int]:
    if clustering is None:
        return {}
    theme_of_cluster: dict[int, int] = {}
    for match in matching.matches:
        d = descriptions[match.new_index]
        centroid = clustering.centroids[match.new_index]
        home = _reviewer_home(clustering, match.new_index, held) if match.old_theme_id is None else None
        if home is not None:  # the reviewer's theme keeps its own label, definition and centroid
            theme_of_cluster[match.new_index] = home
            if home not in report.merged:
                report.merged.append(home)
            continue
        if match.old_theme_id is None:
            theme_id = project.create_theme(label=d.label, definition=d.definition, top_terms=d.top_terms,
                                            run_id=run_id, centroid=centroid)
            report.new.append(theme_id)
        else:
            theme_id = match.old_theme_id
            old = project.theme(theme_id)
            fields: dict[str, object] = {"top_terms": list(d.top_terms), "centroid": centroid, "last_run": run_id}
            if not old.label_by_human:
                fields["label"] = d.label
            if not old.definition_by_human:
                fields["definition"] = d.definition
            project.update_theme(theme_id, bump_revision=False, **fields)
            {"kept": report.kept, "changed": report.changed, "merged": report.merged}.get(match.status, report.changed).append(theme_id)
        theme_of_cluster[match.new_index] = theme_id
    return theme_of_cluster


def write_stance_links(project: Project, run_id: int, stance: StanceResult | None,
                        theme_of_cluster: dict[int, int]) -> None:
    """This run's stance siblings replace the last run's (a theme a reviewer merged away is not linked)."""
    links = []
    for split in (stance.splits if stance else ()):
        a, b = (theme_of_cluster.get(side) for side in split.sides)
        # Siblings share a topic phrase of substance (stance.shared_topic); halves of a theme that
        # share only a common word are two themes, not one topic seen from two sides.
        if a is not None and b is not None and a != b and split.topic:
            links.append((a, b, split.topic, split.stances))
    project.replace_stance_links(links, run_id=run_id)


def retire_unmatched(project: Project, gone: tuple[int, ...], report: DiscoverReport) -> None:
    touched = _touched_by_a_reviewer(project)
    for theme_id in gone:
        if touched(project.theme(theme_id)):
            continue  # a reviewer's theme outlives the clustering that first suggested it
        project.update_theme(theme_id, bump_revision=False, status="retired")
        report.gone.append(theme_id)


def retire_emptied(project: Project, report: DiscoverReport) -> None:
    """Retire discover's own suggestions that this run left without a passage.

    Another setting (a larger --min-theme-size, another --clusterer, --no-stance) partitions afresh,
    and match_themes counts an old theme whose members went mostly into one new theme as absorbed by
    it: its id is not carried over, so it would stay listed, exported and reported with size 0.
    """
    touched = _touched_by_a_reviewer(project)
    for theme in project.themes(statuses=("suggested",)):  # sizes: placed passages and further codings
        if theme.size or touched(theme):
            continue
        project.update_theme(theme.id, bump_revision=False, status="retired")
        report.retired.append(theme.id)


def _touched_by_a_reviewer(project: Project) -> Callable[[ThemeRow], bool]:
    """Whether discover must leave a theme alone, empty or not: it is not a plain suggestion of its
    own (accepted, renamed, redefined, recategorised, a theme others were merged into, named in any
    decision), or it is a codebook code, a split part or a theme a reviewer built."""
    decided = {d.theme_id for d in project.decisions() if d.theme_id is not None}
    merge_targets = {t.merged_into for t in project.themes(statuses=("merged",)) if t.merged_into is not None}
    return lambda theme: bool(
        theme.status != "suggested" or theme.origin != "discovered" or theme.label_by_human
        or theme.definition_by_human or theme.category_by_human or theme.id in decided or theme.id in merge_targets)


def write_memberships(project: Project, run_id: int, passages: list[Passage], clustering, theme_of_cluster: dict[int, int]) -> None:
    accepted = {t.id for t in project.themes(statuses=("accepted",))}
    existing = project.memberships_of([p.id for p in passages])  # one read for all, not a query per passage
    cleared, rows = [], []
    for i, passage in enumerate(passages):
        held = existing.get(passage.id)
        if _held_by_a_reviewer(held, accepted):
            continue
        nearest = int(clustering.nearest[i])
        if nearest < 0 or nearest not in theme_of_cluster:
            if held:
                cleared.append(passage.id)
            continue
        rows.append((passage.id, theme_of_cluster[nearest], float(clustering.probability[i]),
                     bool(clustering.labels[i] >= 0)))
    project.clear_memberships(cleared)
    project.set_machine_memberships(rows, run_id=run_id)


def write_theme_categories_and_quotes(project: Project, quote_proposals: dict[int, list[int]], by_passage) -> None:
    """Each theme's category from its placed members, and up to five quotes that are members."""
    for theme_id, proposed in quote_proposals.items():
        members = [m for m in project.memberships(theme_id=theme_id, placed=True) if m.passage_id in by_passage]
        member_ids = [m.passage_id for m in members]  # most confident first
        theme = project.theme(theme_id)
        if members and not theme.category_by_human:
            tc = categorise_theme([by_passage[m.passage_id] for m in members], [m.probability for m in members])
            project.update_theme(theme_id, bump_revision=False, category=tc.category,
                                 category_confidence=round(float(tc.confidence), 4), category_mix=dict(tc.mix),
                                 category_reasons=list(tc.reasons))
        elif members and theme.category in CATEGORIES:
            # A person's category stays; its confidence and reasons follow the members it has now,
            # under the line that says who set it.
            tc = categorise_theme([by_passage[m.passage_id] for m in members], [m.probability for m in members],
                                  category=theme.category)
            who = [r for r in theme.category_reasons[:1] if r.startswith("category ")]
            project.update_theme(theme_id, bump_revision=False, category_confidence=round(float(tc.confidence), 4),
                                 category_mix=dict(tc.mix), category_reasons=[*who, *tc.reasons])
        in_theme = set(member_ids)
        quotes = [pid for pid in proposed if pid in in_theme]
        for pid in member_ids:  # top up from the most confident members when reviewers moved quotes away
            if len(quotes) >= min(MAX_QUOTES, len(member_ids)):
                break
            if pid not in quotes:
                quotes.append(pid)
        # The theme's category is known only now: a quote whose passage says the opposite (a barrier
        # in an enabler theme) is never its headline; it goes after the others.
        category = project.theme(theme_id).category
        quotes.sort(key=lambda pid: contradicts(by_passage[pid].category, category))
        project.set_quotes(theme_id, quotes[:MAX_QUOTES])


def write_label_locations(project: Project, text_of: dict[int, str]) -> None:
    """Where each live theme's label (the reviewer's, where renamed) occurs in its placed passages."""
    for theme in project.themes():
        ids = [m.passage_id for m in project.memberships(theme_id=theme.id, placed=True) if m.passage_id in text_of]
        found = label_locations(theme.label, [text_of[i] for i in ids])
        project.replace_label_locations(theme.id, theme.label, [(ids[k], start, end) for k, start, end in found])
