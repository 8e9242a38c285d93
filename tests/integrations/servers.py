"""Real servers on 127.0.0.1 in a thread of the test process, and a plain HTTP client for them."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from tests.loops import loop_factory
from tests.waiting import wait_until


def get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    """``(status, body)`` of a GET of ``url`` (an error status is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class UvicornThread:
    """uvicorn serving ``app`` on 127.0.0.1 (a free port) on a loop of ``kind``, in a thread."""

    def __init__(self, app: Any, kind: str = "asyncio") -> None:
        import uvicorn

        loop_factory(kind)  # skips the test when uvloop is not installed
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, loop=kind, log_level="warning", lifespan="auto"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        assert wait_until(lambda: self.server.started, timeout=15), "uvicorn did not start"
        return self

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


class AiohttpThread:
    """An aiohttp ``web.Application`` from ``make_app()`` on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, make_app: Callable[[], Any], kind: str = "asyncio") -> None:
        self.make_app = make_app
        self.factory = loop_factory(kind)
        self.port = 0
        self.started = threading.Event()
        self.stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, name="aiohttp", daemon=True)

    def _run(self) -> None:
        from aiohttp import web

        async def main() -> None:
            runner = web.AppRunner(self.make_app(), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            server: Any = site._server
            self.port = server.sockets[0].getsockname()[1]
            self.stop = asyncio.Event()
            self.loop = asyncio.get_running_loop()
            self.started.set()
            await self.stop.wait()
            await runner.cleanup()

        with asyncio.Runner(loop_factory=self.factory) as runner:
            runner.run(main())

    def __enter__(self) -> AiohttpThread:
        self.thread.start()
        assert self.started.wait(15), "aiohttp did not start"
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        if self.loop is not None and self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(15)
