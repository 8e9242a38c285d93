"""The closed-loop load generator: N workers, each sending its next request when the last returns."""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from unstall.bench._client import HTTPConnection, ProtocolError
from unstall.bench._stats import summarize
from unstall.watch import Percentiles

__all__ = ("LoadResult", "check_loopback_url", "run_load")

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one load run measured.

    ``requests`` counts every request that was sent and finished (``ok + errors``); ``errors``
    includes ``timeouts``, connection failures and responses with status >= 400 (by kind in
    ``error_kinds``). ``latency`` summarizes successful responses only, in seconds. ``elapsed`` is
    the wall time from the first request to the last answer; ``max_in_flight`` the highest number
    of requests that were outstanding at once (the concurrency actually reached).
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

    @property
    def rps(self) -> float:
        """Successful responses per second over ``elapsed``."""
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0


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


async def run_load(
    url: str,
    *,
    concurrency: int,
    duration: float,
    max_requests: int | None = None,
    request_timeout: float = 10.0,
) -> LoadResult:
    """Drive ``url`` with ``concurrency`` closed-loop workers and return the :class:`LoadResult`.

    No request starts after ``duration`` seconds or once ``max_requests`` have been sent; a
    request still running is abandoned (counted as a timeout) after ``request_timeout`` seconds,
    so a run lasts at most ``duration + request_timeout``. Each worker keeps one keep-alive
    connection. Raises ``ValueError`` for a non-loopback URL or a non-positive bound.
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

    latencies: list[float] = []
    kinds: collections.Counter[str] = collections.Counter()
    issued = ok = timeouts = in_flight = max_in_flight = 0
    perf = time.perf_counter
    start = perf()
    deadline = start + duration

    async def worker() -> None:
        nonlocal issued, ok, timeouts, in_flight, max_in_flight
        conn = HTTPConnection(host, port)
        try:
            while perf() < deadline and (max_requests is None or issued < max_requests):
                issued += 1
                in_flight += 1
                max_in_flight = max(max_in_flight, in_flight)
                t0 = perf()
                try:
                    async with asyncio.timeout(request_timeout):
                        status, _body = await conn.get(path)
                except TimeoutError:
                    timeouts += 1
                    kinds["timeout"] += 1
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                    kinds[type(exc).__name__] += 1
                    await asyncio.sleep(0.005)  # a refused or reset connection must not spin
                except ProtocolError:
                    kinds["protocol error"] += 1
                else:
                    if status < 400:
                        ok += 1
                        latencies.append(perf() - t0)
                    else:
                        kinds[f"HTTP {status}"] += 1
                finally:
                    in_flight -= 1
        finally:
            conn.close()

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    elapsed = perf() - start
    errors = sum(kinds.values())
    return LoadResult(
        url=url,
        concurrency=concurrency,
        requests=ok + errors,
        ok=ok,
        errors=errors,
        timeouts=timeouts,
        elapsed=elapsed,
        max_in_flight=max_in_flight,
        latency=summarize(latencies),
        error_kinds=tuple(sorted(kinds.items())),
    )
