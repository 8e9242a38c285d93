"""The request context middlewares set: method labels, route templates, the per-task table, routes and the timeline."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from tests.loops import RunLoop

from unstall.integrations import set_route
from unstall.watch import Cause, StallEvent, TripwireEvent
from unstall.watch import _request as request_module
from unstall.watch._request import (
    UNMATCHED,
    Request,
    current,
    enter,
    label,
    leave,
    method_label,
    request_of,
)
from unstall.watch._routes import OTHER, Routes
from unstall.watch._timeline import Timeline


def test_methods_are_a_bounded_set() -> None:
    assert method_label("GET") == "GET"
    assert method_label("WEBSOCKET") == "WEBSOCKET"
    assert method_label("get") == "OTHER"
    assert method_label("X-" * 100) == "OTHER"
    assert method_label(None) == "OTHER"


def test_the_template_is_the_set_one_then_the_found_one_then_unmatched() -> None:
    class Found(Request):
        def find_route(self) -> str:
            return "/found/{id}"

    class Broken(Request):
        def find_route(self) -> str:
            raise KeyError("route")

    assert Request("GET").template() == UNMATCHED
    assert Found("GET").template() == "/found/{id}"
    assert Found("GET", "/set").template() == "/set"
    assert Broken("GET").template() == UNMATCHED  # never raises
    assert Request("GET", "/" + "x" * 500).template() == "/" + "x" * 199
    assert label(None) == ("", "")
    assert label(Found("POST")) == ("POST", "/found/{id}")
    assert label(Found("BREW")) == ("OTHER", "/found/{id}")  # methods are bounded when read


def test_enter_and_leave_in_a_task(run_loop: RunLoop) -> None:
    seen: list[object] = []

    async def child() -> None:
        seen.append(current())

    async def handler() -> None:
        request = Request("GET")
        enter(request)
        try:
            set_route("/orders/{order_id}")
            assert current() is request
            loop = asyncio.get_running_loop()
            assert request_of(loop, None) is (request if request_module._BY_TASK else None)
            assert request_of(loop, contextvars.copy_context()) is request
            await asyncio.create_task(child())  # a task it starts serves it too
        finally:
            leave(request)
        assert current() is None
        seen.append(request.template())

    run_loop(handler())
    assert seen[1] == "/orders/{order_id}"
    assert isinstance(seen[0], Request)
    assert request_module._by_task == {}  # nothing left behind


def test_set_route_outside_a_request_does_nothing() -> None:
    set_route("/nowhere")
    assert current() is None


def stall(route: str, duration: float = 0.2, method: str = "GET") -> StallEvent:
    return StallEvent(0.0, duration, 0.1, Cause.BLOCKED, None, method=method, route=route)


def test_routes_rank_by_stalled_time_and_overflow_into_other() -> None:
    routes = Routes(limit=2)
    routes.add_stall(stall("/a", 0.1))
    routes.add_stall(stall("/b", 0.5))
    routes.add_stall(stall("", 9.0))  # outside any request: not a route
    for i in range(5):
        routes.add_stall(stall(f"/c{i}", 0.2))
    routes.add_call(
        TripwireEvent("time.sleep", "UNS101", "sleep", "", None, method="GET", route="/a")
    )
    rows = routes.snapshot()
    assert [(r.route, r.stalls) for r in rows] == [(OTHER, 5), ("/b", 1), ("/a", 1)]
    assert rows[0].total == pytest.approx(1.0)
    assert rows[2].blocking_calls == 1


def test_the_timeline_coarsens_to_stay_bounded() -> None:
    timeline = Timeline(capacity=4)
    for second in range(10):
        timeline.add(1000.0 + second, [100 * (second + 1), 50])
    points = timeline.points()
    assert len(points) <= 4
    assert timeline.step == 4.0
    assert sum(p.heartbeats for p in points) == 20
    assert max(p.max for p in points) == pytest.approx(0.001)
    assert points[0].time <= 1000.0 < points[0].time + points[0].seconds


def test_a_stall_spanning_two_tasks_takes_the_route_of_its_most_sampled_stack() -> None:
    from unstall.watch import Frame
    from unstall.watch._sampling import Session

    health, invoice = (Frame("app.py", 3, "health"),), (Frame("app.py", 9, "invoice"),)
    session = Session(0.0, 0.0)
    session.requests[health] = Request("GET", "/health")  # the first sample, a short step
    session.requests[invoice] = Request("GET", "/invoices/{id}")  # where the time went
    assert label(session.request_for(invoice)).route == "/invoices/{id}"
    assert label(session.request_for(None)).route == "/health"  # no stack: the first one seen
    assert Session(0.0, 0.0).request_for(invoice) is None
