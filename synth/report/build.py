"""The report for a policy team: one self-contained HTML file (opens offline, prints to a clean PDF),
or the same structure as a Word document (`docx_report`).

Findings come first, grouped as barriers, enablers and transferable practices (context last); each
shows its label, definition, confidence with its reasons (GRADE-CERQual, `synth.evidence`), the
evidence profile, and two or three quotes with their citations printed beside them. Then
saturation (Guest et al. 2020), the framework matrix as a table of numbers shaded by count, a map
of passages (a 2-D PCA projection, with the share of variance it shows), and how the report was made.

`gather` collects everything into one `ReportData` record; the HTML template and the DOCX writer
only lay it out. The page is made of sections (`SECTIONS`, one template each under
templates/sections/), so a section can be added without touching the others. Charts are inline
SVG (synth.report.svg): no script at all, so the page has nothing to fail and stays small.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date as _date
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import SynthError
from ..evidence import EvidenceProfile
from ..export.codebook import (PARENT_COLOURS, PARENT_NAMES_ALL, Codebook, build_codebook, category_key)
from ..export.files import atomic_write, refuse_project_paths
from ..export.matrix import Matrix, build_matrix
from ..saturation import Saturation, saturation
from ..store import Project
from ..readmodel import ReadModel
from ..summary import ProjectView, ThemeSummary
from . import svg

MAP_MAX_POINTS = 5000
MAP_SEED = 0
UNPLACED_COLOUR = "#B3B9BF"
TEMPLATES = Path(__file__).resolve().parent / "templates"
# The page's sections, in order; each is templates/sections/NAME.html and gets the whole ReportData.
SECTIONS = ("summary", "findings", "agreement", "saturation", "matrix", "map", "sizes", "method")
SATURATION_RUNS = 200


@dataclass(frozen=True)
class MapData:
    """Passages projected to 2-D: one point each, with the theme it is placed in (or None)."""

    xy: np.ndarray
    theme_ids: list[int | None]
    hover: list[str]
    explained: tuple[float, float]
    shown: int
    total: int
    model_id: str


@dataclass(frozen=True)
class Memo:
    text: str
    reviewer: str
    at: str
    citation: str = ""  # for a memo on a passage


@dataclass(frozen=True)
class ReportData:
    title: str
    author: str
    date: str
    project_name: str
    as_of: str
    version: str
    run: dict | None
    include_suggested: bool
    stats: list[tuple[str, str, str]]
    codebook: Codebook
    summaries: dict[int, ThemeSummary]
    profiles: dict[int, EvidenceProfile]
    theme_memos: dict[int, list[Memo]]
    passage_memos: dict[int, list[Memo]]  # by passage id
    theme_passage_memos: dict[int, list[Memo]]  # memos on a theme's passages that are not among its quotes
    matrix: Matrix
    map: MapData | None
    saturation: Saturation | None
    colours: dict[int, str]
    examples: dict[int, tuple] = field(default_factory=dict)  # theme id -> 2–3 quotes
    figures: dict[str, str] = field(default_factory=dict)
    agreement: object | None = None  # synth.validate's agreement report, once a reviewer coded a sample

    @property
    def findings(self) -> list:
        """Code groups in reading order: barriers, enablers, practices; context and uncategorised last."""
        return list(self.codebook.groups)


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """The first two principal components, with signs fixed so the same input always gives the same picture."""
    x = np.asarray(vectors, dtype=np.float64)
    x = x - x.mean(axis=0)
    if len(x) < 2:
        return np.zeros((len(x), 2)), (0.0, 0.0)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    k = min(2, vt.shape[0])
    components = vt[:k]
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
    signs[signs == 0] = 1
    xy = x @ (components * signs[:, None]).T
    if k < 2:
        xy = np.hstack([xy, np.zeros((len(x), 1))])
    var = s**2
    share = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    return xy, (float(share[0]), float(share[1]) if len(share) > 1 else 0.0)


def passage_map(project: Project, view: ProjectView, theme_ids: set[int], model_id: str | None) -> MapData | None:
    if not model_id:
        return None
    passages = [p for p in view.passages.values() if p.codable]
    vectors = project.cached_embeddings(model_id, [p.text_sha256 for p in passages])
    passages = [p for p in passages if p.text_sha256 in vectors]
    if len(passages) < 3:
        return None
    total = len(passages)
    if total > MAP_MAX_POINTS:
        keep = np.sort(np.random.default_rng(MAP_SEED).choice(total, MAP_MAX_POINTS, replace=False))
        passages = [passages[i] for i in keep]
    placed = {m.passage_id: m.theme_id for m in project.memberships(placed=True) if m.theme_id in theme_ids}
    xy, explained = pca_2d(np.stack([vectors[p.text_sha256] for p in passages]))
    hover = []
    for p in passages:
        text = " ".join(p.text.split())
        text = text if len(text) <= 120 else text[:119] + "…"
        hover.append(f"{view.quote(p).citation}: {text}")
    return MapData(xy=xy, theme_ids=[placed.get(p.id) for p in passages], hover=hover, explained=explained,
                   shown=len(passages), total=total, model_id=model_id)


def summary_figures(project: Project, view: ReadModel, summaries: list[ThemeSummary]) -> list[tuple[str, str, str]]:
    sources = [s for s in view.sources.values() if s.id in {p.source_id for p in view.passages.values()}]
    kinds = Counter(s.kind for s in sources)
    codable = [p for p in view.passages.values() if p.codable]
    reported = {s.id for s in summaries}
    placed = sum(1 for m in project.memberships(placed=True) if m.theme_id in reported and m.passage_id in view.passages)
    decisions = view.decisions
    statuses = Counter(s.status for s in summaries)
    cats = Counter(category_key(s.category) for s in summaries)
    return [
        ("sources", f"{len(sources)}", ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))),
        ("passages", f"{len(codable)}", f"codable, of {len(view.passages)}"),
        ("findings", f"{len(summaries)}", ", ".join(f"{n} {k}" for k, n in sorted(statuses.items()))),
        ("coverage", f"{placed / len(codable):.0%}" if codable else "–", f"{placed} passages in these findings"),
        ("categories", "/".join(str(cats.get(k, 0)) for k in ("barrier", "enabler", "practice", "context")),
         "barriers / enablers / practices / context"),
        ("review", f"{len(decisions)}", ("decisions by " + ", ".join(sorted({d.reviewer for d in decisions})))
         if decisions else "no review decisions yet"),
    ]


def _memos(project: Project, view: ReadModel, summaries: dict[int, ThemeSummary], examples: dict[int, tuple]):
    theme_memos: dict[int, list[Memo]] = {}
    passage_memos: dict[int, list[Memo]] = {}
    for d in view.memos():
        text = str(d.after.get("memo", ""))
        if d.passage_id is not None:
            try:
                citation = view.quote(view.passage(d.passage_id)).citation
            except SynthError:
                continue
            passage_memos.setdefault(d.passage_id, []).append(Memo(text, d.reviewer, d.at, citation))
        elif d.theme_id in summaries:
            theme_memos.setdefault(d.theme_id, []).append(Memo(text, d.reviewer, d.at))
    # A memo on a passage belongs to the finding the passage is placed in; under its quote when quoted.
    elsewhere: dict[int, list[Memo]] = {}
    if passage_memos:
        placed = {m.passage_id: m.theme_id for m in project.memberships(placed=True)}
        for pid, notes in passage_memos.items():
            tid = placed.get(pid)
            if tid in summaries and pid not in {q.passage_id for q in examples[tid]}:
                elsewhere.setdefault(tid, []).extend(notes)
    return theme_memos, passage_memos, elsewhere


def validation_report(project: Project):
    """The latest validation sample's agreement, when a reviewer has coded any of it (else None)."""
    from ..validate import agreement

    if not project.validation_samples():
        return None
    report = agreement(project)
    return report if report.coded else None


