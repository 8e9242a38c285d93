"""Limits shared by the command line, the configuration, the watcher and the pytest plugin.

A leaf module (it imports only ``math``): the watch package and the plugin import it without
loading the configuration machinery.
"""

from __future__ import annotations

import math

__all__ = ("THRESHOLD_MS_RANGE", "valid_threshold_ms")

#: the stall thresholds that make sense, in milliseconds (``--threshold-ms``, ``threshold_ms=``,
#: ``threshold-ms``, ``--unstall-threshold-ms``): the heartbeat ticks at most every 2 ms, and a
#: minute-long stall is a hang for any service
THRESHOLD_MS_RANGE = (1.0, 60_000.0)


def valid_threshold_ms(value: object) -> bool:
    """Whether ``value`` is a stall threshold: a finite number in :data:`THRESHOLD_MS_RANGE`."""
    low, high = THRESHOLD_MS_RANGE
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )
