"""Measuring agreement: a blind, stratified sample coded by reviewers, compared with synth.

`draw_sample` draws passages at random within strata (each live theme, and the unplaced
passages), in proportion to their size (at least one from each stratum while the sample allows),
so the sample is close to self-weighting and every theme is seen. Each item keeps what synth
suggested when it was drawn: the theme and the category (learned or machine, never a
reviewer's). Reviewers then code each item without seeing that suggestion (the app's validation
page, or `synth validate --code`); `agreement` reports per theme and overall precision and recall
with Wilson 95 % intervals, Cohen's κ (scikit-learn) and Krippendorff's α (`krippendorff`, nominal)
between synth and each reviewer, and between two reviewers on the items both coded.

Precision of theme t: of the items synth placed in t, the share the reviewer also placed in t.
Recall of theme t: of the items the reviewer placed in t, the share synth placed there. Overall
precision counts every item synth placed in a theme; overall recall every item the reviewer placed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import NotFoundError, SynthError
from .records import CATEGORIES
from .relearn import effective_categories
from .statuses import THEME_STATUSES
from .store import Project

NONE = "none"
Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion (None when n is 0)."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _allocate(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """Proportional allocation by largest remainder, at least one per stratum while n allows."""
    total = sum(sizes.values())
    keys = sorted(sizes, key=lambda k: (-sizes[k], k))
    out = dict.fromkeys(keys, 0)
    if n >= len(keys):
        for k in keys:
            out[k] = 1
    left = n - sum(out.values())
    quotas = {k: max(0.0, sizes[k] * n / total - out[k]) for k in keys}
    for k in keys:
        take = min(int(quotas[k]), sizes[k] - out[k], left)
        out[k] += take
        left -= take
    for k in sorted(keys, key=lambda k: (-(quotas[k] - int(quotas[k])), k)):
        if left <= 0:
            break
        if out[k] < sizes[k]:
            out[k] += 1
            left -= 1
    for k in keys:  # any still left (strata full): fill where room remains
        while left > 0 and out[k] < sizes[k]:
            out[k] += 1
            left -= 1
    return out


def draw_sample(project: Project, n: int, *, seed: int = 0, reviewer: str) -> tuple[int, dict[str, int]]:
    """Draw and store a validation sample of `n` codable passages; returns its id and the count per stratum."""
    passages = project.passages(codable_only=True)
    if n < 1:
        raise SynthError(f"--sample {n}: a sample needs at least one passage")
    if n > len(passages):
        raise SynthError(f"--sample {n} is larger than {project.path}'s {len(passages)} codable passages; "
                         f"choose at most {len(passages)}")
    live = {t.id for t in project.themes()}
    theme_of = {m.passage_id: m.theme_id for m in project.memberships(placed=True) if m.theme_id in live}
    strata: dict[str, list[int]] = {}
    for p in passages:
        strata.setdefault(f"theme {theme_of[p.id]}" if p.id in theme_of else "unplaced", []).append(p.id)
    counts = _allocate({k: len(v) for k, v in strata.items()}, n)
    rng = np.random.default_rng(seed)
    chosen: list[tuple[str, int]] = []
    for key in sorted(strata):
        ids = sorted(strata[key])
        chosen += [(key, int(pid)) for pid in rng.choice(ids, size=counts[key], replace=False)]
    order = rng.permutation(len(chosen))  # coded in random order, not theme by theme
    suggested = effective_categories(project, None)
    items = []
    for i in order:
        key, pid = chosen[i]
        cat = suggested.get(pid)
        # What synth suggests, not what a reviewer already said: a reviewer's category is no machine output.
        machine_cat = None
        if cat is not None:
            machine_cat = cat.category if cat.by != "reviewer" else _unreviewed_category(project, pid)
        items.append({"passage_id": pid, "stratum": key, "machine_theme_id": theme_of.get(pid),
                      "machine_category": machine_cat})
    run = project.latest_run()
    with project.transaction():
        sample_id = project.add_validation_sample(seed=seed, created_by=reviewer, run_id=run["id"] if run else None,
                                                  items=items)
    return sample_id, {k: v for k, v in counts.items() if v}


def _unreviewed_category(project: Project, passage_id: int) -> str | None:
    learned = project.learned_categories([passage_id]).get(passage_id)
    if learned:
        return learned["category"]
    machine = project.passage_categories([passage_id]).get(passage_id)
    return machine["category"] if machine else None


def latest_sample(project: Project) -> dict:
    samples = project.validation_samples()
    if not samples:
        raise SynthError(f"{project.path} has no validation sample yet; draw one with "
                         f"`synth validate {project.path} --sample 100`")
    return samples[-1]


def next_item(project: Project, reviewer: str) -> tuple[dict | None, int, int]:
    """The latest sample's first item this reviewer has not coded, and (coded, total)."""
    sample = latest_sample(project)
    items = project.validation_items(sample["id"])
    coded = {c["item_id"] for c in project.validation_codes(sample["id"]) if c["reviewer"] == reviewer}
    todo = [it for it in items if it["id"] not in coded]
    return (todo[0] if todo else None), len(coded), len(items)


