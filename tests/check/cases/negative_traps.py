"""False-positive traps: none of these lines may be flagged."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests


def open(name: str) -> str:  # noqa: A001 - shadows the builtin on purpose
    return name


async def shadowed_builtin() -> str:
    return open("x")


async def shadowed_by_parameter(time: Any, requests: Any) -> None:
    time.sleep(1)
    requests.get("https://example.com")


async def shadowed_by_local() -> None:
    sleep = asyncio.sleep
    await sleep(1)


async def unknown_receivers(cache: dict[str, str], client: Any, db: Any) -> None:
    cache.get("key")
    client.get("https://example.com")
    client.read()
    db.execute("select 1")
    db.cursor().execute("select 1")
    "-".join(["a", "b"])
    str(1).split(",")


async def async_libraries() -> None:
    await asyncio.sleep(1)
    await asyncio.wait_for(asyncio.sleep(1), timeout=1)
    lock = asyncio.Lock()
    async with lock:
        pass
    event = asyncio.Event()
    await event.wait()
    queue: asyncio.Queue[int] = asyncio.Queue()
    await queue.get()


async def non_blocking_arguments() -> None:
    lock = threading.Lock()
    lock.acquire(blocking=False)
    lock.acquire(timeout=0)
    event = threading.Event()
    event.wait(timeout=0)


async def cheap_calls() -> float:
    return time.time() + time.monotonic() + time.perf_counter()


def sync_only() -> None:
    time.sleep(1)


def sync_caller() -> None:
    sync_only()


async def coroutine_not_awaited_here() -> None:
    asyncio.ensure_future(asyncio.sleep(1))  # UNS302


async def string_annotation(session: requests.Session) -> None:
    await asyncio.sleep(0)


if __name__ == "__main__":
    time.sleep(1)
