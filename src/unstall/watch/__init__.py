"""Runtime watchdog: find what stalls running event loops, in production.

``unstall.watch()`` (the module is callable) starts the process-wide :class:`Watcher`;
``from unstall.watch import watch, Watcher`` works too. The tripwire (:class:`Tripwire`,
:class:`Policy`, :class:`Action`) is loaded on first use, so importing the watchdog does not
load the catalog.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from unstall._exports import publish as _publish
from unstall.watch._histogram import Histogram
from unstall.watch._logs import EventLog
from unstall.watch._metrics import MetricsSnapshot, RuleCount, StallCount
from unstall.watch._model import Cause, Frame, StallEvent, TaskInfo, TripwireEvent
from unstall.watch._process import serve_metrics, watch
from unstall.watch._report import LoopStats, Percentiles, Report, RouteStats, SiteStats
from unstall.watch._timeline import LagPoint
from unstall.watch._watcher import Watcher

if TYPE_CHECKING:
    from unstall.watch._html import render_html
    from unstall.watch._metrics_server import MetricsServer
    from unstall.watch._policy import Action, Policy
    from unstall.watch._tripwire import Tripwire

# name -> module defining it, imported when the name is first used
_LAZY = {
    "render_html": "unstall.watch._html",
    "MetricsServer": "unstall.watch._metrics_server",  # http.server: loaded when metrics are served
    "Action": "unstall.watch._policy",
    "Policy": "unstall.watch._policy",
    "Tripwire": "unstall.watch._tripwire",
}

__all__ = (
    "Action",
    "Cause",
    "EventLog",
    "Frame",
    "Histogram",
    "LagPoint",
    "LoopStats",
    "MetricsServer",
    "MetricsSnapshot",
    "Percentiles",
    "Policy",
    "Report",
    "RouteStats",
    "RuleCount",
    "SiteStats",
    "StallCount",
    "StallEvent",
    "TaskInfo",
    "Tripwire",
    "TripwireEvent",
    "Watcher",
    "render_html",
    "serve_metrics",
    "watch",
)

_publish(__name__, globals(), __all__)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    _publish(__name__, globals(), (name,))
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _CallableModule(types.ModuleType):
    """Lets ``unstall.watch(...)`` call :func:`watch` while ``unstall.watch`` stays the subpackage."""

    def __call__(self, threshold_ms: float | None = None, **options: Any) -> Watcher:
        return watch(threshold_ms, **options)


sys.modules[__name__].__class__ = _CallableModule