# --- the report ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rate:
    hits: int
    n: int

    def to_dict(self) -> dict:
        interval = wilson(self.hits, self.n)
        return {"value": self.hits / self.n if self.n else None, "hits": self.hits, "n": self.n,
                "ci95": list(interval) if interval else None}

    def text(self) -> str:
        if not self.n:
            return "n/a"
        lo, hi = wilson(self.hits, self.n)  # type: ignore[misc]
        return f"{self.hits / self.n:.2f} [{lo:.2f}, {hi:.2f}] ({self.hits}/{self.n})"


@dataclass(frozen=True)
class Agreement:
    """Agreement between two coders (synth or a reviewer) on one sample."""

    a: str
    b: str
    items: int
    theme_kappa: float | None
    theme_alpha: float | None
    category_kappa: float | None
    category_alpha: float | None
    theme_agreement: Rate
    category_agreement: Rate


@dataclass(frozen=True)
class ValidationReport:
    sample_id: int
    size: int
    coded: Mapping[str, int]                        # reviewer -> items coded
    per_theme: Mapping[str, list[dict]]             # reviewer -> rows (theme, label, precision, recall)
    overall: Mapping[str, dict]                     # reviewer -> {"precision": Rate, "recall": Rate}
    agreements: tuple[Agreement, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "sample_id": self.sample_id, "size": self.size, "coded": dict(self.coded),
            "per_theme": {r: [{**row, "precision": row["precision"].to_dict(), "recall": row["recall"].to_dict()}
                              for row in rows] for r, rows in self.per_theme.items()},
            "overall": {r: {k: v.to_dict() for k, v in o.items()} for r, o in self.overall.items()},
            "agreements": [{"a": g.a, "b": g.b, "items": g.items, "theme_kappa": g.theme_kappa,
                            "theme_alpha": g.theme_alpha, "category_kappa": g.category_kappa,
                            "category_alpha": g.category_alpha, "theme_agreement": g.theme_agreement.to_dict(),
                            "category_agreement": g.category_agreement.to_dict()} for g in self.agreements],
        }

    def lines(self) -> list[str]:
        out = [f"validation sample {self.sample_id}: {self.size} passages; coded by "
               + (", ".join(f"{r} ({n})" for r, n in self.coded.items()) or "nobody yet")]
        for g in self.agreements:
            out.append(f"{g.a} vs {g.b} on {g.items} items: theme κ {_f(g.theme_kappa)}, α {_f(g.theme_alpha)}, "
                       f"agreement {g.theme_agreement.text()}; category κ {_f(g.category_kappa)}, "
                       f"α {_f(g.category_alpha)}, agreement {g.category_agreement.text()}")
        for reviewer, o in self.overall.items():
            out.append(f"synth against {reviewer}: precision {o['precision'].text()}, recall {o['recall'].text()} (95% Wilson intervals)")
            for row in self.per_theme[reviewer]:
                out.append(f"  {row['theme']:>12}  precision {row['precision'].text():<28} recall {row['recall'].text():<28} {row['label']}")
        return out


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if not a or (len(set(a)) == 1 and set(a) == set(b)):
        return None  # one label throughout: agreement is total but κ is undefined
    with np.errstate(invalid="ignore", divide="ignore"):
        value = float(cohen_kappa_score(a, b))
    return None if math.isnan(value) else value


