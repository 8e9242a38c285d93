"""Runtime watchdog: find what stalls running event loops, in production.

``unstall.watch()`` (the module is callable) starts the process-wide :class:`Watcher`;
``from unstall.watch import watch, Watcher`` works too.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from unstall.watch._model import Cause, Frame, StallEvent, TaskInfo, TripwireEvent
from unstall.watch._policy import Action, Policy
from unstall.watch._report import LoopStats, Percentiles, Report, SiteStats
from unstall.watch._tripwire import Tripwire
from unstall.watch._watcher import Watcher, watch

__all__ = (
    "Action",
    "Cause",
    "Frame",
    "LoopStats",
    "Percentiles",
    "Policy",
    "Report",
    "SiteStats",
    "StallEvent",
    "TaskInfo",
    "Tripwire",
    "TripwireEvent",
    "Watcher",
    "watch",
)


class _CallableModule(types.ModuleType):
    """Lets ``unstall.watch(...)`` call :func:`watch` while ``unstall.watch`` stays the subpackage."""

    def __call__(self, threshold_ms: float = 100.0, **options: Any) -> Watcher:
        return watch(threshold_ms, **options)


sys.modules[__name__].__class__ = _CallableModule
