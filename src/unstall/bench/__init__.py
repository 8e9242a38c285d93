"""Load-test a real asyncio service, naive vs fixed: throughput, latency and loop lag.

``unstall bench`` is the command line (see :mod:`unstall.bench._command`). The pieces it is
built from are public for scripts and tests: :func:`run_bench` (start the bundled servers and
drive every scenario), :func:`run_load` (the load generator, closed or open loop, loopback only) and
:func:`percentile` / :func:`summarize` (the percentile maths).
"""

from __future__ import annotations

from unstall._exports import publish as _publish
from unstall.bench._load import LoadResult, Sample, run_load
from unstall.bench._runner import BenchConfig, BenchResult, Row, run_bench, run_url
from unstall.bench._scenarios import Scenario, Variant
from unstall.bench._stats import percentile, summarize
from unstall.watch import Percentiles

__all__ = (
    "BenchConfig",
    "BenchResult",
    "LoadResult",
    "Percentiles",
    "Row",
    "Sample",
    "Scenario",
    "Variant",
    "percentile",
    "run_bench",
    "run_load",
    "run_url",
    "summarize",
)

# Percentiles is unstall.watch's (the watcher's reports hold it too).
_publish(__name__, globals(), (name for name in __all__ if name != "Percentiles"))
