"""Charts as inline SVG: no script and no network, they print as they show. Figures arrive exact (Decimal);
positions are floats, only for drawing. Every mark carries a ``<title>`` with its exact figure."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0891b2", "#db2777", "#65a30d")
AXIS = "#94a3b8"
GRID = "#e2e8f0"


@dataclass(frozen=True)
class Point:
    label: str
    x: Decimal
    y: Decimal
    size: int
    """Cases: the marker's area grows with it."""


def quadrant_chart(points: Sequence[Point], x_ref: Decimal, y_ref: Decimal, *, title: str, x_name: str,
                   y_name: str, corners: tuple[str, str, str, str]) -> str:
    """A scatter of units split by a vertical line at ``x_ref`` and a horizontal one at ``y_ref``.

    ``corners`` name the quadrants: top-left, top-right, bottom-left, bottom-right."""
    if not points:
        return _empty(title)
    frame = _Frame(760, 460, 64, 24, 24, 48)
    width, height, left, right, top, bottom = 760, 460, 64, 24, 24, 48
    xs = [float(p.x) for p in points] + [float(x_ref)]
    ys = [float(p.y) for p in points] + [float(y_ref)]
    x0, x1 = _padded(min(xs), max(xs))
    y0, y1 = _padded(min(ys), max(ys))

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (width - left - right)

    def sy(v: float) -> float:
        return height - bottom - (v - y0) / (y1 - y0) * (height - top - bottom)

    biggest = max(p.size for p in points) or 1
    parts = [_axes(frame, (y0, y1), sy, x_range=(x0, x1), to_x=sx, x_name=x_name, y_name=y_name)]
    rx, ry = sx(float(x_ref)), sy(float(y_ref))
    parts.append(f"<line x1='{rx:.1f}' y1='{top}' x2='{rx:.1f}' y2='{height - bottom}' stroke='#475569' "
                 "stroke-dasharray='5 4'/>")
    parts.append(f"<line x1='{left}' y1='{ry:.1f}' x2='{width - right}' y2='{ry:.1f}' stroke='#475569' "
                 "stroke-dasharray='5 4'/>")
    corner_at = ((left + 6, top + 14, "start"), (width - right - 6, top + 14, "end"),
                 (left + 6, height - bottom - 8, "start"), (width - right - 6, height - bottom - 8, "end"))
    for (cx, cy, anchor), name in zip(corner_at, corners, strict=True):
        parts.append(f"<text class='corner' x='{cx}' y='{cy}' text-anchor='{anchor}' fill='#64748b'>{_e(name)}</text>")
    for i, p in enumerate(points):
        radius = 4 + 12 * (p.size / biggest) ** 0.5
        px, py = sx(float(p.x)), sy(float(p.y))
        parts.append(f"<g class='point'><circle cx='{px:.1f}' cy='{py:.1f}' r='{radius:.1f}' "
                     f"fill='{PALETTE[i % len(PALETTE)]}' fill-opacity='.55' stroke='#1e293b' stroke-width='.6'>"
                     f"<title>{_e(p.label)}: {x_name} {p.x}, {y_name} {p.y}, {p.size:,} cases</title></circle>"
                     f"<text x='{px + radius + 3:.1f}' y='{py + 4:.1f}'>{_e(p.label[:18])}</text></g>")
    return _svg(width, height, title, "".join(parts))


