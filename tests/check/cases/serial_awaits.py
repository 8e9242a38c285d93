"""UNS301: independent network reads awaited one after another; and loops that must stay serial."""

import asyncio

import aiohttp
import httpx

limit = asyncio.Semaphore(4)


async def page(client: httpx.AsyncClient, url: str) -> str:
    response = await client.get(url)
    return response.text


async def each_item(session: aiohttp.ClientSession, items: list[str]) -> list[str]:
    found = []
    for item in items:
        response = await session.get(f"https://example.com/{item}")  # UNS301
        found.append(await response.text())
    return found


async def through_helper(client: httpx.AsyncClient, urls: list[str]) -> dict[str, str]:
    pages = {}
    for url in urls:
        pages[url] = await page(client, url)  # UNS301
    return pages


async def two_reads(client: httpx.AsyncClient) -> tuple[str, str]:
    user = await client.get("https://example.com/user")  # UNS301
    orders = await client.get("https://example.com/orders")
    return user.text, orders.text


async def dependent_reads(client: httpx.AsyncClient) -> str:
    user = await client.get("https://example.com/user")
    orders = await client.get(f"https://example.com/orders/{user.text}")
    return orders.text


async def pagination(client: httpx.AsyncClient, url: str) -> list[str]:
    found = []
    cursor = ""
    for _ in range(10):
        response = await client.get(url, params={"cursor": cursor})
        cursor = response.headers["next"]
        found.append(response.text)
    return found


async def first_that_answers(client: httpx.AsyncClient, urls: list[str]) -> str:
    for url in urls:
        response = await client.get(url)
        if response.status_code == 200:
            return response.text
    return ""


async def paced(client: httpx.AsyncClient, urls: list[str]) -> None:
    for url in urls:
        await client.get(url)
        await asyncio.sleep(1)


async def bounded(client: httpx.AsyncClient, urls: list[str]) -> None:
    for url in urls:
        async with limit:
            await client.get(url)


async def writes(client: httpx.AsyncClient, items: list[str]) -> None:
    for item in items:
        await client.post("https://example.com/items", json=item)


async def deduplicated(client: httpx.AsyncClient, urls: list[str]) -> set[str]:
    seen: set[str] = set()
    for url in urls:
        if url in seen:
            continue
        seen.add(url)
        await client.get(url)
    return seen


async def running_total(client: httpx.AsyncClient, urls: list[str]) -> int:
    total = 0
    for url in urls:
        response = await client.get(url)
        total += len(response.text)
    return total


async def already_together(client: httpx.AsyncClient, urls: list[str]) -> list[httpx.Response]:
    return await asyncio.gather(*(client.get(url) for url in urls))
