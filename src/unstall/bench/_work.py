"""The units of work the benchmark's endpoints perform, shared by the async and the sync server.

They are module-level functions so worker processes can import them by name.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

__all__ = (
    "calibrate_cpu",
    "cpu_work",
    "create_database",
    "db_query",
    "http_get",
)

_local = threading.local()


def cpu_work(iterations: int) -> int:
    """Pure-Python arithmetic that holds the GIL for the whole call; returns a checksum."""
    acc = 0
    for i in range(iterations):
        acc = (acc * 31 + i) & 0xFFFFFFFF
    return acc


def calibrate_cpu(target_seconds: float = 0.005) -> int:
    """The ``cpu_work`` iteration count that takes about ``target_seconds`` here (best of 5 runs)."""
    probe = 20_000
    best = min(_timed(cpu_work, probe) for _ in range(5))
    return max(1000, round(probe * target_seconds / max(best, 1e-9)))


def _timed(fn: Any, arg: int) -> float:
    t0 = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t0


def create_database(path: Path, rows: int = 40_000) -> None:
    """Create (or replace) the benchmark's SQLite file at ``path`` with ``rows`` rows, no index."""
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
        conn.executemany(
            "INSERT INTO items (name, price) VALUES (?, ?)",
            ((f"item-{i * 7919 % 100_003}", (i * 37 % 1000) / 10.0) for i in range(rows)),
        )
    conn.close()


def db_query(path: str) -> tuple[int, float]:
    """A full-table-scan aggregate on ``path`` (SQLite releases the GIL while it runs).

    Each thread keeps its own connection, as ``sqlite3`` requires.
    """
    connections: dict[str, sqlite3.Connection] | None = getattr(_local, "db", None)
    if connections is None:
        connections = _local.db = {}
    conn = connections.get(path)
    if conn is None:
        conn = connections[path] = sqlite3.connect(path)
    count, avg = conn.execute(
        "SELECT COUNT(*), AVG(price) FROM items WHERE name LIKE '%42%'"
    ).fetchone()
    return int(count), float(avg or 0.0)


def http_get(url: str) -> int:
    """A blocking ``requests`` GET of ``url`` on this thread's session; returns the status code."""
    import requests

    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    response = session.get(url, timeout=10)
    response.content  # noqa: B018 - read the body, as a real handler would
    return response.status_code
