"""The report: one self-contained HTML file that opens offline.

Summary figures; a map of passages coloured by theme (a 2-D PCA projection of the cached
embeddings); theme sizes by category; the framework matrix as a heatmap; and each theme with
its definition, category and reasons, triangulation and quotes with citations.

Plots are plotly figures. plotly.js is inlined once, in the page head, and each figure is a
`<div>` with its data, so the file needs no network and no other file. The map shows at most
`MAP_MAX_POINTS` passages (a seeded random sample beyond that) to keep the file small.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import SynthError
from ..export.codebook import PARENT_COLOURS, PARENT_NAMES_ALL, build_codebook, category_key, theme_colours
from ..export.files import atomic_write
from ..export.matrix import Matrix, build_matrix
from ..store import Project
from ..summary import ProjectView, ThemeSummary

MAP_MAX_POINTS = 5000
MAP_SEED = 0
UNPLACED_COLOUR = "#B3B9BF"
TEMPLATES = Path(__file__).resolve().parent / "templates"


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
        text = text if len(text) <= 160 else text[:159] + "…"
        hover.append(f"{html.escape(view.quote(p).citation)}<br>{html.escape(text)}")
    return MapData(xy=xy, theme_ids=[placed.get(p.id) for p in passages], hover=hover, explained=explained,
                   shown=len(passages), total=total, model_id=model_id)


def _figure_html(fig, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def map_figure(data: MapData, labels: dict[int, str], colours: dict[int, str]):
    import plotly.graph_objects as go

    fig = go.Figure()
    groups: dict[int | None, list[int]] = {}
    for i, tid in enumerate(data.theme_ids):
        groups.setdefault(tid, []).append(i)
    order = [None] + sorted((t for t in groups if t is not None), key=lambda t: labels[t].lower())
    for tid in order:
        if tid not in groups:
            continue
        idx = groups[tid]
        fig.add_trace(go.Scatter(
            x=data.xy[idx, 0], y=data.xy[idx, 1], mode="markers",
            name=labels[tid] if tid is not None else "not in a reported theme",
            marker={"size": 6 if tid is not None else 4, "color": colours.get(tid, UNPLACED_COLOUR),
                    "opacity": 0.85 if tid is not None else 0.6, "line": {"width": 0}},
            text=[data.hover[i] for i in idx], hovertemplate="%{text}<extra>%{fullData.name}</extra>",
        ))
    fig.update_layout(
        height=560, margin={"l": 40, "r": 10, "t": 10, "b": 40}, template="plotly_white",
        legend={"font": {"size": 11}, "itemsizing": "constant"},
        xaxis_title=f"component 1 ({data.explained[0]:.0%} of variance)",
        yaxis_title=f"component 2 ({data.explained[1]:.0%} of variance)",
    )
    return fig


def sizes_figure(summaries: list[ThemeSummary], colours: dict[int, str]):
    import plotly.graph_objects as go

    fig = go.Figure()
    by_cat: dict[str, list[ThemeSummary]] = {}
    for s in summaries:
        by_cat.setdefault(category_key(s.category), []).append(s)
    for key, name in PARENT_NAMES_ALL.items():
        members = sorted(by_cat.get(key, []), key=lambda s: (-s.size, s.label.lower()))
        if not members:
            continue
        fig.add_trace(go.Bar(
            x=[name] * len(members), y=[s.size for s in members], name=name,
            marker={"color": [colours[s.id] for s in members], "line": {"color": "white", "width": 1}},
            text=[s.label for s in members], textposition="inside", insidetextanchor="middle",
            hovertemplate="%{text}: %{y} passages<extra>" + name + "</extra>", showlegend=False,
        ))
    fig.update_layout(barmode="stack", height=420, template="plotly_white", margin={"l": 50, "r": 10, "t": 10, "b": 40},
                      yaxis_title="passages", uniformtext={"minsize": 9, "mode": "hide"})
    return fig


def matrix_figure(m: Matrix):
    import plotly.graph_objects as go

    labels = [f"{line.label}" + (" (suggested)" if line.status != "accepted" else "") for line in m.lines]
    z = [[line.cells[c].count if c in line.cells else 0 for c in m.columns] for line in m.lines]
    hover = [[_matrix_hover(line.cells.get(c)) for c in m.columns] for line in m.lines]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(m.columns), y=labels, customdata=hover, colorscale="Blues", xgap=1, ygap=1,
        hovertemplate="%{y} × %{x}: %{z} passages<br>%{customdata}<extra></extra>",
        colorbar={"title": {"text": "passages"}},
    ))
    fig.update_layout(height=max(320, 28 * len(labels) + 160), template="plotly_white",
                      margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis={"autorange": "reversed", "automargin": True},
                      xaxis={"automargin": True, "tickangle": -35, "side": "bottom"})
    return fig


def _matrix_hover(cell) -> str:
    if cell is None:
        return ""
    quote = " ".join(cell.quote.split())
    quote = quote if len(quote) <= 140 else quote[:139] + "…"
    return f"“{html.escape(quote)}”<br>— {html.escape(cell.citation)}"


def summary_figures(project: Project, view: ProjectView, summaries: list[ThemeSummary]) -> list[tuple[str, str, str]]:
    sources = [s for s in view.sources.values() if s.id in {p.source_id for p in view.passages.values()}]
    kinds = Counter(s.kind for s in sources)
    codable = [p for p in view.passages.values() if p.codable]
    reported = {s.id for s in summaries}
    placed = sum(1 for m in project.memberships(placed=True) if m.theme_id in reported and m.passage_id in view.passages)
    decisions = project.decisions()
    statuses = Counter(s.status for s in summaries)
    cats = Counter(category_key(s.category) for s in summaries)
    return [
        ("sources", f"{len(sources)}", ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))),
        ("passages", f"{len(codable)}", f"codable, of {len(view.passages)}"),
        ("themes", f"{len(summaries)}", ", ".join(f"{n} {k}" for k, n in sorted(statuses.items()))),
        ("coverage", f"{placed / len(codable):.0%}" if codable else "–", f"{placed} passages in these themes"),
        ("categories", "/".join(str(cats.get(k, 0)) for k in ("barrier", "enabler", "practice", "context")),
         "barriers / enablers / practices / context"),
        ("review", f"{len(decisions)}", "decisions by " + (", ".join(sorted({d.reviewer for d in decisions})) or "nobody yet")),
    ]


def validation_report(project: Project):
    """The latest validation sample's agreement, when a reviewer has coded any of it (else None)."""
    from ..validate import agreement

    if not project.validation_samples():
        return None
    report = agreement(project)
    return report if report.coded else None