def gather(project: Project, *, by: str = "kind", include_suggested: bool = False, title: str | None = None,
           author: str = "", date: str | None = None) -> ReportData:
    """Everything the report shows, read once from the project."""
    view = ReadModel(project)  # one read of the themes, summaries and decision log for every part
    codebook = build_codebook(project, include_suggested=include_suggested, model=view)
    summaries = dict(codebook.summaries)
    examples = {c.theme_id: c.examples for c in codebook.codes}  # 2–3 quotes each: the reviewer's, topped up
    profiles = dict(codebook.profiles)
    run = view.run
    matrix = build_matrix(project, by=by, include_suggested=include_suggested, model=view)
    data = passage_map(project, view, set(summaries), run["model_id"] if run else None)
    try:
        sat = saturation(project, by="kind", runs=SATURATION_RUNS, seed=0)
    except SynthError:
        sat = None
    theme_memos, passage_memos, elsewhere = _memos(project, view, summaries, examples)
    decisions = view.decisions
    as_of = max([*(d.at for d in decisions), *([run["finished_at"]] if run else [])], default="")
    report = ReportData(
        title=title or f"Findings from {project.path.stem}", author=author, date=date or _date.today().isoformat(),
        project_name=project.path.name, as_of=as_of, version=__version__, run=run,
        include_suggested=include_suggested, stats=summary_figures(project, view, list(summaries.values())),
        codebook=codebook, summaries=summaries, profiles=profiles, theme_memos=theme_memos,
        passage_memos=passage_memos, theme_passage_memos=elsewhere, matrix=matrix, map=data, saturation=sat,
        colours=view.colours, examples=examples, agreement=validation_report(project),
    )
    report.figures.update(_figures(report))
    return report


