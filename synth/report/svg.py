"""Small inline SVG charts for the report: no script, no library, a few kilobytes each.

Each function returns an `<svg>` string with a `viewBox`, so it scales to the page (a phone or A4)
and prints sharply. Hover text is an SVG `<title>`; everything a reader needs is also printed as
text beside the chart, because a printed page has no hover.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np

INK = "#1c2833"
MUTED = "#5d6d7e"
GRID = "#e5e8e8"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _nice_ticks(top: float, count: int = 5) -> list[float]:
    if top <= 0:
        return [0.0]
    raw = top / count
    magnitude = 10 ** np.floor(np.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    return [float(x) for x in np.arange(0, top + step * 0.5, step)]


def scatter(xy: np.ndarray, colours: Sequence[str], titles: Sequence[str], *, x_label: str, y_label: str,
            width: int = 720, height: int = 440, order: Sequence[int] | None = None, label: str = "") -> str:
    """Points at `xy`, one colour and hover title each; grey (unplaced) points drawn first, below."""
    pad_l, pad_r, pad_t, pad_b = 30, 10, 10, 34
    x, y = np.asarray(xy[:, 0], dtype=float), np.asarray(xy[:, 1], dtype=float)
    span_x = float(x.max() - x.min()) or 1.0
    span_y = float(y.max() - y.min()) or 1.0
    sx = lambda v: pad_l + (v - x.min()) / span_x * (width - pad_l - pad_r)  # noqa: E731
    sy = lambda v: height - pad_b - (v - y.min()) / span_y * (height - pad_t - pad_b)  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(label)}" '
             'xmlns="http://www.w3.org/2000/svg">',
             f'<rect x="{pad_l}" y="{pad_t}" width="{width - pad_l - pad_r}" height="{height - pad_t - pad_b}" '
             f'fill="white" stroke="{GRID}"/>']
    for i in (order if order is not None else range(len(x))):
        parts.append(f'<circle cx="{sx(x[i]):.1f}" cy="{sy(y[i]):.1f}" r="3.6" fill="{colours[i]}" fill-opacity="0.85">'
                     f'<title>{_esc(titles[i])}</title></circle>')
    parts.append(f'<text x="{(pad_l + width - pad_r) / 2:.0f}" y="{height - 10}" text-anchor="middle" '
                 f'font-size="13" fill="{MUTED}">{_esc(x_label)}</text>')
    parts.append(f'<text x="14" y="{(pad_t + height - pad_b) / 2:.0f}" text-anchor="middle" font-size="13" '
                 f'fill="{MUTED}" transform="rotate(-90 14 {(pad_t + height - pad_b) / 2:.0f})">{_esc(y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def lines(series: Sequence[Mapping], *, n: int, x_label: str, y_label: str, marker: int | None = None,
          marker_label: str = "", shade_to: int | None = None, width: int = 720, height: int = 300,
          label: str = "") -> str:
    """Line chart over x = 1..n. Each series: {"values", "colour", "dash" (bool), "name"}.

    `marker` draws a vertical line at that x (the saturation point); `shade_to` shades x ≤ it (the base)."""
    pad_l, pad_r, pad_t, pad_b = 44, 14, 14, 40
    top = max([max(s["values"], default=0) for s in series] + [1])
    ticks = _nice_ticks(top)
    top = max(ticks[-1], top)
    sx = lambda v: pad_l + (v - 1) / max(n - 1, 1) * (width - pad_l - pad_r)  # noqa: E731
    sy = lambda v: height - pad_b - v / top * (height - pad_t - pad_b)  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(label)}" '
             'xmlns="http://www.w3.org/2000/svg">']
    if shade_to:
        shade_to = min(shade_to, n)  # a group smaller than the base is all base
        parts.append(f'<rect x="{pad_l}" y="{pad_t}" width="{max(sx(shade_to) - pad_l, 0):.1f}" '
                     f'height="{height - pad_t - pad_b}" fill="#f4f6f7"/>')
    for t in ticks:
        parts.append(f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" stroke="{GRID}"/>'
                     f'<text x="{pad_l - 6}" y="{sy(t) + 4:.1f}" text-anchor="end" font-size="12" fill="{MUTED}">{t:g}</text>')
    step = max(1, int(np.ceil(n / 12)))
    for i in range(1, n + 1, step):
        parts.append(f'<text x="{sx(i):.1f}" y="{height - pad_b + 16}" text-anchor="middle" font-size="12" '
                     f'fill="{MUTED}">{i}</text>')
    if marker:
        parts.append(f'<line x1="{sx(marker):.1f}" x2="{sx(marker):.1f}" y1="{pad_t}" y2="{height - pad_b}" '
                     f'stroke="#C0392B" stroke-width="1.5" stroke-dasharray="4 3"/>'
                     f'<text x="{sx(marker) + 5:.1f}" y="{pad_t + 14}" font-size="12" fill="#C0392B">{_esc(marker_label)}</text>')
    for s in series:
        values = list(s["values"])
        points = " ".join(f"{sx(i + 1):.1f},{sy(v):.1f}" for i, v in enumerate(values))
        dash = ' stroke-dasharray="6 4"' if s.get("dash") else ""
        parts.append(f'<polyline points="{points}" fill="none" stroke="{s["colour"]}" stroke-width="2"{dash}>'
                     f'<title>{_esc(s["name"])}</title></polyline>')
        if not s.get("dash"):
            for i, v in enumerate(values):
                parts.append(f'<circle cx="{sx(i + 1):.1f}" cy="{sy(v):.1f}" r="3" fill="{s["colour"]}">'
                             f'<title>{_esc(s["name"])}: {v:g} after {i + 1}</title></circle>')
    parts.append(f'<text x="{(pad_l + width - pad_r) / 2:.0f}" y="{height - 6}" text-anchor="middle" font-size="13" '
                 f'fill="{MUTED}">{_esc(x_label)}</text>')
    parts.append(f'<text x="13" y="{(pad_t + height - pad_b) / 2:.0f}" text-anchor="middle" font-size="13" '
                 f'fill="{MUTED}" transform="rotate(-90 13 {(pad_t + height - pad_b) / 2:.0f})">{_esc(y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