def paired_bars(rows: Sequence[tuple[str, Decimal | None, Decimal | None]], names: tuple[str, str], *,
                title: str, reference: Decimal | None = Decimal(1)) -> str:
    """Two horizontal bars per row (e.g. time and cost index) with a reference line (1 = regional average)."""
    rows = [r for r in rows if r[1] is not None or r[2] is not None]
    if not rows:
        return _empty(title)
    width, label_width, row_height = 760, 230, 34
    height = 30 + row_height * len(rows) + 24
    values = [float(v) for _, a, b in rows for v in (a, b) if v is not None]
    top = max([*values, float(reference or 0)]) * 1.1 or 1.0
    scale = (width - label_width - 70) / top
    parts = []
    for i, (name, colour) in enumerate(zip(names, PALETTE, strict=False)):
        parts.append(f"<rect x='{label_width + 150 * i}' y='6' width='12' height='12' fill='{colour}'/>"
                     f"<text x='{label_width + 150 * i + 16}' y='17'>{_e(name)}</text>")
    for i, (label, a, b) in enumerate(rows):
        y = 30 + row_height * i
        parts.append(f"<text x='0' y='{y + 19}'>{_e(label[:30])}</text>")
        for j, value in enumerate((a, b)):
            if value is None:
                continue
            length = max(1.0, float(value) * scale)
            parts.append(f"<rect class='bar' x='{label_width}' y='{y + 3 + 14 * j}' width='{length:.1f}' "
                         f"height='12' fill='{PALETTE[j]}'><title>{_e(label)}: {names[j]} {value}</title></rect>"
                         f"<text x='{label_width + length + 4:.1f}' y='{y + 13 + 14 * j}'>{value}</text>")
    if reference is not None:
        rx = label_width + float(reference) * scale
        parts.append(f"<line x1='{rx:.1f}' y1='26' x2='{rx:.1f}' y2='{height - 20}' stroke='#475569' "
                     f"stroke-dasharray='5 4'/><text x='{rx + 3:.1f}' y='{height - 6}'>{reference}</text>")
    return _svg(width, height, title, "".join(parts))


def bars(rows: Sequence[tuple[str, Decimal]], *, title: str, unit: str = "", percent: bool = False,
         colour: str = PALETTE[0]) -> str:
    """One horizontal bar per row; ``percent`` shows a rate (4 places) as a percentage with 2 places."""
    if not rows:
        return _empty(title)
    width, label_width, row_height = 760, 230, 22
    height = 10 + row_height * len(rows)
    top = max(float(v) for _, v in rows) or 1.0
    scale = (width - label_width - 90) / top
    parts = []
    for i, (label, value) in enumerate(rows):
        y = 4 + row_height * i
        shown = f"{value * 100:.2f}%" if percent else f"{value}{unit}"
        length = max(1.0, float(value) * scale)
        parts.append(f"<text x='0' y='{y + 13}'>{_e(label[:30])}</text>"
                     f"<rect class='bar' x='{label_width}' y='{y}' width='{length:.1f}' height='16' fill='{colour}'>"
                     f"<title>{_e(label)}: {shown}</title></rect>"
                     f"<text x='{label_width + length + 4:.1f}' y='{y + 13}'>{shown}</text>")
    return _svg(width, height, title, "".join(parts))


