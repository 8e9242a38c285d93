"""UNS305: a nested event loop reached on the loop's own thread."""

import asyncio


async def fetch(url: str) -> str:
    return url


def fetch_sync(url: str) -> str:
    return asyncio.run(fetch(url))


class Bridge:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def call(self, url: str) -> str:
        return asyncio.run_coroutine_threadsafe(fetch(url), self.loop).result()

    def drive(self, url: str) -> str:
        loop = asyncio.new_event_loop()
        return loop.run_until_complete(fetch(url))


async def handler(url: str, bridge: Bridge) -> str:
    first = fetch_sync(url)  # UNS305
    second = bridge.call(url)  # UNS305
    third = bridge.drive(url)  # UNS305
    return first + second + third


async def direct(url: str) -> str:
    return asyncio.run(fetch(url))  # UNS305


def main() -> None:
    print(fetch_sync("https://example.com"))
