"""UNS302: a task whose reference is dropped; and the ways of keeping one."""

import asyncio
from typing import Any

background: set[asyncio.Task[Any]] = set()


async def work(n: int) -> int:
    return n


def spawn(n: int) -> "asyncio.Task[int]":
    return asyncio.create_task(work(n))


def spawn_kept(n: int) -> "asyncio.Task[int]":
    task = asyncio.create_task(work(n))
    background.add(task)
    task.add_done_callback(background.discard)
    return task


class Service:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.tasks: list[asyncio.Task[int]] = []

    def on_event(self, n: int) -> None:
        self._loop.create_task(work(n))  # UNS302

    def on_event_kept(self, n: int) -> None:
        self.tasks.append(self._loop.create_task(work(n)))


async def dropped() -> None:
    asyncio.create_task(work(1))  # UNS302
    asyncio.ensure_future(work(2))  # UNS302
    asyncio.get_running_loop().create_task(work(3))  # UNS302
    spawn(4)  # UNS302
    unused = asyncio.create_task(work(5))  # UNS302
    asyncio.gather(work(6), work(7))  # UNS302
    for n in range(3):
        asyncio.create_task(work(n))  # UNS302


async def kept() -> int:
    task = asyncio.create_task(work(1))
    background.add(asyncio.create_task(work(2)))
    spawn_kept(3)
    later = spawn(4)
    await asyncio.gather(work(5), work(6))
    async with asyncio.TaskGroup() as group:
        group.create_task(work(7))
    return await task + await later


global_task = None


async def kept_globally() -> None:
    global global_task
    global_task = asyncio.create_task(work(1))
