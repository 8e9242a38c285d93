"""The benchmark's chart, laid out once as shapes, written as SVG (no dependency, no script),
a self-contained HTML page, or a PNG (Pillow, from the ``bench`` extra; see ``_png``).

One row per scenario, three panels per row — requests/s, p99 latency and loop-lag max — each a
grouped bar chart with one group per load level (concurrency, or rate for an open loop) and one
bar per variant.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from unstall.bench._report import columns, describe_load, table_cells
from unstall.bench._runner import BenchResult, Row
from unstall.bench._scenarios import SCENARIOS

__all__ = ("Chart", "Line", "Rect", "Text", "layout", "render_html", "render_svg")


class Rect(NamedTuple):
    """A filled rectangle; ``title`` is its tooltip (SVG only)."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str | None = None


class Line(NamedTuple):
    """A one-pixel line."""

    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str


class Text(NamedTuple):
    """A line of text whose baseline starts, is centred or ends (``anchor``) at ``x``, ``y``."""

    x: float
    y: float
    text: str
    size: float
    anchor: Literal["start", "middle", "end"] = "start"
    bold: bool = False
    fill: str = "#222"


Shape = Rect | Line | Text


class Chart(NamedTuple):
    """The laid-out chart: its size in pixels and its shapes, drawn in order."""

    width: int
    height: int
    shapes: tuple[Shape, ...]


_PANEL_W, _PANEL_H = 330, 210
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 10, 26, 30
_ROW_HEAD = 34
_FONT = "font-family='-apple-system,Segoe UI,Helvetica,Arial,sans-serif'"
_NAIVE = "#d62728"
_SYNC = "#8c8c8c"
_FIXED = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")


@dataclass(frozen=True, slots=True)
class _Metric:
    title: str
    value: Callable[[Row], float | None]
    log: bool
    unit: str


_METRICS = (
    _Metric("requests/s (higher is better)", lambda r: r.rps, False, "req/s"),
    _Metric("p99 latency, ms (lower is better)", lambda r: r.p99_ms, True, "ms"),
    _Metric("loop lag max, ms (lower is better)", lambda r: r.lag_max_ms, True, "ms"),
)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _linear_ticks(top: float) -> list[float]:
    if top <= 0:
        return [0.0, 1.0]
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def _log_ticks(low: float, high: float) -> list[float]:
    lo = math.floor(math.log10(max(low, 1e-3)))
    hi = math.ceil(math.log10(max(high, 10 ** (lo + 1))))
    return [10.0**e for e in range(lo, hi + 1)]


def _variant_colors(rows: Sequence[Row]) -> dict[str, str]:
    colors: dict[str, str] = {}
    fixed = 0
    for row in rows:
        if row.variant in colors:
            continue
        if row.blocks_loop:
            colors[row.variant] = _NAIVE
        elif row.variant == "sync server":
            colors[row.variant] = _SYNC
        else:
            colors[row.variant] = _FIXED[fixed % len(_FIXED)]
            fixed += 1
    return colors


def _panel(
    x0: float, y0: float, metric: _Metric, rows: Sequence[Row], colors: dict[str, str]
) -> list[Shape]:
    out: list[Shape] = [Text(x0 + _LEFT, y0 + 16, metric.title, 12, bold=True)]
    plot_w = _PANEL_W - _LEFT - _RIGHT
    plot_h = _PANEL_H - _TOP - _BOTTOM
    px, py = x0 + _LEFT, y0 + _TOP
    labels = {r.level: r.level_label for r in rows}
    levels = sorted(labels)
    variants = list(dict.fromkeys(r.variant for r in rows))
    values = [v for r in rows if (v := metric.value(r)) is not None and v > 0 and math.isfinite(v)]
    if not values:
        out.append(Text(px + plot_w / 2, py + plot_h / 2, "no data", 11, "middle", fill="#777"))
        return out
    if metric.log:
        ticks = _log_ticks(min(values), max(values))
        lo, hi = math.log10(ticks[0]), math.log10(ticks[-1])

        def scale(v: float) -> float:
            return plot_h * (math.log10(max(v, ticks[0])) - lo) / (hi - lo)
    else:
        ticks = _linear_ticks(max(values) * 1.05)

        def scale(v: float) -> float:
            return plot_h * v / ticks[-1]

    for t in ticks:
        y = round(py + plot_h - scale(t), 1)
        out.append(Line(px, y, px + plot_w, y, "#e5e5e5"))
        out.append(Text(px - 4, round(y + 3.5, 1), _fmt(t), 10, "end", fill="#555"))
    group_w = plot_w / len(levels)
    bar_w = min(26.0, (group_w - 10) / max(1, len(variants)))
    by_key = {(r.variant, r.level): r for r in rows}
    for g, level in enumerate(levels):
        gx = px + g * group_w + (group_w - bar_w * len(variants)) / 2
        label = labels[level]
        out.append(
            Text(round(px + g * group_w + group_w / 2, 1), py + plot_h + 14, label, 10, "middle")
        )
        for i, variant in enumerate(variants):
            row = by_key.get((variant, level))
            value = metric.value(row) if row is not None else None
            if value is None or not math.isfinite(value) or value <= 0:
                continue
            h = round(max(1.0, scale(value)), 1)
            x = round(gx + i * bar_w, 1)
            title = f"{variant}, {label}: {_fmt(value)} {metric.unit}"
            out.append(
                Rect(x, round(py + plot_h - h, 1), round(bar_w - 1.5, 1), h, colors[variant], title)
            )
    out.append(Line(px, py + plot_h, px + plot_w, py + plot_h, "#333"))
    return out


