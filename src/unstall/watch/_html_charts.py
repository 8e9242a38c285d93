"""The HTML report's pictures, drawn as inline SVG: the loop-lag timeline and the flame graph.

Every text that comes from the program (function and file names, routes) goes through
:func:`esc` before it lands in the markup; only numbers are written unescaped.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable, Sequence

from unstall.watch._frames import is_user_file
from unstall.watch._model import Frame, StallEvent
from unstall.watch._timeline import LagPoint

__all__ = ("esc", "flame_svg", "share_bar", "timeline_svg")

_WIDTH = 1000
_MAX_DEPTH = 48
_MIN_SHARE = 0.002  # narrower frames are left out of the flame graph
_ROW = 18


def esc(text: object) -> str:
    """``text`` escaped for HTML text and quoted attribute values."""
    return html.escape(str(text), quote=True)


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def timeline_svg(points: Sequence[LagPoint], events: Sequence[StallEvent], threshold: float) -> str:
    """The lag timeline: each interval's worst and mean heartbeat lag, the threshold, and each stall."""
    if not points and not events:
        return '<p class="empty">No heartbeat was recorded yet.</p>'
    height, left, bottom, top = 200, 56, 24, 10
    starts = [p.time for p in points] + [e.start for e in events]
    ends = [p.time + p.seconds for p in points] + [e.start + e.duration for e in events]
    t0, t1 = min(starts), max(ends)
    span = max(t1 - t0, 1.0)
    peak = max([p.max for p in points] + [e.duration for e in events] + [threshold * 1.25])
    plot_w, plot_h = _WIDTH - left - 8, height - top - bottom

    def x(t: float) -> float:
        return left + (t - t0) / span * plot_w

    def y(v: float) -> float:
        return top + plot_h - min(v, peak) / peak * plot_h

    parts = [
        f'<svg class="timeline" viewBox="0 0 {_WIDTH} {height}" role="img" '
        'aria-label="loop lag over time">'
    ]
    for i in range(5):  # horizontal grid with the lag it stands for
        v = peak * i / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{_WIDTH - 8}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text class="axis" x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{_ms(v)}</text>'
        )
    for i in range(5):
        t = t0 + span * i / 4
        parts.append(
            f'<text class="axis" x="{x(t):.1f}" y="{height - 6}" text-anchor="middle">{_clock(t)}</text>'
        )
    if points:
        worst = " ".join(
            f"{x(p.time):.1f},{y(p.max):.1f} {x(p.time + p.seconds):.1f},{y(p.max):.1f}"
            for p in points
        )
        mean = " ".join(f"{x(p.time + p.seconds / 2):.1f},{y(p.mean):.1f}" for p in points)
        parts.append(
            f'<polyline class="lag-max" points="{worst}"><title>worst lag per interval</title></polyline>'
        )
        parts.append(
            f'<polyline class="lag-mean" points="{mean}"><title>mean lag per interval</title></polyline>'
        )
    ty = y(threshold)
    parts.append(
        f'<line class="threshold" x1="{left}" x2="{_WIDTH - 8}" y1="{ty:.1f}" y2="{ty:.1f}">'
        f"<title>stall threshold {_ms(threshold)}</title></line>"
    )
    for e in events:
        where = e.route and f"{e.method} {e.route}"
        site = f"{e.blamed.function} ({e.blamed.filename}:{e.blamed.lineno})" if e.blamed else "?"
        label = f"{_clock(e.start)} stall {_ms(e.duration)} ({e.cause.value}) at {site}"
        label += f" in {where}" if where else ""
        width = max(2.0, x(e.start + e.duration) - x(e.start))
        parts.append(
            f'<rect class="stall" x="{x(e.start):.1f}" y="{y(e.duration):.1f}" width="{width:.1f}" '
            f'height="{top + plot_h - y(e.duration):.1f}"><title>{esc(label)}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


class _Node:
    __slots__ = ("children", "frame", "weight")

    def __init__(self, frame: Frame | None) -> None:
        self.frame = frame
        self.weight = 0.0
        self.children: dict[tuple[str, str, int], _Node] = {}


def _weighted_stacks(events: Iterable[StallEvent]) -> Iterable[tuple[tuple[Frame, ...], float]]:
    """Each sampled stack with the stalled seconds it stands for (a stall's time shared by its samples)."""
    for e in events:
        stacks = e.stacks
        if not stacks:
            yield (), e.duration
            continue
        counts = list(e.stack_counts) if len(e.stack_counts) == len(stacks) else []
        total = sum(counts)
        for i, stack in enumerate(stacks):
            share = counts[i] / total if total else 1 / len(stacks)
            if share:
                yield stack, e.duration * share


def _tree(events: Iterable[StallEvent]) -> _Node:
    root = _Node(None)
    for stack, weight in _weighted_stacks(events):
        root.weight += weight
        node = root
        frames = stack or (Frame("", 0, "(no sample)"),)
        for frame in frames[:_MAX_DEPTH]:
            key = (frame.function, frame.filename, frame.lineno)
            child = node.children.get(key)
            if child is None:
                child = node.children[key] = _Node(frame)
            child.weight += weight
            node = child
    return root


def _color(frame: Frame) -> str:
    """Warm for the program's own code, cool for libraries and the standard library."""
    digest = sum(map(ord, frame.function)) % 40
    if frame.filename and is_user_file(frame.filename):
        return f"hsl({10 + digest}, 85%, {58 + digest % 10}%)"
    return f"hsl({200 + digest}, 45%, {70 + digest % 10}%)"


def flame_svg(events: Sequence[StallEvent]) -> str:
    """A flame graph (root on top) of the stacks sampled during ``events``, weighted by stalled time.

    Click a frame to zoom into it, click the top bar to zoom out (with the page's script).
    """
    root = _tree(events)
    if not root.weight:
        return '<p class="empty">No stall was sampled yet.</p>'
    rows: list[str] = []
    depth_seen = 0

    def draw(node: _Node, x0: float, depth: int) -> None:
        nonlocal depth_seen
        share = node.weight / root.weight
        if share < _MIN_SHARE:
            return
        depth_seen = max(depth_seen, depth)
        frame = node.frame
        if frame is None:
            name, where, fill = "all stalls", "", "hsl(0, 0%, 82%)"
        else:
            name = frame.function or "?"
            where = f"{frame.filename}:{frame.lineno}" if frame.filename else ""
            fill = _color(frame)
        title = (
            f"{name} ({where}): {_ms(node.weight)}, {share:.1%}"
            if where
            else f"{name}: {_ms(node.weight)}, {share:.1%}"
        )
        px, pw = x0 * _WIDTH, share * _WIDTH
        chars = int(pw / 7)
        text = (
            name if len(name) <= chars else (name[: max(chars - 1, 0)] + "…" if chars > 2 else "")
        )
        rows.append(
            f'<g class="f" data-x="{x0:.6f}" data-w="{share:.6f}" data-n="{esc(name)}">'
            f"<title>{esc(title)}</title>"
            f'<rect x="{px:.2f}" y="{depth * _ROW}" width="{pw:.2f}" height="{_ROW - 1}" fill="{fill}"/>'
            f'<text x="{px + 3:.2f}" y="{depth * _ROW + 13}">{esc(text)}</text></g>'
        )
        offset = x0
        for child in sorted(node.children.values(), key=lambda n: -n.weight):
            draw(child, offset, depth + 1)
            offset += child.weight / root.weight

    draw(root, 0.0, 0)
    height = (depth_seen + 1) * _ROW
    return (
        f'<svg class="flame" id="flame" viewBox="0 0 {_WIDTH} {height}" '
        f'data-width="{_WIDTH}" role="img" aria-label="flame graph">{"".join(rows)}</svg>'
    )


def share_bar(cpu: float, blocked: float, gc: float) -> str:
    """A small bar of the cause shares (0..1 each)."""
    parts = ['<svg class="bar" viewBox="0 0 100 10" role="img" aria-label="cause shares">']
    x = 0.0
    for share, kind in ((cpu, "cpu"), (blocked, "blocked"), (gc, "gc")):
        if share > 0:
            w = share * 100
            parts.append(
                f'<rect class="{kind}" x="{x:.1f}" y="0" width="{w:.1f}" height="10">'
                f"<title>{kind} {share:.0%}</title></rect>"
            )
            x += w
    parts.append("</svg>")
    return "".join(parts)