def line_chart(categories: Sequence[str], series: Sequence[tuple[str, Sequence[Decimal | None]]], *, title: str,
               reference: Decimal | None = None) -> str:
    """One line per series over the categories (months); a gap where a value is missing."""
    values = [float(v) for _, line in series for v in line if v is not None]
    if not categories or not values:
        return _empty(title)
    frame = _Frame(760, 340, 64, 150, 20, 64)
    width, height, left, right, top, bottom = 760, 340, 64, 150, 20, 64
    low, high = _padded(min([*values, float(reference if reference is not None else values[0])]),
                        max([*values, float(reference if reference is not None else values[0])]))
    step = (width - left - right) / max(1, len(categories) - 1)

    def sx(i: float) -> float:
        return left + (i * step if len(categories) > 1 else (width - left - right) / 2)

    def sy(v: float) -> float:
        return height - bottom - (v - low) / (high - low) * (height - top - bottom)

    parts = [_axes(frame, (low, high), sy)]
    for i, category in enumerate(categories):
        at_x, at_y = sx(i), height - bottom + 14
        parts.append(f"<text x='{at_x:.1f}' y='{at_y}' text-anchor='end' transform='rotate(-35 {at_x:.1f} {at_y})'>"
                     f"{_e(category)}</text>")
    if reference is not None:
        parts.append(f"<line x1='{left}' y1='{sy(float(reference)):.1f}' x2='{width - right}' "
                     f"y2='{sy(float(reference)):.1f}' stroke='#475569' stroke-dasharray='5 4'/>")
    for k, (name, line) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = [(sx(i), sy(float(v)), v) for i, v in enumerate(line) if v is not None]
        path = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y, _) in enumerate(points))
        parts.append(f"<path class='series' d='{path}' fill='none' stroke='{colour}' stroke-width='2'/>")
        for (x, y, v), category in zip(points, [c for c, v in zip(categories, line, strict=True) if v is not None],
                                       strict=True):
            parts.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{colour}'>"
                         f"<title>{_e(name)} {_e(category)}: {v}</title></circle>")
        parts.append(f"<rect x='{width - right + 12}' y='{top + 18 * k}' width='12' height='12' fill='{colour}'/>"
                     f"<text x='{width - right + 28}' y='{top + 18 * k + 11}'>{_e(name)}</text>")
    return _svg(width, height, title, "".join(parts))


@dataclass(frozen=True)
class _Frame:
    """A chart's size and the margins around its plotting area."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int


def _axes(f: _Frame, y_range: tuple[float, float], to_y: Callable[[float], float], *,
          x_range: tuple[float, float] | None = None, to_x: Callable[[float], float] | None = None,
          x_name: str = "", y_name: str = "") -> str:
    floor, end = f.height - f.bottom, f.width - f.right
    parts = [f"<line x1='{f.left}' y1='{floor}' x2='{end}' y2='{floor}' stroke='{AXIS}'/>",
             f"<line x1='{f.left}' y1='{f.top}' x2='{f.left}' y2='{floor}' stroke='{AXIS}'/>"]
    for tick in _ticks(*y_range):
        y = to_y(tick)
        parts.append(f"<line x1='{f.left}' y1='{y:.1f}' x2='{end}' y2='{y:.1f}' stroke='{GRID}'/>"
                     f"<text x='{f.left - 6}' y='{y + 4:.1f}' text-anchor='end'>{tick:g}</text>")
    if x_range is not None and to_x is not None:
        for tick in _ticks(*x_range):
            parts.append(f"<text x='{to_x(tick):.1f}' y='{floor + 16}' text-anchor='middle'>{tick:g}</text>")
    if x_name:
        parts.append(f"<text x='{(f.left + end) / 2:.0f}' y='{f.height - 8}' text-anchor='middle' "
                     f"font-weight='600'>{_e(x_name)}</text>")
    if y_name:
        middle = (f.top + floor) / 2
        parts.append(f"<text x='14' y='{middle:.0f}' text-anchor='middle' font-weight='600' "
                     f"transform='rotate(-90 14 {middle:.0f})'>{_e(y_name)}</text>")
    return "".join(parts)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    raw = (high - low) / count
    magnitude = 10 ** len(str(int(1 / raw))) if raw < 1 else 1
    step = max(round(raw * magnitude) / magnitude, 1 / magnitude)
    first = round(low / step + 0.4999) * step
    ticks: list[float] = []
    value = first
    while value <= high + 1e-9 and len(ticks) < 12:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _padded(low: float, high: float) -> tuple[float, float]:
    if high - low < 1e-9:
        return low - 0.5, high + 0.5
    pad = (high - low) * 0.08
    return low - pad, high + pad


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (f"<svg class='chart' viewBox='0 0 {width} {height}' width='{width}' height='{height}' role='img' "
            f"aria-label='{_e(title)}' xmlns='http://www.w3.org/2000/svg'><title>{_e(title)}</title>{body}</svg>")


def _empty(title: str) -> str:
    return f"<p class='empty'>{_e(title)}: no data.</p>"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
