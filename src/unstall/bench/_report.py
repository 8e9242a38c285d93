"""The benchmark's table, as aligned text, Markdown or JSON."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

from unstall.bench._runner import BenchResult, Row

__all__ = (
    "COLUMNS",
    "columns",
    "describe_load",
    "format_json",
    "format_markdown",
    "format_text",
    "table_cells",
)

COLUMNS = (
    "scenario",
    "variant",
    "concurrency",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "loop lag p99 ms",
    "loop lag max ms",
)
_RIGHT = frozenset(range(2, len(COLUMNS)))


def columns(result: BenchResult) -> tuple[str, ...]:
    """The table's headings: :data:`COLUMNS`, with the scheduled rate for an open loop's level."""
    if result.config.rates:
        return (*COLUMNS[:2], "rate req/s", *COLUMNS[3:])
    return COLUMNS


def describe_load(result: BenchResult) -> str:
    """Which load ran, in words: the closed or the open loop, and what its latency means."""
    cfg = result.config
    if cfg.rates:
        return (
            "open loop: requests start on schedule at each rate, on up to "
            f"{max(cfg.concurrency)} connections; latency counts from each scheduled start, "
            "queueing included"
        )
    return (
        "closed loop: each client sends its next request when the last returns "
        "(a stall delays the requests behind it unmeasured: use --rate for an open loop)"
    )


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}"


def table_cells(row: Row) -> tuple[str, ...]:
    """The cells of ``row`` in :data:`COLUMNS` order, formatted for people."""
    return (
        row.scenario,
        row.variant,
        str(row.concurrency) if row.rate is None else f"{row.rate:g}",
        _num(row.rps, 0 if row.rps >= 100 else 1),
        _num(row.p50_ms),
        _num(row.p99_ms),
        f"{row.errors}/{row.requests}" if row.errors else "0",
        _num(row.lag_p99_ms),
        _num(row.lag_max_ms),
    )


def _environment_line(result: BenchResult) -> str:
    env = result.environment
    parts = [f"{key} {value}" for key, value in env.items() if not key.endswith("_reason")]
    cfg = result.config
    parts.append(f"{cfg.duration:g} s per measurement")
    return ", ".join(parts) + f"; {describe_load(result)}"


def format_text(result: BenchResult) -> str:
    """An aligned plain-text table with a header line naming the machine and settings."""
    heads = columns(result)
    cells = [heads, *(table_cells(row) for row in result.rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(heads))]
    lines = []
    for n, r in enumerate(cells):
        lines.append(
            "  ".join(
                c.rjust(widths[i]) if i in _RIGHT else c.ljust(widths[i]) for i, c in enumerate(r)
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return f"unstall bench: {_environment_line(result)}\n" + "\n".join(lines) + "\n"


def format_markdown(result: BenchResult) -> str:
    """A GitHub-flavoured Markdown table, preceded by the environment in italics."""
    header = "| " + " | ".join(columns(result)) + " |"
    align = "|" + "|".join("---:" if i in _RIGHT else "---" for i in range(len(COLUMNS))) + "|"
    body = ["| " + " | ".join(table_cells(row)) + " |" for row in result.rows]
    return f"_{_environment_line(result)}_\n\n" + "\n".join([header, align, *body]) + "\n"


def format_json(result: BenchResult) -> str:
    """The whole result (load mode, configuration, environment, rows) as JSON; ``NaN`` becomes ``null``."""

    def clean(value: object) -> object:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    data = {"mode": result.config.mode, **asdict(result)}
    return json.dumps(clean(data), indent=2) + "\n"
