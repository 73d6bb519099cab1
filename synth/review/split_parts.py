"""What the parts of a split theme are called, and which parts a split by category makes.

A part is named by its own passages, as discover names a theme: its key terms against its sibling
parts (so two parts of one theme get different names), a definition that counts its own passages
and sources, and its most central passages as quotes. The parent's label stays in front only
when a reviewer gave it (their name for the idea), with the part's own terms after it.

A split by category never makes a one-passage theme: a category with fewer than
`MIN_PART` passages joins the part whose centre is nearest (or the largest part).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..records import Passage
from ..store import Membership, Project, ThemeRow
from ..vectors import unit

MIN_PART = 2


@dataclass(frozen=True)
class PartDescription:
    label: str
    definition: str
    top_terms: tuple[str, ...]
    quotes: tuple[int, ...]  # passage ids, most central first


def fold_small_groups(groups: list[tuple[str, list[Membership]]], passages: Mapping[int, Passage],
                      vectors: Mapping[str, np.ndarray]) -> list[tuple[str, list[Membership]]]:
    """Categories with fewer than MIN_PART passages join the nearest larger part (by centroid)."""
    big = [(name, list(g)) for name, g in groups if len(g) >= MIN_PART]
    small = [m for _, g in groups if len(g) < MIN_PART for m in g]
    if not big or not small:
        return big or groups

    def centre(group: list[Membership]) -> np.ndarray | None:
        vecs = [vectors[passages[m.passage_id].text_sha256] for m in group
                if passages[m.passage_id].text_sha256 in vectors]
        return unit(np.mean(vecs, axis=0), np.float32) if vecs else None

    centres = [centre(g) for _, g in big]
    for m in small:
        v = vectors.get(passages[m.passage_id].text_sha256)
        scores = [float(unit(v, np.float32) @ c) if v is not None and c is not None else -1.0 for c in centres]
        best = int(np.argmax(scores)) if max(scores) > -1.0 else max(range(len(big)), key=lambda i: len(big[i][1]))
        big[best][1].append(m)
    return big


def describe_parts(project: Project, parent: ThemeRow, groups: Sequence[Sequence[Membership]],
                   passages: Mapping[int, Passage], vectors: Mapping[str, np.ndarray],
                   suffixes: Sequence[str]) -> list[PartDescription]:
    """One description per group, from the group's own passages (see the module docstring)."""
    from ..cluster import Clustering
    from ..label import describe_themes  # spaCy and PyTorch: only when splitting, not for every command
    from ..nlp import display_forms_of, passage_terms, pipeline_fingerprint

    order = [m.passage_id for g in groups for m in g]
    items = [passages[pid] for pid in order]
    labels = np.concatenate([np.full(len(g), j) for j, g in enumerate(groups)])
    dim = next((len(v) for v in vectors.values()), 8)
    x = np.stack([vectors.get(p.text_sha256, np.zeros(dim, dtype=np.float32)) for p in items]).astype(np.float32)
    centroids = np.stack([unit(x[labels == j].mean(axis=0), np.float32) for j in range(len(groups))])
    clustering = Clustering(labels=labels, nearest=labels, probability=np.ones(len(items)), centroids=centroids)
    stored = project.cached_passage_terms(pipeline_fingerprint(), [p.text_sha256 for p in items])
    missing = [p for p in items if p.text_sha256 not in stored]
    stored.update(zip((p.text_sha256 for p in missing), passage_terms(p.text for p in missing)))
    terms = [stored[p.text_sha256] for p in items]
    described = describe_themes([p.text for p in items], clustering, x, np.array([p.source_id for p in items]),
                                [t.lemmas for t in terms], forms=display_forms_of(terms))
    out, seen = [], set()
    for j, (d, suffix) in enumerate(zip(described, suffixes, strict=True)):
        own = d.label if d.label != "unlabelled theme" else ""
        label = " — ".join(part for part in ((parent.label if parent.label_by_human or not own else ""), own, suffix)
                           if part)
        if label.lower() in seen:
            label = f"{label} ({j + 1})"
        seen.add(label.lower())
        out.append(PartDescription(label=label[:200], definition=d.definition, top_terms=d.top_terms,
                                   quotes=tuple(order[i] for i in d.quote_indices)))
    return out


