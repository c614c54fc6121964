"""Inline SVG charts for the HTML report, built as strings in Python.

Why not a charting library: the report must open offline, on a phone, from an e-mail attachment, so it
cannot load scripts from a CDN; and a few hundred points per chart do not need one. Every label that
can come from data (topic names, alert text) goes through `esc`, because SVG inside HTML is parsed as
markup too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from vigie.core.models import Level

WIDTH, HEIGHT = 760, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 46, 14, 16, 30

SENTIMENT_COLORS = {"neg": "#d64545", "neu": "#9aa5b1", "pos": "#3f9d6b"}
LEVEL_COLORS = {Level.WATCH: "#d9a400", Level.WARNING: "#e8710a", Level.CRISIS: "#c5221f"}
TRUTH_COLOR = "#5b4fc7"
GAP_COLOR = "#8a8f98"  # collection gaps: neutral grey, not a level colour


def esc(value: object) -> str:
    return escape(str(value), quote=True)


@dataclass
class Frame:
    """Maps (time, value) to SVG coordinates inside the plotting area."""

    start: datetime
    end: datetime
    y_max: float
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def left(self) -> float:
        return MARGIN_LEFT

    @property
    def right(self) -> float:
        return self.width - MARGIN_RIGHT

    @property
    def top(self) -> float:
        return MARGIN_TOP

    @property
    def bottom(self) -> float:
        return self.height - MARGIN_BOTTOM

    def x(self, t: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        frac = (t - self.start).total_seconds() / span
        return round(self.left + max(0.0, min(1.0, frac)) * (self.right - self.left), 1)

    def y(self, v: float) -> float:
        frac = v / self.y_max if self.y_max else 0.0
        return round(self.bottom - max(0.0, min(1.0, frac)) * (self.bottom - self.top), 1)

    def contains(self, t: datetime) -> bool:
        return self.start <= t <= self.end


def nice_ticks(value: float, count: int = 5) -> list[float]:
    """Round, integer-friendly y ticks from 0 to at least `value` (steps of 1, 2, 5 x 10^n)."""
    if value <= 0:
        return [0.0, 1.0]
    raw = value / count
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < value:
        ticks.append(ticks[-1] + step)
    return ticks


def time_ticks(start: datetime, end: datetime) -> tuple[list[datetime], str]:
    """Tick times and their strftime format, about 4 to 10 ticks over the span."""
    span = end - start
    for step, fmt in (
        (timedelta(hours=1), "%H:%M"), (timedelta(hours=3), "%H:%M"), (timedelta(hours=6), "%a %H:%M"),
        (timedelta(hours=12), "%a %H:%M"), (timedelta(days=1), "%a %d"), (timedelta(days=7), "%d %b"),
    ):
        if span / step <= 10:
            break
    else:
        step, fmt = timedelta(days=30), "%b %Y"
    epoch = int(start.timestamp())
    width = int(step.total_seconds())
    first = start + timedelta(seconds=(-epoch) % width) if width <= 86400 else start
    ticks, t = [], first
    while t <= end:
        ticks.append(t)
        t += step
    return ticks, fmt


def _open(frame: Frame, label: str) -> list[str]:
    return [
        '<div class="chart-wrap">',
        f'<svg class="chart" viewBox="0 0 {frame.width} {frame.height}" role="img" aria-label="{esc(label)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{esc(label)}</title>",
    ]


def _axes(frame: Frame, y_ticks: Sequence[float], y_fmt: str = "{:g}") -> list[str]:
    out = []
    for v in y_ticks:
        y = frame.y(v)
        out.append(f'<line class="grid" x1="{frame.left}" x2="{frame.right}" y1="{y}" y2="{y}"/>')
        out.append(f'<text class="tick" x="{frame.left - 6}" y="{y + 4}" text-anchor="end">'
                   f"{esc(y_fmt.format(v))}</text>")
    ticks, fmt = time_ticks(frame.start, frame.end)
    for t in ticks:
        x = frame.x(t)
        out.append(f'<line class="axis" x1="{x}" x2="{x}" y1="{frame.bottom}" y2="{frame.bottom + 4}"/>')
        # A label centred on the right edge would be cut off: anchor it by its end there instead.
        anchor = "end" if x > frame.right - 30 else "middle"
        out.append(f'<text class="tick" x="{x}" y="{frame.bottom + 17}" text-anchor="{anchor}">'
                   f"{esc(t.strftime(fmt))}</text>")
    out.append(f'<line class="axis" x1="{frame.left}" x2="{frame.right}" y1="{frame.bottom}" y2="{frame.bottom}"/>')
    return out


@dataclass
class Marker:
    """A vertical line at a moment (ground-truth onset/peak)."""

    at: datetime
    label: str
    color: str = TRUTH_COLOR


def _markers(frame: Frame, markers: Sequence[Marker]) -> list[str]:
    out = []
    for i, m in enumerate(markers):
        if not frame.contains(m.at):
            continue
        x = frame.x(m.at)
        # Labels alternate between two rows so an onset and a peak close together stay readable.
        y = frame.top + 10 + (i % 2) * 12
        anchor = "end" if x > frame.right - 80 else "start"
        dx = -4 if anchor == "end" else 4
        out.append(f'<line class="marker" x1="{x}" x2="{x}" y1="{frame.top}" y2="{frame.bottom}" stroke="{m.color}"/>')
        out.append(f'<text class="marker-label" x="{x + dx}" y="{y}" text-anchor="{anchor}" fill="{m.color}">'
                   f"{esc(m.label)}</text>")
    return out


@dataclass
class GapBand:
    """A span during which a source was blind (a collection gap), shaded behind a chart's data: low volume
    there is not a quiet time, and the risk may be understated."""

    start: datetime
    end: datetime
    label: str


def _gaps(frame: Frame, gaps: Sequence[GapBand]) -> list[str]:
    out = []
    for g in gaps:
        if g.end < frame.start or g.start > frame.end:
            continue
        x0, x1 = frame.x(max(g.start, frame.start)), frame.x(min(g.end, frame.end))
        out.append(f'<rect class="gap" x="{x0}" y="{frame.top}" width="{max(4.0, round(x1 - x0, 1))}" '
                   f'height="{round(frame.bottom - frame.top, 1)}" fill="{GAP_COLOR}" fill-opacity="0.3">'
                   f"<title>{esc(g.label)}</title></rect>")
    return out


def stacked_volume_chart(
    starts: Sequence[datetime], bucket: timedelta, layers: Sequence[tuple[str, str, Sequence[int]]],
    label: str, markers: Sequence[Marker] = (), gaps: Sequence[GapBand] = (),
) -> str:
    """Stacked areas (bottom layer first) of posts per bucket; `layers` is (name, colour, counts)."""
    if not starts:
        return ""
    end = starts[-1] + bucket
    totals = [sum(layer[2][i] for layer in layers) for i in range(len(starts))]
    y_ticks = nice_ticks(max(totals, default=0))
    frame = Frame(starts[0], end, y_ticks[-1])
    out = _open(frame, label)
    out += _gaps(frame, gaps)
    out += _axes(frame, y_ticks)
    below = [0] * len(starts)
    # Each bucket's value is drawn at its middle, so a spike sits where it happened.
    xs = [frame.x(s + bucket / 2) for s in starts]
    for name, color, values in layers:
        above = [b + v for b, v in zip(below, values)]
        top = " ".join(f"{x},{frame.y(v)}" for x, v in zip(xs, above))
        bottom = " ".join(f"{x},{frame.y(v)}" for x, v in reversed(list(zip(xs, below))))
        out.append(f'<polygon class="area" points="{top} {bottom}" fill="{color}"><title>{esc(name)}</title></polygon>')
        below = above
    out += _markers(frame, markers)
    out.append("</svg></div>")
    return "\n".join(out)


@dataclass
class AlertDot:
    """One alert event drawn on the risk chart (not `vigie.core.models.RiskPoint`, the stored curve)."""

    at: datetime
    risk: float
    level: Level | None
    event: str
    alert_id: str


def risk_chart(
    start: datetime, end: datetime, episodes: Sequence[Sequence[AlertDot]], thresholds: dict[Level, float],
    label: str, markers: Sequence[Marker] = (), trace: Sequence[tuple[datetime, float]] = (),
    gaps: Sequence[GapBand] = (),
) -> str:
    """Risk index 0-100 over time: threshold lines, the recomputed risk curve (`trace`) when given, else
    one line per alert episode through its logged events, and a dot per alert event."""
    frame = Frame(start, end, 100.0)
    out = _open(frame, label)
    out += _gaps(frame, gaps)
    out += _axes(frame, [0, 25, 50, 75, 100])
    for level, value in sorted(thresholds.items(), key=lambda kv: kv[1]):
        y = frame.y(value)
        out.append(f'<line class="threshold" x1="{frame.left}" x2="{frame.right}" y1="{y}" y2="{y}" '
                   f'stroke="{LEVEL_COLORS[level]}"/>')
        out.append(f'<text class="threshold-label" x="{frame.right - 2}" y="{y - 3}" text-anchor="end" '
                   f'fill="{LEVEL_COLORS[level]}">{esc(level.value)} {value:g}</text>')
    if trace:
        path = " ".join(f"{frame.x(t)},{frame.y(v)}" for t, v in trace if frame.contains(t))
        out.append(f'<polyline class="risk risk-trace" points="{path}"/>')
    for points in episodes:
        inside = [p for p in points if frame.contains(p.at)]
        if len(inside) > 1 and not trace:
            path = " ".join(f"{frame.x(p.at)},{frame.y(p.risk)}" for p in inside)
            out.append(f'<polyline class="risk" points="{path}"/>')
        for p in inside:
            color = LEVEL_COLORS.get(p.level, "#555") if p.level else "#555"
            radius = 4.5 if p.event in ("open", "escalate") else 2.5
            out.append(
                f'<circle class="alert-dot" cx="{frame.x(p.at)}" cy="{frame.y(p.risk)}" r="{radius}" fill="{color}">'
                f"<title>{esc(p.event)} {esc(p.level.value if p.level else '')} · risk {p.risk:.0f} · "
                f"{esc(p.at.strftime('%a %d %b %H:%M'))} UTC</title></circle>"
            )
    out += _markers(frame, markers)
    out.append("</svg></div>")
    return "\n".join(out)


def share_bars(shares: Sequence[tuple[str, int]], total: int, css_class: str = "bar") -> str:
    """Horizontal bars as HTML (not SVG): they reflow on narrow screens and stay selectable text."""
    if not total:
        return '<p class="muted">No data.</p>'
    rows = []
    for name, n in shares:
        pct = 100.0 * n / total
        rows.append(
            f'<div class="share"><span class="share-name">{esc(name)}</span>'
            f'<span class="share-track"><span class="{css_class}" style="width:{pct:.1f}%"></span></span>'
            f'<span class="share-value">{pct:.0f}% <span class="muted">({n:,})</span></span></div>'
        )
    return "\n".join(rows)
