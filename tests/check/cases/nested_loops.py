"""UNS305: a nested event loop reached on the loop's own thread."""

import asyncio
import threading


async def fetch(url: str) -> str:
    return url


def fetch_sync(url: str) -> str:
    return asyncio.run(fetch(url))


class Bridge:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.home = asyncio.get_running_loop()

    def call(self, url: str) -> str:
        # A loop handed in may be one another thread runs: a wait, not a deadlock.
        return asyncio.run_coroutine_threadsafe(fetch(url), self.loop).result()

    def call_home(self, url: str) -> str:
        return asyncio.run_coroutine_threadsafe(fetch(url), self.home).result()

    def call_running(self, url: str) -> str:
        future = asyncio.run_coroutine_threadsafe(fetch(url), asyncio.get_running_loop())
        return future.result()

    def call_current(self, url: str) -> str:
        loop = asyncio.get_event_loop()
        return asyncio.run_coroutine_threadsafe(fetch(url), loop=loop).result()

    def drive(self, url: str) -> str:
        loop = asyncio.new_event_loop()
        return loop.run_until_complete(fetch(url))


class Worker:
    """Runs its own loop on a thread of its own; other threads hand it coroutines."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_forever()

    def stop(self) -> None:
        if self._loop is not None:
            future = asyncio.run_coroutine_threadsafe(fetch("stop"), self._loop)
            future.result()


async def handler(url: str, bridge: Bridge) -> str:
    first = fetch_sync(url)  # UNS305
    second = bridge.call(url)  # UNS108
    third = bridge.drive(url)  # UNS305
    fourth = bridge.call_home(url)  # UNS305
    fifth = bridge.call_running(url)  # UNS305
    sixth = bridge.call_current(url)  # UNS305
    return first + second + third + fourth + fifth + sixth


async def stop(worker: Worker) -> None:
    worker.stop()  # UNS108


async def direct(url: str) -> str:
    return asyncio.run(fetch(url))  # UNS305


def main() -> None:
    print(fetch_sync("https://example.com"))
