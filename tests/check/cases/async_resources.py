"""UNS304 (an async resource not closed) and UNS306 (a plain `with` on an async context manager)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import httpx

lock = asyncio.Lock()


async def never_closed(url: str) -> str:
    session = aiohttp.ClientSession()  # UNS304
    response = await session.get(url)
    return await response.text()


async def closed_late(url: str) -> int:
    client = httpx.AsyncClient()  # UNS304
    response = await client.get(url)
    await client.aclose()
    return response.status_code


async def closed_in_finally(url: str) -> int:
    client = httpx.AsyncClient()
    try:
        response = await client.get(url)
    finally:
        await client.aclose()
    return response.status_code


async def managed(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.text()


async def handed_back() -> aiohttp.ClientSession:
    session = aiohttp.ClientSession()
    return session


async def stored(holder: dict[str, httpx.AsyncClient]) -> None:
    client = httpx.AsyncClient()
    holder["client"] = client


async def closed_at_once() -> None:
    session = aiohttp.ClientSession()
    await session.close()


async def streams(host: str) -> bytes:
    reader, writer = await asyncio.open_connection(host, 80)  # UNS304
    return await reader.read(100)


async def streams_closed(host: str) -> bytes:
    reader, writer = await asyncio.open_connection(host, 80)
    try:
        return await reader.read(100)
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    yield


class Pool:
    async def __aenter__(self) -> "Pool":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


async def plain_with() -> None:
    with lock:  # UNS306
        pass
    with asyncio.timeout(1):  # UNS306
        pass
    with transaction():  # UNS306
        pass
    with Pool():  # UNS306
        pass
    async with lock, transaction(), Pool():
        pass
    with contextlib.suppress(ValueError):
        pass


def sync_code() -> None:
    with lock:  # UNS306
        pass
