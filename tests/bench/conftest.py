"""Fixtures for the ``unstall bench`` tests: real loops, a real aiohttp test server, real server processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from tests.loops import LOOP_KINDS

from unstall.bench._work import create_database


@dataclass
class Counting:
    """What the test server saw: requests per path and the most requests in progress at once."""

    hits: dict[str, int] = field(default_factory=dict)
    active: int = 0
    max_active: int = 0
    arrivals: list[float] = field(default_factory=list)  # time.perf_counter() of each request


@contextlib.asynccontextmanager
async def _counting_server() -> AsyncIterator[tuple[str, Counting]]:
    """A real aiohttp server on 127.0.0.1 with endpoints for the load generator's accounting.

    ``/ok`` answers at once, ``/hold?ms=N`` after N ms, ``/fail`` with HTTP 500, ``/drop``
    closes the connection without answering, ``/chunked`` streams a chunked body.
    """
    seen = Counting()

    @web.middleware
    async def count(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        seen.arrivals.append(time.perf_counter())
        seen.hits[request.path] = seen.hits.get(request.path, 0) + 1
        seen.active += 1
        seen.max_active = max(seen.max_active, seen.active)
        try:
            return await handler(request)
        finally:
            seen.active -= 1

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def hold(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("ms", "50")) / 1000)
        return web.Response(text="held\n")

    async def fail(request: web.Request) -> web.Response:
        return web.Response(status=500, text="no\n")

    async def drop(request: web.Request) -> web.Response:
        transport = request.transport
        assert transport is not None
        transport.abort()
        await asyncio.sleep(0.01)
        return web.Response(text="never sent\n")

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b"alpha-", b"beta-", b"gamma"):
            await response.write(part)
        await response.write_eof()
        return response

    app = web.Application(middlewares=[count])
    app.router.add_get("/ok", ok)
    app.router.add_get("/hold", hold)
    app.router.add_get("/fail", fail)
    app.router.add_get("/drop", drop)
    app.router.add_get("/chunked", chunked)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", seen
    finally:
        await runner.cleanup()


CountingServer = Callable[[], contextlib.AbstractAsyncContextManager[tuple[str, Counting]]]


@pytest.fixture
def counting_server() -> CountingServer:
    """Start the counting test server (see ``_counting_server``): ``async with counting_server() as (base, seen)``."""
    return _counting_server


@pytest.fixture
def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Servers:
    """The benchmark's three server processes, started the way ``unstall bench`` starts them."""

    upstream: str
    service: str
    sync: str


def _start(kind: str, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "unstall.bench._serve", kind, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    port = json.loads(line)["port"]
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="module", params=LOOP_KINDS)
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    """The upstream, the async service (on asyncio or uvloop) and the sync server, for one module."""
    db: Path = tmp_path_factory.mktemp("bench") / "bench.sqlite"
    create_database(db, rows=2000)
    procs = []
    try:
        up_proc, upstream = _start("upstream", "--delay-ms=20")
        procs.append(up_proc)
        common = (f"--upstream={upstream}/", f"--db={db}", "--cpu-iterations=20000")
        svc_proc, service = _start("service", *common, f"--loop={request.param}")
        procs.append(svc_proc)
        sync_proc, sync = _start("sync", *common)
        procs.append(sync_proc)
        yield Servers(upstream, service, sync)
    finally:
        for proc in reversed(procs):
            _stop(proc)


@contextlib.contextmanager
def _stalling_server(stall: float) -> Iterator[str]:
    """An HTTP server on 127.0.0.1, on its own loop in a thread, whose loop blocks for ``stall``
    seconds (``time.sleep``) on the first request, then answers everything at once."""
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                if not state.get("stalled"):
                    state["stalled"] = True
                    time.sleep(stall)  # the server's loop stalls: nothing is read or answered
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        state["port"] = server.sockets[0].getsockname()[1]
        state["loop"] = asyncio.get_running_loop()
        state["stop"] = asyncio.Event()
        ready.set()
        async with server:
            await state["stop"].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="stalling-server")
    thread.start()
    try:
        assert ready.wait(10), "the stalling server did not start"
        yield f"http://127.0.0.1:{state['port']}/"
    finally:
        if "loop" in state:
            state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)


StallingServer = Callable[[float], contextlib.AbstractContextManager[str]]


@pytest.fixture
def stalling_server() -> StallingServer:
    """Start a server whose loop stalls on its first request: ``with stalling_server(0.4) as url``."""
    return _stalling_server
