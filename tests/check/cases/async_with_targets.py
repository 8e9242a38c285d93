"""What `async with manager as name` binds: what `manager.__aenter__` returns, not the manager."""

import asyncio
from typing import Self


async def query(text: str) -> str:
    return text


class Session:
    """What a client's `__aenter__` hands out: its `execute` is async."""

    async def execute(self, text: str) -> str:
        return await query(text)

    def execute_sync(self, text: str) -> str:
        return asyncio.run(query(text))


class Client:
    """A client with a sync `execute` that runs its own loop, and an async session."""

    def execute(self, text: str) -> str:
        loop = asyncio.new_event_loop()
        return loop.run_until_complete(query(text))

    async def connect(self):
        return Session()

    async def __aenter__(self):
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        return None


class TypedClient(Client):
    async def __aenter__(self) -> Session:
        return await self.connect()


class BuildingClient(Client):
    async def __aenter__(self):
        return Session()


class SelfClient(Client):
    async def __aenter__(self) -> Self:
        return self


class Pool:
    """A manager whose `__aenter__` returns itself, untyped."""

    def run(self, text: str) -> str:
        return asyncio.run(query(text))

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class NamedPool(Pool):
    """Inherits `return self`: `as` gives this class's instance."""

    def run(self, text: str) -> str:
        return text


class Opaque:
    """No `__aenter__` the analysis can read: what `as` binds is unknown."""

    def execute(self, text: str) -> str:
        return asyncio.run(query(text))


async def session_from_client(text: str) -> str:
    async with Client() as session:
        return await session.execute(text)


async def session_typed(text: str) -> str:
    async with TypedClient() as session:
        return session.execute_sync(text)  # UNS305


async def session_built(text: str) -> str:
    async with BuildingClient() as session:
        return session.execute_sync(text)  # UNS305


async def session_of_self(text: str) -> str:
    async with SelfClient() as client:
        return client.execute(text)  # UNS305


async def pool_of_self(text: str) -> str:
    async with Pool() as pool:
        return pool.run(text)  # UNS305


async def pool_inherited(text: str) -> str:
    async with NamedPool() as pool:
        return pool.run(text)


async def unknown_target(text: str, manager: Opaque) -> str:
    async with manager as what:
        return what.execute(text)


async def plain_binding(text: str) -> str:
    client = Client()
    return client.execute(text)  # UNS305
