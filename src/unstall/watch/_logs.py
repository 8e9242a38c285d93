"""Structured, rate-limited log records of stalls and blocking calls.

One record per event, with flat fields in the record's ``extra`` (``unstall.duration_s``,
``unstall.site``, ``unstall.cause``, ``unstall.route``, ``unstall.rule``, ...) that JSON
formatters serialise as they are; the event itself (stacks and all) goes to sinks, not to
the log line. A token bucket bounds how many records a stalling loop can
write (``rate`` a second, in bursts of ``burst``); what it drops is counted and summed up in
one record when records flow again, or when the watcher stops. A stall of ``error_ms`` or
more is logged at ERROR, which is the level Sentry-style handlers turn into an event; the
rest at WARNING.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from unstall.watch._model import StallEvent, TripwireEvent
from unstall.watch._report import site_key

__all__ = ("EventLog",)


def _where(event: TripwireEvent) -> str:
    f = event.blamed
    return "<unknown>" if f is None else f"{f.filename}:{f.lineno} ({f.function})"


class EventLog:
    """A sink that logs each :class:`StallEvent` and :class:`TripwireEvent` as one structured record.

    ``logger`` is a :class:`logging.Logger` or its name. At most ``rate`` records a second
    are written, ``burst`` at once (``rate=0``: no limit); ``error_ms`` is the stall length
    logged at ERROR (``None``: never). Thread-safe; never raises.
    """

    def __init__(
        self,
        logger: logging.Logger | str = "unstall",
        *,
        rate: float = 1.0,
        burst: int = 10,
        error_ms: float | None = 1000.0,
    ) -> None:
        if not rate >= 0 or burst < 1:
            raise ValueError(
                f"rate={rate!r}, burst={burst!r}: give rate >= 0 records a second (0: no limit) "
                "and burst >= 1."
            )
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.rate = float(rate)
        self.burst = burst
        self.error_ms = error_ms
        self.errors = 0  # records that could not be written
        self._tokens = float(burst)
        self._last = time.monotonic()
        self._dropped = {"stall": 0, "blocking_call": 0}
        self._dropped_since = 0.0
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        try:
            if isinstance(event, StallEvent):
                if self._admit("stall"):
                    self._stall(event)
            elif isinstance(event, TripwireEvent) and self._admit("blocking_call"):
                self._call(event)
        except Exception:
            self.errors += 1

    def _admit(self, kind: str) -> bool:
        """Whether a record may be written now; a summary of the dropped ones goes first."""
        with self._lock:
            now = time.monotonic()
            if self.rate:
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens < 1.0:
                    if not any(self._dropped.values()):
                        self._dropped_since = now
                    self._dropped[kind] += 1
                    return False
                self._tokens -= 1.0
            dropped = dict(self._dropped) if any(self._dropped.values()) else None
            since = self._dropped_since
            if dropped:
                self._dropped = dict.fromkeys(self._dropped, 0)
        if dropped:
            self._summary(dropped, now - since)
        return True

    def flush(self) -> None:
        """Write the summary of the records dropped so far, if any (the watcher does at stop)."""
        try:
            with self._lock:
                dropped = dict(self._dropped) if any(self._dropped.values()) else None
                since = self._dropped_since
                if dropped:
                    self._dropped = dict.fromkeys(self._dropped, 0)
            if dropped:
                self._summary(dropped, time.monotonic() - since)
        except Exception:
            self.errors += 1

    def _summary(self, dropped: dict[str, int], seconds: float) -> None:
        self.logger.warning(
            "unstall: %d stall record(s) and %d blocking-call record(s) were not logged over "
            "%.1f s (at most %g a second, %d at once); the report counts every one",
            dropped["stall"],
            dropped["blocking_call"],
            seconds,
            self.rate,
            self.burst,
            extra={
                "unstall.event": "dropped",
                "unstall.dropped_stalls": dropped["stall"],
                "unstall.dropped_calls": dropped["blocking_call"],
            },
        )

    def _stall(self, event: StallEvent) -> None:
        level = logging.WARNING
        if self.error_ms is not None and event.duration * 1e3 >= self.error_ms:
            level = logging.ERROR
        site = site_key(event)
        fields: dict[str, Any] = {
            "unstall.event": "stall",
            "unstall.duration_s": round(event.duration, 6),
            "unstall.site": site,
            "unstall.cause": event.cause.value,
            "unstall.route": event.route,
            "unstall.method": event.method,
            "unstall.rule": event.code or "",
            "unstall.offender": (
                f"{event.offender.module}.{event.offender.function}".lstrip(".")
                if event.offender is not None
                else ""
            ),
            "unstall.fix": event.fix or "",
            "unstall.task": event.task.name if event.task is not None else "",
        }
        in_route = f" in {event.method} {event.route}" if event.route else ""
        if event.gil_thread:
            fields["unstall.gil_thread"] = event.gil_thread
            off = event.offender
            inside = f" in {off.module + '.' if off.module else ''}{off.function}" if off else ""
            self.logger.log(
                level,
                "unstall: the loop waited %.0f ms for the GIL held by thread %s%s, work handed "
                "over at %s%s; fix: %s",
                event.duration * 1e3,
                event.gil_thread,
                inside,
                site,
                in_route,
                event.fix or "none known",
                extra=fields,
            )
            return
        self.logger.log(
            level,
            "unstall: loop stalled %.0f ms (%s) at %s%s; fix: %s",
            event.duration * 1e3,
            event.cause.value,
            site,
            in_route,
            event.fix or "none known",
            extra=fields,
        )

    def _call(self, event: TripwireEvent) -> None:
        fields: dict[str, Any] = {
            "unstall.event": "blocking_call",
            "unstall.duration_s": (
                round(event.duration, 6) if event.duration is not None else None
            ),
            "unstall.site": _where(event),
            "unstall.kind": event.kind,
            "unstall.route": event.route,
            "unstall.method": event.method,
            "unstall.rule": event.code,
            "unstall.call": event.name,
            "unstall.fix": event.fix or "",
            "unstall.task": event.task.name if event.task is not None else "",
        }
        in_route = f" in {event.method} {event.route}" if event.route else ""
        self.logger.warning(
            "unstall: blocking call %s [%s] on the event loop at %s%s; fix: %s",
            event.name,
            event.code,
            fields["unstall.site"],
            in_route,
            event.fix,
            extra=fields,
        )
