"""The load generator: closed loop (N workers, each sending its next request when the last
returns) or open loop (requests start on a fixed schedule, whatever the answers).

A closed loop slows down with the service it measures: while the service stalls, no new request
is sent, so the stall shows as one slow request instead of the many that would have queued
behind it (coordinated omission), and the latency percentiles look better than any user would
see. The open loop sends request ``n`` at ``start + n / rate`` and measures its latency from
that scheduled start, so time spent waiting for the service (or for a free connection) counts.
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from unstall.bench._client import HTTPConnection, ProtocolError
from unstall.bench._stats import summarize
from unstall.watch import Percentiles

__all__ = ("LoadResult", "Sample", "check_loopback_url", "run_load")

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class Sample(NamedTuple):
    """One finished request: ``start`` (seconds after the run began; in an open loop, when it
    was scheduled), its ``latency`` in seconds from then, and its ``outcome``: the HTTP status,
    or the kind of error (``"timeout"``, ``"ConnectionRefusedError"``, ...)."""

    start: float
    latency: float
    outcome: int | str


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one load run measured.

    ``requests`` counts every request that was sent and finished (``ok + errors``); ``errors``
    includes ``timeouts``, connection failures and responses with status >= 400 (by kind in
    ``error_kinds``). ``latency`` summarizes successful responses only, in seconds. ``elapsed`` is
    the wall time from the first request to the last answer; ``max_in_flight`` the highest number
    of requests that were outstanding at once (the concurrency actually reached). ``rate`` is
    the open loop's schedule in requests per second (``None`` for a closed loop); there,
    ``concurrency`` is the most connections used at once, and latency counts from each
    request's scheduled start.
    """

    url: str
    concurrency: int
    requests: int
    ok: int
    errors: int
    timeouts: int
    elapsed: float
    max_in_flight: int
    latency: Percentiles
    error_kinds: tuple[tuple[str, int], ...] = ()
    rate: float | None = None

    @property
    def rps(self) -> float:
        """Successful responses per second over ``elapsed``."""
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def mode(self) -> str:
        """``"open loop"`` or ``"closed loop"``."""
        return "closed loop" if self.rate is None else "open loop"


def check_loopback_url(url: str) -> tuple[str, int, str]:
    """Split an ``http://`` URL on this machine into ``(host, port, path_with_query)``.

    Raises ``ValueError`` naming the URL when it is not plain HTTP or its host is not a loopback
    address: the load generator never sends traffic off the machine.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"URL {url!r} is not an http:// URL; use e.g. 'http://127.0.0.1:8080/'.")
    host = parts.hostname
    if host.lower() not in _LOOPBACK_NAMES:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(
                f"URL {url!r} points at host {host!r}, which is not this machine; "
                "the load generator only drives loopback addresses (127.0.0.1, ::1, localhost)."
            )
    try:
        port = parts.port or 80
    except ValueError:
        raise ValueError(f"URL {url!r} has an invalid port; use e.g. ':8080'.") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return host, port, path


class _Tally:
    """What a run counts, the same way for both loops; one request at a time goes through :meth:`send`."""

    def __init__(
        self, start: float, request_timeout: float, on_sample: Callable[[Sample], None] | None
    ) -> None:
        self.start = start
        self.request_timeout = request_timeout
        self.on_sample = on_sample
        self.latencies: list[float] = []
        self.kinds: collections.Counter[str] = collections.Counter()
        self.ok = self.timeouts = self.in_flight = self.max_in_flight = 0

    async def send(self, request: Callable[[], Awaitable[tuple[int, bytes]]], due: float) -> bool:
        """Await ``request()`` (abandoned after ``request_timeout`` s) and count it with its latency from
        ``due``; ``False`` after a connection error (a worker backs off before the next)."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        outcome: int | str
        try:
            async with asyncio.timeout(self.request_timeout):
                outcome, _body = await request()
        except TimeoutError:
            outcome = "timeout"
            self.timeouts += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            outcome = type(exc).__name__
        except ProtocolError:
            outcome = "protocol error"
        finally:
            self.in_flight -= 1
        latency = time.perf_counter() - due
        if isinstance(outcome, str):
            self.kinds[outcome] += 1
        elif outcome < 400:
            self.ok += 1
            self.latencies.append(latency)
        else:
            self.kinds[f"HTTP {outcome}"] += 1
        if self.on_sample is not None:
            self.on_sample(Sample(due - self.start, latency, outcome))
        return not isinstance(outcome, str) or outcome in ("timeout", "protocol error")


