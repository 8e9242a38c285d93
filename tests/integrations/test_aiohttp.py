"""The aiohttp middleware under a real aiohttp server: stalls carry the canonical route, never the path."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from tests.integrations.servers import AiohttpThread, get
from tests.loops import LOOP_KINDS
from tests.waiting import wait_until

from unstall.integrations.aiohttp import unstall_middleware
from unstall.watch import watch

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def item(request: web.Request) -> web.Response:
    time.sleep(0.25)
    return web.Response(text="ok")


@web.middleware  # type: ignore[untyped-decorator,unused-ignore]
async def slow_on_missing(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/missing"):
        time.sleep(0.25)  # in a request that matched no route
    return await handler(request)


def make_app() -> web.Application:
    app = web.Application(middlewares=[unstall_middleware, slow_on_missing])
    app.router.add_get("/items/{item_id}", item)
    app.router.add_post("/carts/{cart_id}/lines", item)
    return app


@pytest.mark.parametrize("kind", LOOP_KINDS)
def test_aiohttp_stalls_carry_the_canonical_route(kind: str) -> None:
    served = AiohttpThread(make_app, kind)
    w = watch(threshold_ms=100, log=False)
    with served as server:
        assert get(f"{server.url}/items/secret-4242")[0] == 200
        assert get(f"{server.url}/missing/31337")[0] == 404
        import urllib.request

        request = urllib.request.Request(f"{server.url}/carts/c-99/lines", data=b"x", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert wait_until(lambda: sum(1 for e in list(w.events) if e.route) >= 3, timeout=10)
    # (a loaded machine may add a stall outside any request)
    assert [(e.method, e.route) for e in w.events if e.route] == [
        ("GET", "/items/{item_id}"),
        ("GET", "<unmatched>"),
        ("POST", "/carts/{cart_id}/lines"),
    ]
    text = w.report().to_json() + w.report().render_text()
    assert "secret-4242" not in text
    assert "31337" not in text
    assert "c-99" not in text
