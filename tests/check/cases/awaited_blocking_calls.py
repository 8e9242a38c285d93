"""``await`` on the result of a blocking call: the call still blocks, before the await (UNS201)."""

import asyncio
import subprocess
import time

import httpx
import requests


async def handler(url: str) -> None:
    await requests.get(url)  # UNS201
    await time.sleep(1)  # UNS201
    response = await requests.post(url, json={})  # UNS201
    print(response)
    await asyncio.sleep(1)
    await asyncio.create_subprocess_exec("ls")
    await asyncio.to_thread(subprocess.run, ["ls"])


async def async_client(url: str) -> None:
    async with httpx.AsyncClient() as client:
        await client.get(url)


async def sync_client(url: str) -> None:
    with httpx.Client() as client:
        await client.get(url)  # UNS201