async def run_load(
    url: str,
    *,
    concurrency: int,
    duration: float,
    max_requests: int | None = None,
    request_timeout: float = 10.0,
    rate: float | None = None,
    on_sample: Callable[[Sample], None] | None = None,
) -> LoadResult:
    """Drive ``url`` and return the :class:`LoadResult`: a closed loop, or with ``rate`` an open one.

    Closed loop: ``concurrency`` workers, each on its own keep-alive connection, send their next
    request when the last one returns. Open loop (``rate`` requests per second): request ``n``
    starts at ``n / rate`` seconds, on one of at most ``concurrency`` keep-alive connections
    (waiting for a free one when all are busy), and its latency counts from that scheduled
    start, so queueing behind a slow service shows in the percentiles.

    No request starts after ``duration`` seconds or once ``max_requests`` have been sent; a
    request still running is abandoned (counted as a timeout) after ``request_timeout`` seconds,
    so a run lasts at most ``duration + request_timeout``. ``on_sample``, when given, is called
    with a :class:`Sample` as each request finishes. Raises ``ValueError`` for a non-loopback
    URL or a non-positive bound.
    """
    host, port, path = check_loopback_url(url)
    if concurrency < 1:
        raise ValueError(f"concurrency={concurrency!r} must be at least 1.")
    if not duration > 0:
        raise ValueError(f"duration={duration!r} must be a positive number of seconds.")
    if max_requests is not None and max_requests < 1:
        raise ValueError(f"max_requests={max_requests!r} must be at least 1, or None for no limit.")
    if not request_timeout > 0:
        raise ValueError(f"request_timeout={request_timeout!r} must be positive.")
    if rate is not None and not (rate > 0 and math.isfinite(rate)):
        raise ValueError(
            f"rate={rate!r} must be a positive number of requests per second, or None for a closed loop."
        )
    perf = time.perf_counter
    start = perf()
    tally = _Tally(start, request_timeout, on_sample)
    limit = math.inf if max_requests is None else max_requests
    if rate is None:
        await _closed_loop(tally, host, port, path, concurrency, start + duration, limit)
    else:
        await _open_loop(tally, host, port, path, concurrency, rate, start + duration, limit)
    elapsed = perf() - start
    errors = sum(tally.kinds.values())
    return LoadResult(
        url=url,
        concurrency=concurrency,
        requests=tally.ok + errors,
        ok=tally.ok,
        errors=errors,
        timeouts=tally.timeouts,
        elapsed=elapsed,
        max_in_flight=tally.max_in_flight,
        latency=summarize(tally.latencies),
        error_kinds=tuple(sorted(tally.kinds.items())),
        rate=rate,
    )


async def _closed_loop(
    tally: _Tally,
    host: str,
    port: int,
    path: str,
    concurrency: int,
    deadline: float,
    limit: float,
) -> None:
    """``concurrency`` workers, each sending its next request when the last one returned."""
    perf = time.perf_counter
    issued = 0

    async def worker() -> None:
        nonlocal issued
        conn = HTTPConnection(host, port)
        try:
            while perf() < deadline and issued < limit:
                issued += 1
                if not await tally.send(lambda: conn.get(path), perf()):
                    await asyncio.sleep(0.005)  # a refused or reset connection must not spin
        finally:
            conn.close()

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())


async def _open_loop(
    tally: _Tally,
    host: str,
    port: int,
    path: str,
    connections: int,
    rate: float,
    deadline: float,
    limit: float,
) -> None:
    """Start request ``n`` at ``tally.start + n / rate``, on a free connection of ``connections``."""
    perf = time.perf_counter
    idle: asyncio.LifoQueue[HTTPConnection] = asyncio.LifoQueue()  # the warmest one first
    pool = [HTTPConnection(host, port) for _ in range(connections)]
    for conn in pool:
        idle.put_nowait(conn)

    async def pooled() -> tuple[int, bytes]:
        conn = await idle.get()
        try:
            return await conn.get(path)
        finally:
            idle.put_nowait(conn)  # after an error it is closed: its next use reconnects

    try:
        async with asyncio.TaskGroup() as group:
            n = 0
            while n < limit:
                due = tally.start + n / rate  # from the start: a late wake-up never shifts the rest
                if due >= deadline:
                    break
                if (delay := due - perf()) > 0:
                    await asyncio.sleep(delay)
                group.create_task(tally.send(pooled, due))
                n += 1
    finally:
        for conn in pool:
            conn.close()
