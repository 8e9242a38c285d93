"""UNS303: a coroutine never awaited; and the ways a coroutine is used."""

import abc
import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any


async def save(item: str) -> None:
    await asyncio.sleep(0)


def save_later(item: str) -> Coroutine[Any, Any, None]:
    return save(item)


def logged(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any) -> Any:
        return await func(*args)

    return wrapper


def unknown_decorator(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any) -> Any:
        return asyncio.run(func(*args))

    return wrapper


def runs_in_a_loop(func: Callable[..., Any]) -> Callable[..., Any]:
    @unknown_decorator
    @functools.wraps(func)
    async def wrapper(*args: Any) -> Any:
        return await func(*args)

    return wrapper


@logged
async def audited(item: str) -> None:
    await save(item)


@runs_in_a_loop
async def wrapped_twice(item: str) -> None:
    await save(item)


@unknown_decorator
async def made_sync(item: str) -> None:
    await save(item)


class Repository(abc.ABC):
    async def store(self, item: str) -> None:
        await save(item)

    @abc.abstractmethod
    async def remove(self, item: str) -> None: ...

    @staticmethod
    async def ping() -> None:
        await asyncio.sleep(0)

    async def handle(self, item: str) -> None:
        self.store(item)  # UNS303
        self.remove(item)  # UNS303
        self.ping()  # UNS303
        await self.store(item)


async def handler(item: str, writer: asyncio.StreamWriter) -> None:
    save(item)  # UNS303
    asyncio.sleep(1)  # UNS303
    writer.drain()  # UNS303
    save_later(item)  # UNS303
    audited(item)  # UNS303
    pending = save(item)  # UNS303
    made_sync(item)  # UNS305
    wrapped_twice(item)
    await save(item)
    task = asyncio.create_task(save(item))
    await asyncio.wait_for(save(item), 1)
    await asyncio.gather(save(item), audited(item))
    await task
    writer.write(b"x")


def sync_caller(item: str) -> Awaitable[None]:
    save(item)  # UNS303
    return save(item)


async def passed_on(item: str) -> None:
    coroutine = save(item)
    await coroutine
