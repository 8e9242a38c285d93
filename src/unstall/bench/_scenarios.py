"""The benchmark's scenarios: each pattern, and the variants of it served side by side (data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ("SCENARIOS", "Scenario", "Variant", "scenario_names")


@dataclass(frozen=True, slots=True)
class Variant:
    """One way to do a scenario's work: on ``server`` (``"async"`` service or ``"sync"`` server) at ``path``.

    ``blocks_loop`` marks the naive variants that run blocking work on the event loop.
    """

    name: str
    server: Literal["async", "sync"]
    path: str
    description: str
    blocks_loop: bool = False


@dataclass(frozen=True, slots=True)
class Scenario:
    """A pattern (``name`` as given to ``--scenarios``), its one-line ``title`` and its variants."""

    name: str
    title: str
    variants: tuple[Variant, ...]


_SYNC = "the same work in a thread-per-connection stdlib ThreadingHTTPServer"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "sleep",
        "a 20 ms wait",
        (
            Variant("time.sleep", "async", "/sleep/blocking", "time.sleep in the handler", True),
            Variant("asyncio.sleep", "async", "/sleep/async", "await asyncio.sleep"),
            Variant("sync server", "sync", "/sleep/blocking", _SYNC),
        ),
    ),
    Scenario(
        "http",
        "a call to a 20 ms upstream",
        (
            Variant("requests", "async", "/http/blocking", "requests.get in the handler", True),
            Variant("aiohttp client", "async", "/http/async", "aiohttp.ClientSession.get"),
            Variant("to_thread", "async", "/http/thread", "requests.get in unstall.to_thread"),
            Variant(
                "to_thread (64 threads)",
                "async",
                "/http/thread-wide",
                "requests.get on an unstall.Offloader(threads=64)",
            ),
            Variant("sync server", "sync", "/http/blocking", _SYNC),
        ),
    ),
    Scenario(
        "db",
        "a SQLite query on a file",
        (
            Variant("sqlite3", "async", "/db/blocking", "sqlite3 query in the handler", True),
            Variant("to_thread", "async", "/db/thread", "the query in unstall.to_thread"),
            Variant("sync server", "sync", "/db/blocking", _SYNC),
        ),
    ),
    Scenario(
        "cpu",
        "~5 ms of pure-Python CPU",
        (
            Variant("inline", "async", "/cpu/inline", "the computation in the handler", True),
            Variant("to_thread", "async", "/cpu/thread", "unstall.to_thread (still holds the GIL)"),
            Variant("to_process", "async", "/cpu/process", "unstall.to_process"),
            Variant("offload auto", "async", "/cpu/auto", 'unstall.offload(engine="auto")'),
            Variant("sync server", "sync", "/cpu/inline", _SYNC),
        ),
    ),
)


def scenario_names() -> tuple[str, ...]:
    """The names ``--scenarios`` accepts, in run order."""
    return tuple(s.name for s in SCENARIOS)
