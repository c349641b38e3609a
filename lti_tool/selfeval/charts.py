"""Server-rendered SVG charts (no JavaScript) with a text alternative.

Each chart has a ``<title>`` referenced by ``aria-labelledby``; the bar chart is
followed by a data table with the same numbers, and the house carries each
part's label and status word as text, so colour never carries meaning alone.
Only numbers the privacy engine released reach these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

PALETTE = ("#0b5cad", "#a4161a", "#1d6b2f", "#8a5a00", "#6a3d9a", "#444444", "#00727a", "#b3541e")
HOUSE_FILLS = {"green": "#2e7d32", "amber": "#f2a900", "red": "#c62828", "no data": "#9e9e9e"}
HOUSE_TEXT = {"green": "#ffffff", "amber": "#000000", "red": "#ffffff", "no data": "#000000"}

Bar = tuple[str, float | None, str]  # series label, value (None: nothing to draw), text shown


def bar_chart(chart_id: str, title: str, categories: Sequence[tuple[str, Sequence[Bar]]], *,
              minimum: float = 0, maximum: float = 5) -> Markup:
    """Horizontal grouped bars (one group per category) plus the data table right after."""
    label_w, bar_w, row_h, gap = 260, 320, 18, 10
    width = label_w + bar_w + 110
    y = 28
    parts: list[str] = []
    series: list[str] = []
    for _cat, bars in categories:
        for name, _v, _t in bars:
            if name not in series:
                series.append(name)
    span = (maximum - minimum) or 1
    for cat, bars in categories:
        parts.append(f'<text x="0" y="{y + 12}" class="chart-cat" font-weight="bold">{escape(_short(cat, 40))}</text>')
        y += row_h
        for name, value, text in bars:
            colour = PALETTE[series.index(name) % len(PALETTE)]
            parts.append(f'<text x="12" y="{y + 13}">{escape(_short(name, 36))}</text>')
            if value is not None:
                w = max(1.0, (value - minimum) / span * bar_w) if value > minimum else 1.0
                parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 4}" fill="{colour}"/>')
                parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 13}">{escape(text)}</text>')
            else:
                parts.append(f'<text x="{label_w}" y="{y + 13}" font-style="italic">{escape(text)}</text>')
            y += row_h
        y += gap
    axis = [f'<line x1="{label_w}" y1="20" x2="{label_w}" y2="{y}" stroke="#666"/>']
    for tick in range(int(minimum), int(maximum) + 1):
        x = label_w + (tick - minimum) / span * bar_w
        axis.append(f'<text x="{x:.1f}" y="14" text-anchor="middle">{tick}</text>')
        axis.append(f'<line x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{y}" stroke="#ddd"/>')
    title_id = f"{chart_id}-title"
    svg = (f'<svg id="{chart_id}" class="chart" role="img" aria-labelledby="{title_id}" '
           f'viewBox="0 0 {width} {y + 4}" width="100%" style="max-width:{width}px" '
           f'font-family="sans-serif" font-size="12" xmlns="http://www.w3.org/2000/svg">'
           f'<title id="{title_id}">{escape(title)}</title>' + "".join(axis) + "".join(parts) + "</svg>")
    rows = []
    for cat, bars in categories:
        texts = {name: text for name, _v, text in bars}
        rows.append((cat, [texts.get(s, "") for s in series]))
    return Markup(svg + _data_table(chart_id, title, series, rows))


def house_svg(chart_id: str, title: str, house: dict[str, Any]) -> Markup:
    """A house: the first part is the roof, the last the foundation, the others floors.

    Every part is filled by its colour *and* labelled with its name and status word."""
    parts = house["parts"]
    width, floor_h, roof_h = 420, 56, 90
    y = 4
    shapes: list[str] = []
    title_id = f"{chart_id}-title"
    for index, part in enumerate(parts):
        fill = HOUSE_FILLS.get(part["colour"], HOUSE_FILLS["no data"])
        ink = HOUSE_TEXT.get(part["colour"], "#000000")
        label = f'{part["label"]}: {part["status"]}'
        if index == 0 and len(parts) > 1:
            shapes.append(f'<polygon points="10,{y + roof_h} {width / 2},{y} {width - 10},{y + roof_h}" '
                          f'fill="{fill}" stroke="#222" stroke-width="2"><title>{escape(label)}</title></polygon>')
            shapes.append(_house_text(width / 2, y + roof_h * 0.68, part, ink))
            y += roof_h
        else:
            inset = 30 if index < len(parts) - 1 or len(parts) == 1 else 10
            shapes.append(f'<rect x="{inset}" y="{y}" width="{width - 2 * inset}" height="{floor_h}" fill="{fill}" '
                          f'stroke="#222" stroke-width="2"><title>{escape(label)}</title></rect>')
            shapes.append(_house_text(width / 2, y + floor_h / 2, part, ink))
            y += floor_h
    return Markup(f'<svg id="{chart_id}" class="chart house" role="img" aria-labelledby="{title_id}" '
                  f'viewBox="0 0 {width} {y + 4}" width="100%" style="max-width:{width}px" font-family="sans-serif" '
                  f'font-size="14" xmlns="http://www.w3.org/2000/svg"><title id="{title_id}">{escape(title)}</title>'
                  + "".join(shapes) + "</svg>")


def _house_text(x: float, y: float, part: dict[str, Any], ink: str) -> str:
    return (f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="middle" fill="{ink}">'
            f'<tspan x="{x:.0f}" dy="-0.2em" font-weight="bold">{escape(_short(part["label"], 44))}</tspan>'
            f'<tspan x="{x:.0f}" dy="1.2em">{escape(part["status"])}</tspan></text>')


def _data_table(chart_id: str, title: str, series: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The chart's numbers as a table (one row per criterion, one column per series) in a scroll region."""
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in series)
    body = "".join(f'<tr><th scope="row">{escape(label)}</th>' + "".join(f"<td>{escape(t)}</td>" for t in texts)
                   + "</tr>" for label, texts in rows)
    caption = f"{escape(title)} – {escape(_('data table'))}"
    # A wide table scrolls in its own focusable region instead of widening the page.
    return (f'<div class="mt-scroll" role="region" aria-label="{caption}" tabindex="0">'
            f'<table class="mt-table chart-data" id="{chart_id}-data"><caption>{caption}</caption><thead><tr>'
            f'<th scope="col">{escape(_("Criterion"))}</th>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Break a label into at most ``max_lines`` lines of about ``width`` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _short(lines[-1] + " …", width)
    return [_short(line, width + 4) for line in lines]


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


DASHES = ("", "6 3", "2 3", "10 3 2 3")
MARKERS = ("circle", "square", "diamond", "triangle")


def radar_chart(chart_id: str, title: str, axes: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
                *, minimum: float = 1, maximum: float = 5, texts: Sequence[Sequence[str]] | None = None) -> Markup:
    """A score profile: one spoke per criterion, one outline per series, then the data table.

    Series differ by colour *and* dash pattern and marker shape; a hidden or
    missing value leaves a gap in the outline (no point is invented)."""
    n = len(axes)
    size, radius = 600, 150
    cx, cy = size / 2, 215
    span = (maximum - minimum) or 1

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / n
        r = radius * (value - minimum) / span
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    parts: list[str] = []
    for tick in range(int(minimum), int(maximum) + 1):
        ring = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, tick) for i in range(n)))
        parts.append(f'<polygon points="{ring}" fill="none" stroke="#ccc"/>')
        x, y = point(0, tick)
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 4:.1f}" font-size="10" fill="#555">{tick}</text>')
    for i, label in enumerate(axes):
        x, y = point(i, maximum)
        parts.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="#999"/>')
        lx, ly = point(i, maximum + span * 0.12)
        anchor = "middle" if abs(lx - cx) < 20 else ("start" if lx > cx else "end")
        lines = _wrap(label, 18, 3)
        first = ly + 4 - (len(lines) - 1) * 7
        tspans = "".join(f'<tspan x="{lx:.1f}" y="{first + 14 * k:.1f}">{escape(line)}</tspan>'
                         for k, line in enumerate(lines))
        parts.append(f'<text text-anchor="{anchor}">{tspans}</text>')
    legend_y = cy + radius + 48
    for s_index, (name, values) in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        dash = DASHES[s_index % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        # split the outline where a value is missing; close it only when complete
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
            else:
                runs[-1].append(point(i, value))
        complete = all(v is not None for v in values)
        for run in runs:
            if len(run) > 1 or (complete and run):
                pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                tag = "polygon" if complete else "polyline"
                parts.append(f'<{tag} points="{pts}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        for i, value in enumerate(values):
            if value is not None:
                parts.append(_marker(MARKERS[s_index % len(MARKERS)], *point(i, value), colour))
        ly = legend_y + 20 * s_index
        parts.append(f'<line x1="20" y1="{ly}" x2="56" y2="{ly}" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        parts.append(_marker(MARKERS[s_index % len(MARKERS)], 38, ly, colour))
        parts.append(f'<text x="64" y="{ly + 4}">{escape(_short(name, 60))}</text>')
    height = legend_y + 20 * len(series) + 4
    title_id = f"{chart_id}-title"
    svg = (f'<svg id="{chart_id}" class="chart radar" role="img" aria-labelledby="{title_id}" '
           f'viewBox="0 0 {size} {height}" width="100%" style="max-width:{size}px" font-family="sans-serif" '
           f'font-size="12" xmlns="http://www.w3.org/2000/svg"><title id="{title_id}">{escape(title)}</title>'
           + "".join(parts) + "</svg>")
    rows = [(label, [texts[s_index][i] if texts else ("–" if values[i] is None else f"{values[i]:.2f}")
                     for s_index, (_name, values) in enumerate(series)])
            for i, label in enumerate(axes)]
    return Markup(svg + _data_table(chart_id, title, [name for name, _v in series], rows))


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "diamond":
        return f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}" fill="{colour}"/>'
    if shape == "triangle":
        return f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