def _alpha(a: Sequence[str], b: Sequence[str]) -> float | None:
    import krippendorff

    labels = sorted(set(a) | set(b))
    if len(labels) < 2 or len(a) < 2:
        return None
    index = {v: i for i, v in enumerate(labels)}
    data = np.array([[index[v] for v in a], [index[v] for v in b]], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return None if math.isnan(value) else value


def _theme_key(theme_id: int | None) -> str:
    return NONE if theme_id is None else str(theme_id)


def _agreement(name_a: str, name_b: str, pairs: list[tuple[dict, dict]]) -> Agreement:
    ta = [_theme_key(x["theme_id"]) for x, _ in pairs]
    tb = [_theme_key(y["theme_id"]) for _, y in pairs]
    ca = [x["category"] or NONE for x, _ in pairs]
    cb = [y["category"] or NONE for _, y in pairs]
    return Agreement(name_a, name_b, len(pairs), _kappa(ta, tb), _alpha(ta, tb), _kappa(ca, cb), _alpha(ca, cb),
                     Rate(sum(x == y for x, y in zip(ta, tb)), len(pairs)),
                     Rate(sum(x == y for x, y in zip(ca, cb)), len(pairs)))


def agreement(project: Project, sample_id: int | None = None) -> ValidationReport:
    """Synth against each reviewer, and reviewers against each other, on a sample (default: the latest)."""
    if sample_id is None:
        sample = latest_sample(project)
    else:
        sample = next((s for s in project.validation_samples() if s["id"] == sample_id), None)
        if sample is None:
            raise NotFoundError(f"validation sample {sample_id} is not in {project.path}")
    items = {it["id"]: it for it in project.validation_items(sample["id"])}
    codes: dict[str, dict[int, dict]] = {}
    for c in project.validation_codes(sample["id"]):
        codes.setdefault(c["reviewer"], {})[c["item_id"]] = c
    labels = {t.id: t.label for t in project.themes(statuses=THEME_STATUSES)}
    machine = {i: {"theme_id": it["machine_theme_id"], "category": it["machine_category"]} for i, it in items.items()}
    per_theme, overall, agreements = {}, {}, []
    for reviewer, mine in sorted(codes.items()):
        pairs = [(machine[i], mine[i]) for i in sorted(mine)]
        agreements.append(_agreement("synth", reviewer, pairs))
        themes = sorted({p[0]["theme_id"] for p in pairs if p[0]["theme_id"] is not None}
                        | {p[1]["theme_id"] for p in pairs if p[1]["theme_id"] is not None})
        rows = []
        for t in themes:
            said = [(m, r) for m, r in pairs if m["theme_id"] == t]
            truth = [(m, r) for m, r in pairs if r["theme_id"] == t]
            rows.append({"theme": f"theme {t}", "theme_id": t, "label": labels.get(t, ""),
                         "precision": Rate(sum(r["theme_id"] == t for _, r in said), len(said)),
                         "recall": Rate(sum(m["theme_id"] == t for m, _ in truth), len(truth))})
        placed = [(m, r) for m, r in pairs if m["theme_id"] is not None]
        wanted = [(m, r) for m, r in pairs if r["theme_id"] is not None]
        per_theme[reviewer] = rows
        overall[reviewer] = {"precision": Rate(sum(m["theme_id"] == r["theme_id"] for m, r in placed), len(placed)),
                             "recall": Rate(sum(m["theme_id"] == r["theme_id"] for m, r in wanted), len(wanted))}
    names = sorted(codes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = sorted(set(codes[a]) & set(codes[b]))
            if both:
                agreements.append(_agreement(a, b, [(codes[a][k], codes[b][k]) for k in both]))
    return ValidationReport(sample["id"], sample["size"], {r: len(c) for r, c in sorted(codes.items())},
                            per_theme, overall, tuple(agreements))


def theme_agreement_text(report: ValidationReport, theme_id: int) -> str:
    """One line for a theme's codebook description ("" when no reviewer coded an item of it)."""
    parts = []
    for reviewer, rows in report.per_theme.items():
        row = next((r for r in rows if r["theme_id"] == theme_id), None)
        if row:
            parts.append(f"{reviewer}: precision {row['precision'].text()}, recall {row['recall'].text()}")
    if not parts:
        return ""
    return f"Agreement with reviewers (validation sample {report.sample_id}, 95% Wilson intervals): " + "; ".join(parts)


def check_code(project: Project, item_id: int, theme_id: int | None, category: str) -> dict:
    """Validate one code's inputs; returns the item. Every error names the value."""
    item = project.validation_item(item_id)
    if category not in CATEGORIES:
        raise SynthError(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    if theme_id is not None:
        project.theme(theme_id)  # not found: says so, and how to list the themes
    return item