def _figures(r: ReportData) -> dict[str, str]:
    labels = {c.theme_id: c.name for c in r.codebook.codes}
    out = {}
    if r.map is not None:
        colours = [r.colours.get(t, UNPLACED_COLOUR) if t in labels else UNPLACED_COLOUR for t in r.map.theme_ids]
        titles = [f"{labels[t]} — {h}" if t in labels else f"not in a reported finding — {h}"
                  for t, h in zip(r.map.theme_ids, r.map.hover)]
        order = sorted(range(len(titles)), key=lambda i: r.map.theme_ids[i] in labels)  # grey first, underneath
        out["map"] = svg.scatter(
            r.map.xy, colours, titles, order=order, label="map of passages coloured by finding",
            x_label=f"component 1 ({r.map.explained[0]:.0%} of variance)",
            y_label=f"component 2 ({r.map.explained[1]:.0%} of variance)")
    for c in (r.saturation.curves if r.saturation else ()):
        if len(c.sources) < 2:
            continue
        out[f"saturation-{c.group}"] = svg.lines(
            [{"values": c.cumulative, "colour": "#1F618D", "name": "themes found, in ingest order"},
             {"values": c.mean_cumulative, "colour": "#7F8C8D", "dash": True,
              "name": f"themes found, mean of {r.saturation.runs} random orders"}],
            n=len(c.sources), x_label=f"{c.group} sources added", y_label="themes found",
            marker=c.reached_at, marker_label=f"saturation at {c.reached_at}" if c.reached_at else "",
            shade_to=r.saturation.base, label=f"saturation curve for {c.group} sources")
    return out


def heat(count: int, top: int) -> str:
    """The inline style of a matrix cell: shaded by count, text readable on the shade."""
    if not count:
        return ""
    alpha = 0.12 + 0.78 * (count / max(top, 1))
    colour = "white" if alpha > 0.55 else "#1c2833"
    return f"background: rgba(31, 97, 141, {alpha:.2f}); color: {colour}"


def css_string(text: str):
    """`text` as a quoted CSS string, every character but plain letters, digits and spaces escaped
    (a title inside <style> must not end the string, the rule or the element)."""
    from markupsafe import Markup

    return Markup('"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text) + '"')


def render_html(report: ReportData) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = css_string
    top = max([c.count for line in report.matrix.lines for c in line.cells.values()] + [1])
    return env.get_template("report.html").render(
        r=report, sections=SECTIONS, parent_colours=PARENT_COLOURS, parent_names=PARENT_NAMES_ALL,
        heat=lambda n: heat(n, top),
        pct=lambda x: "–" if x is None else f"{x:.0%}",
    )


def build_report(project: Project, *, by: str = "kind", include_suggested: bool = False, title: str | None = None,
                 author: str = "", date: str | None = None) -> tuple[str, dict]:
    """The report's HTML and a few numbers about it (for the CLI's message and for tests)."""
    report = gather(project, by=by, include_suggested=include_suggested, title=title, author=author, date=date)
    page = render_html(report)
    return page, {"themes": len(report.summaries), "map_points": report.map.shown if report.map else 0,
                  "matrix_columns": len(report.matrix.columns)}


def write_report(project: Project, out: Path, *, by: str = "kind", include_suggested: bool = False,
                 title: str | None = None, author: str = "", date: str | None = None) -> str:
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".docx"):
        raise SynthError(f"{out}: the report is an HTML file or a Word document; name a file ending in .html or .docx")
    refuse_project_paths(out, project.path)
    report = gather(project, by=by, include_suggested=include_suggested, title=title, author=author, date=date)
    if suffix == ".docx":
        from .docx import write_docx

        write_docx(report, out)
        kind = "Word document"
    else:
        with atomic_write(out, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(render_html(report))
        kind = "HTML, opens offline"
    size = out.stat().st_size / 1e6
    on_map = f", {report.map.shown if report.map else 0} passages on the map" if suffix != ".docx" else ""
    return f"wrote the report ({len(report.summaries)} themes{on_map}, {size:.2f} MB, {kind}) to {out}"
