"""Stalls and blocking calls per HTTP route, for the report: ranked by stalled time, bounded."""

from __future__ import annotations

import collections
import threading

from unstall.watch._model import StallEvent, TripwireEvent
from unstall.watch._report import RouteStats, site_key

__all__ = ("OTHER", "Routes")

OTHER = "<other>"  # the routes past the limit, added up
_MAX_DURATIONS = 512


class _Route:
    __slots__ = ("calls", "count", "durations", "max", "sites", "total")

    def __init__(self) -> None:
        self.count = self.calls = 0
        self.total = self.max = 0.0
        self.durations: collections.deque[float] = collections.deque(maxlen=_MAX_DURATIONS)
        self.sites: dict[str, float] = {}  # stalled seconds by site


class Routes:
    """Stalls and blocking calls by ``(method, route)``; events outside a request are not counted.

    At most ``limit`` routes have a row of their own; the events of any further route go to
    one ``"<other>"`` row. Thread-safe.
    """

    def __init__(self, limit: int = 100) -> None:
        self.limit = max(1, limit)
        self._routes: dict[tuple[str, str], _Route] = {}
        self._lock = threading.Lock()

    def _row(self, method: str, route: str) -> _Route:
        key = (method, route)
        row = self._routes.get(key)
        if row is None:
            if len(self._routes) >= self.limit:
                key = ("", OTHER)
                row = self._routes.get(key)
            if row is None:
                row = self._routes[key] = _Route()
        return row

    def add_stall(self, event: StallEvent) -> None:
        """Count ``event`` for its route (nothing when it was outside a request)."""
        if not event.route:
            return
        with self._lock:
            row = self._row(event.method, event.route)
            row.count += 1
            row.total += event.duration
            row.max = max(row.max, event.duration)
            row.durations.append(event.duration)
            site = site_key(event)
            if site in row.sites or len(row.sites) < 64:
                row.sites[site] = row.sites.get(site, 0.0) + event.duration

    def add_call(self, event: TripwireEvent) -> None:
        """Count a blocking call made in a request."""
        if not event.route:
            return
        with self._lock:
            self._row(event.method, event.route).calls += 1

    def snapshot(self) -> tuple[RouteStats, ...]:
        """Every route, the longest total stalled time first (then the most blocking calls)."""
        with self._lock:
            rows = []
            for (method, route), r in self._routes.items():
                d = sorted(r.durations)
                p99 = d[min(len(d) - 1, int(len(d) * 0.99))] if d else 0.0
                top = max(r.sites, key=r.sites.__getitem__, default=None)
                rows.append(
                    RouteStats(
                        method,
                        route,
                        r.count,
                        r.total,
                        p99,
                        r.max,
                        r.calls,
                        top,
                    )
                )
        rows.sort(key=lambda r: (-r.total, -r.blocking_calls, r.route, r.method))
        return tuple(rows)

    def clear(self) -> None:
        """Forget every route."""
        with self._lock:
            self._routes.clear()
