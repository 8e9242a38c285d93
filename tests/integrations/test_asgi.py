"""The ASGI middleware under real uvicorn servers: stalls and blocking calls carry the method and
the route template (Starlette, mounted apps, FastAPI routers, no route), never the path."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from tests.integrations.servers import UvicornThread, get
from tests.loops import LOOP_KINDS
from tests.waiting import wait_until

from unstall.integrations import set_route
from unstall.integrations.asgi import UnstallMiddleware
from unstall.watch import StallEvent, Watcher, watch

pytest.importorskip("uvicorn")
starlette = pytest.importorskip("starlette")

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, Response  # noqa: E402
from starlette.routing import Mount, Route  # noqa: E402


async def item(request: Request) -> Response:
    time.sleep(0.25)  # blocks the loop: the stall the test looks for
    return PlainTextResponse("ok")


async def fast(request: Request) -> Response:
    await asyncio.sleep(0)
    return PlainTextResponse("fast")


async def slow_not_found(request: Request, exc: Exception) -> Response:
    time.sleep(0.25)
    return PlainTextResponse("nothing here", status_code=404)


def starlette_app() -> Any:
    users = Starlette(routes=[Route("/users/{uid:int}", item)])
    return Starlette(
        routes=[Route("/items/{item_id}", item), Route("/", fast), Mount("/v1", app=users)],
        exception_handlers={404: slow_not_found},
    )


def stalls(w: Watcher, n: int) -> list[StallEvent]:
    """The first ``n`` stalls in requests (a loaded machine may add one outside any request)."""

    def routed() -> list[StallEvent]:
        return [e for e in list(w.events) if e.route]

    assert wait_until(lambda: len(routed()) >= n, timeout=10), (
        f"{w.stalls} stall(s), wanted {n}",
        [(e.route, e.stack_source, e.stack_counts, e.cause, e.task) for e in list(w.events)],
    )
    return routed()


@pytest.mark.parametrize("kind", LOOP_KINDS)
def test_starlette_stalls_carry_the_route_template_never_the_path(kind: str) -> None:
    served = UvicornThread(UnstallMiddleware(starlette_app()), kind)  # imports the loop first
    w = watch(threshold_ms=100, log=False)
    with served as server:
        assert get(f"{server.url}/")[0] == 200
        assert get(f"{server.url}/items/secret-4242")[0] == 200
        assert get(f"{server.url}/v1/users/98765")[0] == 200
        assert get(f"{server.url}/no/such/page-31337")[0] == 404
        events = stalls(w, 3)
    routes = [(e.method, e.route) for e in events]
    assert routes == [
        ("GET", "/items/{item_id}"),
        ("GET", "/v1/users/{uid}"),  # the mount's prefix with the mounted app's route
        ("GET", "<unmatched>"),
    ]
    report = w.report()
    assert sorted((r.method, r.route, r.stalls) for r in report.routes) == sorted(
        (method, route, 1) for method, route in routes
    )
    text = json.dumps(report.to_dict()) + report.render_text()
    for raw in ("secret-4242", "98765", "31337"):
        assert raw not in text
    assert "GET /items/{item_id}" in report.render_text()


@pytest.mark.parametrize("kind", LOOP_KINDS)
def test_fastapi_routes_of_included_routers_are_full_templates(kind: str) -> None:
    fastapi = pytest.importorskip("fastapi")
    router = fastapi.APIRouter(prefix="/api")

    @router.get("/orders/{order_id}")  # type: ignore[untyped-decorator,unused-ignore]
    async def order(order_id: int) -> dict[str, int]:
        time.sleep(0.25)
        return {"order": order_id}

    app = fastapi.FastAPI()
    app.include_router(router)
    app.add_middleware(UnstallMiddleware)
    served = UvicornThread(app, kind)
    w = watch(threshold_ms=100, log=False)
    with served as server:
        assert get(f"{server.url}/api/orders/777")[0] == 200
        events = stalls(w, 1)
    assert (events[0].method, events[0].route) == ("GET", "/api/orders/{order_id}")


def test_routes_are_ranked_by_stalled_time_with_their_top_site() -> None:
    async def short(request: Request) -> Response:
        time.sleep(0.15)
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/long/{n}", item), Route("/short", short)])
    w = watch(threshold_ms=100, log=False)
    with UvicornThread(UnstallMiddleware(app)) as server:
        for path in ("/short", "/long/1", "/short", "/long/2", "/short"):
            assert get(server.url + path)[0] == 200
        stalls(w, 5)
    rows = w.report().routes
    assert [(r.route, r.stalls) for r in rows] == [("/long/{n}", 2), ("/short", 3)]
    assert rows[0].total > rows[1].total
    assert rows[0].top_site is not None
    assert "(item)" in rows[0].top_site


def test_a_blocking_call_the_tripwire_catches_carries_the_route() -> None:
    async def nap(request: Request) -> Response:
        time.sleep(0.001)  # short: the tripwire catches it, the watchdog does not
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/nap/{n}", nap)])
    w = watch(threshold_ms=100, log=False, tripwire=True)
    with UvicornThread(UnstallMiddleware(app)) as server:
        assert get(f"{server.url}/nap/5")[0] == 200
        assert wait_until(lambda: any(c.name == "time.sleep" for c in w.blocking_calls))
    call = next(c for c in w.blocking_calls if c.name == "time.sleep")
    assert (call.method, call.route) == ("GET", "/nap/{n}")
    assert [(r.route, r.blocking_calls) for r in w.report().routes] == [("/nap/{n}", 1)]


def test_set_route_names_the_route_for_frameworks_the_middleware_cannot_read() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # a bare ASGI app: no router
        if scope["type"] != "http":
            return
        set_route("/reports/<int:year>")
        time.sleep(0.25)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    w = watch(threshold_ms=100, log=False)
    with UvicornThread(UnstallMiddleware(app)) as server:
        assert get(f"{server.url}/reports/2024")[0] == 200
        events = stalls(w, 1)
    assert (events[0].method, events[0].route) == ("GET", "/reports/<int:year>")


def test_lifespan_and_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return

    middleware = UnstallMiddleware(app)
    with UvicornThread(middleware):
        pass
    assert seen == ["lifespan"]


def test_stalls_outside_requests_have_no_route(run_loop: Any) -> None:
    async def main() -> Watcher:
        w = watch(threshold_ms=100, log=False)
        await asyncio.sleep(0.02)
        time.sleep(0.2)
        await asyncio.sleep(0.02)
        assert await asyncio.to_thread(wait_until, lambda: w.stalls >= 1)
        return w

    w = run_loop(main())
    assert (w.events[0].method, w.events[0].route) == ("", "")
    assert w.report().routes == ()


def test_litestar_routes_are_its_path_templates() -> None:
    litestar = pytest.importorskip("litestar")
    from litestar.params import FromPath

    @litestar.get("/books/{book_id:int}")  # type: ignore[untyped-decorator,unused-ignore]
    async def book(book_id: FromPath[int]) -> str:
        time.sleep(0.25)
        return "ok"

    app = litestar.Litestar(route_handlers=[book], middleware=[UnstallMiddleware])
    served = UvicornThread(app)
    w = watch(threshold_ms=100, log=False)
    with served as server:
        assert get(f"{server.url}/books/31337")[0] == 200
        events = stalls(w, 1)
    assert (events[0].method, events[0].route) == ("GET", "/books/{book_id}")
