"""Thematic saturation: would more sources have found new themes?

After Guest, Namey & Chen (2020), "A simple method to assess and report thematic saturation in
qualitative research", PLoS ONE 15(5): e0232076. Sources are added one at a time; a theme counts as
found when the first source holding one of its passages is added. Three parameters:

- base size (default 4): the first sources, whose themes are the reference;
- run length (default 2): the next sources, checked for new themes;
- new-information threshold (default 5 %): new themes in the run, as a share of the themes found
  so far, at or below which saturation is reached.

Our reading of the method: at step k (from the base size on), the themes found in the first k
sources are the base; the run is sources k+1…k+r. Saturation is reached at the first k whose run adds
at most threshold × (themes in the base) new themes, i.e. k sources sufficed and the run confirmed it.
If no complete run meets it, saturation is "not reached". The curve is computed in ingest order (the
order the sources were added, a stand-in for the order of data collection) and averaged over random
orders (seeded), since one order can reach or miss saturation by chance.

Themes are the project's current ones (suggested and accepted), so the answer changes as reviewers
merge, split and reject them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import SynthError

if TYPE_CHECKING:
    from .store import Project

BASE = 4
RUN = 2
THRESHOLD = 0.05
RUNS = 200
NOT_RECORDED = "(not recorded)"


@dataclass(frozen=True)
class Step:
    base: int  # sources in the base
    base_themes: int  # themes found in them
    new_in_run: int  # themes first found in the next `run` sources
    ratio: float | None  # new_in_run / base_themes (None when the base found nothing)


@dataclass(frozen=True)
class Curve:
    group: str  # "interview", "role=work_coach", or "all"
    sources: tuple[str, ...]  # in ingest order
    themes: int  # themes with evidence in this group
    new_per_source: tuple[int, ...]  # ingest order
    cumulative: tuple[int, ...]
    steps: tuple[Step, ...]
    reached_at: int | None  # sources needed, in ingest order; None: not reached
    mean_new_per_source: tuple[float, ...]  # over random orders
    mean_cumulative: tuple[float, ...]
    random_reached_share: float  # share of random orders that reach saturation
    random_median_reached_at: float | None  # median over the orders that reach it
    base: int = BASE
    run: int = RUN

    @property
    def found_later(self) -> int:
        """Themes first found after the saturation point and its confirming run: the method's blind
        spot (a small base makes a run of nothing new easy), said out loud rather than hidden."""
        if self.reached_at is None:
            return 0
        return self.cumulative[-1] - self.cumulative[self.reached_at + self.run - 1]

    @property
    def verdict(self) -> str:
        n = len(self.sources)
        if n < self.base + self.run:
            return (f"not reached: cannot be judged with {n} sources (a base of {self.base} and a run of "
                    f"{self.run} need at least {self.base + self.run})")
        if self.reached_at is None:
            return f"not reached in ingest order ({n} sources)"
        later = self.found_later
        caveat = (f", but {later} more theme{'s were' if later != 1 else ' was'} first found in later sources"
                  if later else "")
        return f"reached at {self.reached_at} of {n} sources in ingest order{caveat}"


@dataclass(frozen=True)
class Saturation:
    by: str
    base: int
    run: int
    threshold: float
    runs: int
    seed: int
    curves: tuple[Curve, ...]

    def to_dict(self) -> dict:
        out = asdict(self)
        for curve, d in zip(self.curves, out["curves"]):
            d["verdict"] = curve.verdict
            d["found_later"] = curve.found_later
        return out


def _first_found(order: Sequence[int], theme_sources: Mapping[int, set[int]]) -> list[int]:
    """New themes at each position of `order` (a theme is found at the first source holding it)."""
    position = {sid: i for i, sid in enumerate(order)}
    new = [0] * len(order)
    for sources in theme_sources.values():
        at = [position[s] for s in sources if s in position]
        if at:
            new[min(at)] += 1
    return new


def guest_steps(new_per_source: Sequence[int], base: int, run: int, threshold: float) -> tuple[tuple[Step, ...], int | None]:
    cumulative = np.cumsum(new_per_source).tolist() if len(new_per_source) else []
    steps, reached = [], None
    for k in range(base, len(new_per_source) - run + 1):
        found = cumulative[k - 1]
        new = cumulative[k + run - 1] - found
        ratio = new / found if found else None
        steps.append(Step(k, found, new, None if ratio is None else round(ratio, 4)))
        if reached is None and ratio is not None and ratio <= threshold + 1e-12:
            reached = k
    return tuple(steps), reached


def curve(group: str, order: Sequence[int], names: Mapping[int, str], theme_sources: Mapping[int, set[int]], *,
          base: int, run: int, threshold: float, runs: int, rng: np.random.Generator) -> Curve:
    members = set(order)
    relevant = {t: s & members for t, s in theme_sources.items() if s & members}
    new = _first_found(order, relevant)
    steps, reached = guest_steps(new, base, run, threshold)
    totals = np.zeros(len(order))
    hits: list[int] = []
    for _ in range(runs):
        shuffled = [order[i] for i in rng.permutation(len(order))]
        random_new = _first_found(shuffled, relevant)
        totals += random_new
        _, at = guest_steps(random_new, base, run, threshold)
        if at is not None:
            hits.append(at)
    mean_new = totals / runs if runs else totals
    return Curve(
        group=group, sources=tuple(names[s] for s in order), themes=len(relevant), new_per_source=tuple(new),
        cumulative=tuple(int(x) for x in np.cumsum(new)), steps=steps, reached_at=reached,
        mean_new_per_source=tuple(round(float(x), 4) for x in mean_new),
        mean_cumulative=tuple(round(float(x), 4) for x in np.cumsum(mean_new)),
        random_reached_share=round(len(hits) / runs, 4) if runs else 0.0,
        random_median_reached_at=float(np.median(hits)) if hits else None, base=base, run=run,
    )


def saturation(project: Project, *, by: str = "kind", base: int = BASE, run: int = RUN, threshold: float = THRESHOLD,
               runs: int = RUNS, seed: int = 0) -> Saturation:
    """Saturation curves of the project's current themes, one per group of sources (`by`: 'kind',
    'all', or a metadata field such as 'role')."""
    if base < 1 or run < 1:
        raise SynthError(f"base size ({base}) and run length ({run}) must be at least 1")
    if not 0 <= threshold < 1:
        raise SynthError(f"new-information threshold {threshold} must be between 0 and 1 (e.g. 0.05 for 5 %)")
    if runs < 0:
        raise SynthError(f"--runs {runs}: give 0 or more random orders")
    sources = project.sources_in_ingest_order()
    if not sources:
        raise SynthError(f"{project.path}: the project has no sources; run `synth ingest` first")
    live = {t.id for t in project.themes()}
    if not live:
        raise SynthError(f"{project.path}: no themes yet; run `synth discover {project.path}` first")
    theme_sources: dict[int, set[int]] = {}
    for theme_id, _, source_id in project.placed_passage_sources():
        if theme_id in live:
            theme_sources.setdefault(theme_id, set()).add(source_id)
    if by not in ("kind", "all") and not any(by in meta for _, _, _, meta in sources):
        fields = sorted({k for _, _, _, meta in sources for k in meta})
        raise SynthError(f"--by {by!r}: no source records that field; use kind, all, or one of: {', '.join(fields)}")
    groups: dict[str, list[int]] = {}
    for sid, _, kind, meta in sources:
        key = "all" if by == "all" else kind if by == "kind" else f"{by}={str(meta.get(by) or '').strip() or NOT_RECORDED}"
        groups.setdefault(key, []).append(sid)
    names = {sid: name for sid, name, _, _ in sources}
    rng = np.random.default_rng(seed)
    curves = tuple(curve(g, order, names, theme_sources, base=base, run=run, threshold=threshold, runs=runs, rng=rng)
                   for g, order in sorted(groups.items()))
    return Saturation(by, base, run, threshold, runs, seed, curves)
