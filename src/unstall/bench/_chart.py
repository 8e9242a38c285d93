"""The benchmark's chart: inline SVG (no dependency, no script) and a self-contained HTML page.

One row per scenario, three panels per row — requests/s, p99 latency and loop-lag max — each a
grouped bar chart with one group per concurrency level and one bar per variant.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from unstall.bench._report import COLUMNS, table_cells
from unstall.bench._runner import BenchResult, Row
from unstall.bench._scenarios import SCENARIOS

__all__ = ("render_html", "render_png", "render_svg")

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
) -> list[str]:
    out = [
        f"<text x='{x0 + _LEFT}' y='{y0 + 16}' font-size='12' font-weight='600' {_FONT}>{_esc(metric.title)}</text>"
    ]
    plot_w = _PANEL_W - _LEFT - _RIGHT
    plot_h = _PANEL_H - _TOP - _BOTTOM
    px, py = x0 + _LEFT, y0 + _TOP
    levels = sorted({r.concurrency for r in rows})
    variants = list(dict.fromkeys(r.variant for r in rows))
    values = [v for r in rows if (v := metric.value(r)) is not None and v > 0 and math.isfinite(v)]
    if not values:
        out.append(
            f"<text x='{px + plot_w / 2}' y='{py + plot_h / 2}' text-anchor='middle' font-size='11' fill='#777' {_FONT}>no data</text>"
        )
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
        y = py + plot_h - scale(t)
        out.append(
            f"<line x1='{px}' x2='{px + plot_w}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e5e5e5'/>"
        )
        out.append(
            f"<text x='{px - 4}' y='{y + 3.5:.1f}' text-anchor='end' font-size='10' fill='#555' {_FONT}>{_fmt(t)}</text>"
        )
    group_w = plot_w / len(levels)
    bar_w = min(26.0, (group_w - 10) / max(1, len(variants)))
    by_key = {(r.variant, r.concurrency): r for r in rows}
    for g, level in enumerate(levels):
        gx = px + g * group_w + (group_w - bar_w * len(variants)) / 2
        out.append(
            f"<text x='{px + g * group_w + group_w / 2:.1f}' y='{py + plot_h + 14}' text-anchor='middle' font-size='10' fill='#333' {_FONT}>{level} concurrent</text>"
        )
        for i, variant in enumerate(variants):
            row = by_key.get((variant, level))
            value = metric.value(row) if row is not None else None
            if value is None or not math.isfinite(value) or value <= 0:
                continue
            h = max(1.0, scale(value))
            x = gx + i * bar_w
            out.append(
                f"<rect x='{x:.1f}' y='{py + plot_h - h:.1f}' width='{bar_w - 1.5:.1f}' height='{h:.1f}' fill='{colors[variant]}'>"
                f"<title>{_esc(variant)}, {level} concurrent: {_fmt(value)} {metric.unit}</title></rect>"
            )
    out.append(
        f"<line x1='{px}' x2='{px + plot_w}' y1='{py + plot_h}' y2='{py + plot_h}' stroke='#333'/>"
    )
    return out


def _subtitle(result: BenchResult) -> tuple[str, str]:
    env = result.environment
    first = [
        env.get("python", ""),
        f"{env['cpus']} CPUs" if "cpus" in env else "",
        f"{env['loop']} loop" if "loop" in env else "",
        f"{result.config.duration:g} s per measurement, closed-loop clients on 127.0.0.1",
    ]
    second = [
        f'offload(engine="auto") chose {env["offload_auto"]}' if "offload_auto" in env else "",
        "loop lag = lateness of the unstall.watch heartbeat (the sync server has no loop)",
    ]
    return "; ".join(p for p in first if p), "; ".join(p for p in second if p)


def render_svg(result: BenchResult) -> str:
    """The chart as a standalone SVG document (no scripts, no external resources)."""
    titles = {s.name: s.title for s in SCENARIOS}
    scenarios = list(dict.fromkeys(r.scenario for r in result.rows))
    colors = _variant_colors(result.rows)
    row_h = _ROW_HEAD + _PANEL_H
    width = _PANEL_W * len(_METRICS) + 20
    top = 72
    height = top + row_h * len(scenarios) + 10
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}'>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='14' y='24' font-size='16' font-weight='700' {_FONT}>unstall bench: naive vs fixed under concurrent load</text>",
        *(
            f"<text x='14' y='{43 + 15 * i}' font-size='11' fill='#555' {_FONT}>{_esc(line)}</text>"
            for i, line in enumerate(_subtitle(result))
        ),
    ]
    for n, scenario in enumerate(scenarios):
        rows = [r for r in result.rows if r.scenario == scenario]
        y0 = top + n * row_h
        title = f"{scenario}: {titles.get(scenario, '')}".rstrip(": ")
        parts.append(
            f"<text x='14' y='{y0 + 16}' font-size='14' font-weight='700' {_FONT}>{_esc(title)}</text>"
        )
        lx = 14 + 9 * len(title) + 16
        for variant in dict.fromkeys(r.variant for r in rows):
            parts.append(
                f"<rect x='{lx}' y='{y0 + 6}' width='11' height='11' fill='{colors[variant]}'/>"
            )
            parts.append(
                f"<text x='{lx + 15}' y='{y0 + 16}' font-size='12' {_FONT}>{_esc(variant)}</text>"
            )
            lx += 15 + 7 * len(variant) + 18
        for m, metric in enumerate(_METRICS):
            parts.extend(_panel(10 + m * _PANEL_W, y0 + _ROW_HEAD - 10, metric, rows, colors))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render_html(result: BenchResult) -> str:
    """A self-contained HTML page: the SVG chart, the table and the environment."""
    head = "".join(f"<th>{_esc(c)}</th>" for c in COLUMNS)
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
<p>{env}; {result.config.duration:g} s per measurement.</p>
{render_svg(result)}
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table>
</body></html>
"""


def render_png(svg: str, path: Path, *, scale: float = 2.0) -> str | None:
    """Rasterize ``svg`` to a PNG at ``path`` with CairoSVG (the ``bench`` extra).

    Returns ``None`` on success, else why no PNG was written (CairoSVG or the system cairo
    library is missing); never raises for that.
    """
    try:
        import cairosvg  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except (ImportError, OSError) as exc:
        return (
            f"no PNG: CairoSVG is unavailable ({exc}); install it with "
            "pip install 'unstall[bench]' (it needs the system cairo library)"
        )
    cairosvg.svg2png(bytestring=svg.encode(), write_to=str(path), scale=scale)
    return None
