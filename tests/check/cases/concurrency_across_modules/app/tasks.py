import asyncio
from collections.abc import Coroutine
from typing import Any


def fire(coroutine: Coroutine[Any, Any, None]) -> "asyncio.Task[None]":
    return asyncio.ensure_future(coroutine)


class Notifier:
    async def send(self, message: str) -> None:
        await asyncio.sleep(0)