def build_report(project: Project, *, by: str = "source", include_suggested: bool = False) -> tuple[str, dict]:
    """The report's HTML and a few numbers about it (for the CLI's message and for tests)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from plotly.offline import get_plotlyjs

    codebook = build_codebook(project, include_suggested=include_suggested)
    view = ProjectView(project)
    summaries = dict(codebook.summaries)
    colours = theme_colours(project)
    labels = {c.theme_id: c.name for c in codebook.codes}
    run = project.latest_run()
    matrix = build_matrix(project, by=by, include_suggested=include_suggested)
    data = passage_map(project, view, set(summaries), run["model_id"] if run else None)

    figures = {
        "map": _figure_html(map_figure(data, labels, colours), "synth-map") if data else "",
        "sizes": _figure_html(sizes_figure(list(summaries.values()), colours), "synth-sizes"),
        "matrix": _figure_html(matrix_figure(matrix), "synth-matrix") if matrix.columns else "",
    }
    decisions = project.decisions()
    as_of = max([*(d.at for d in decisions), *([run["finished_at"]] if run else [])], default="")
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    page = env.get_template("report.html").render(
        title=f"Themes in {project.path.stem}", project_name=project.path.name, version=__version__, as_of=as_of,
        run=run, figures=figures, map=data, matrix=matrix, codebook=codebook, summaries=summaries,
        stats=summary_figures(project, view, list(summaries.values())), parent_colours=PARENT_COLOURS,
        plotly_js=get_plotlyjs(), include_suggested=include_suggested, agreement=validation_report(project),
    )
    return page, {"themes": len(summaries), "map_points": data.shown if data else 0, "matrix_columns": len(matrix.columns)}


def write_report(project: Project, out: Path, *, by: str = "source", include_suggested: bool = False) -> str:
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise SynthError(f"{out}: the report is an HTML file; name a file ending in .html")
    page, facts = build_report(project, by=by, include_suggested=include_suggested)
    with atomic_write(out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(page)
    size = out.stat().st_size / 1e6
    return (f"wrote the report ({facts['themes']} themes, {facts['map_points']} passages on the map, "
            f"{size:.1f} MB, opens offline) to {out}")