def _subtitle(result: BenchResult) -> tuple[str, str]:
    env = result.environment
    first = [
        env.get("python", ""),
        f"{env['cpus']} CPUs" if "cpus" in env else "",
        f"{env['loop']} loop" if "loop" in env else "",
        f"{result.config.duration:g} s per measurement",
        "open-loop load on 127.0.0.1, latency from each scheduled start"
        if result.config.rates
        else "closed-loop clients on 127.0.0.1",
    ]
    second = [
        f'offload(engine="auto") chose {env["offload_auto"]}' if "offload_auto" in env else "",
        "loop lag = lateness of the unstall.watch heartbeat (the sync server has no loop)",
    ]
    return "; ".join(p for p in first if p), "; ".join(p for p in second if p)


def layout(result: BenchResult) -> Chart:
    """Lay the chart of ``result`` out as shapes, for :func:`render_svg` and the PNG writer."""
    titles = {s.name: s.title for s in SCENARIOS}
    scenarios = list(dict.fromkeys(r.scenario for r in result.rows))
    colors = _variant_colors(result.rows)
    row_h = _ROW_HEAD + _PANEL_H
    width = _PANEL_W * len(_METRICS) + 20
    top = 72
    height = top + row_h * len(scenarios) + 10
    shapes: list[Shape] = [
        Rect(0, 0, width, height, "white"),
        Text(14, 24, "unstall bench: naive vs fixed under concurrent load", 16, bold=True),
        *(Text(14, 43 + 15 * i, line, 11, fill="#555") for i, line in enumerate(_subtitle(result))),
    ]
    for n, scenario in enumerate(scenarios):
        rows = [r for r in result.rows if r.scenario == scenario]
        y0 = top + n * row_h
        title = f"{scenario}: {titles.get(scenario, '')}".rstrip(": ")
        shapes.append(Text(14, y0 + 16, title, 14, bold=True))
        lx = 14 + 9 * len(title) + 16
        for variant in dict.fromkeys(r.variant for r in rows):
            shapes.append(Rect(lx, y0 + 6, 11, 11, colors[variant]))
            shapes.append(Text(lx + 15, y0 + 16, variant, 12))
            lx += 15 + 7 * len(variant) + 18
        for m, metric in enumerate(_METRICS):
            shapes.extend(_panel(10 + m * _PANEL_W, y0 + _ROW_HEAD - 10, metric, rows, colors))
    return Chart(width, height, tuple(shapes))


def _n(value: float) -> str:
    """A coordinate for SVG: at most one decimal, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(shape: Shape) -> str:
    if isinstance(shape, Rect):
        box = f"x='{_n(shape.x)}' y='{_n(shape.y)}' width='{_n(shape.width)}' height='{_n(shape.height)}'"
        if shape.title is None:
            return f"<rect {box} fill='{shape.fill}'/>"
        return f"<rect {box} fill='{shape.fill}'><title>{_esc(shape.title)}</title></rect>"
    if isinstance(shape, Line):
        ends = f"x1='{_n(shape.x1)}' x2='{_n(shape.x2)}' y1='{_n(shape.y1)}' y2='{_n(shape.y2)}'"
        return f"<line {ends} stroke='{shape.stroke}'/>"
    anchor = "" if shape.anchor == "start" else f" text-anchor='{shape.anchor}'"
    weight = " font-weight='700'" if shape.bold else ""
    return (
        f"<text x='{_n(shape.x)}' y='{_n(shape.y)}'{anchor} font-size='{_n(shape.size)}'{weight} "
        f"fill='{shape.fill}' {_FONT}>{_esc(shape.text)}</text>"
    )


def render_svg(result: BenchResult) -> str:
    """The chart as a standalone SVG document (no scripts, no external resources)."""
    chart = layout(result)
    w, h = chart.width, chart.height
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' viewBox='0 0 {w} {h}'>"
    )
    return "\n".join([head, *map(_svg, chart.shapes), "</svg>"]) + "\n"


def render_html(result: BenchResult) -> str:
    """A self-contained HTML page: the SVG chart, the table and the environment."""
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns(result))
    body = "\n".join(
        "<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in table_cells(row)) + "</tr>"
        for row in result.rows
    )
    env = ", ".join(f"{_esc(k)} {_esc(v)}" for k, v in result.environment.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>unstall bench</title>
<style>
body {{ font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; margin-top: 16px; }}
th, td {{ border: 1px solid #ddd; padding: 3px 8px; }}
td:nth-child(n+3) {{ text-align: right; font-variant-numeric: tabular-nums; }}
th {{ background: #f4f4f4; }}
</style></head><body>
<h1>unstall bench</h1>
<p>{env}; {result.config.duration:g} s per measurement; {_esc(describe_load(result))}.</p>
{render_svg(result)}
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table>
</body></html>
"""
