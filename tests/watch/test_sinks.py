"""Sinks: plain callables, called in order, whose exceptions are counted and never propagate."""

from __future__ import annotations

from unstall.watch._sinks import Sinks


def test_every_sink_gets_the_event_in_order_and_failures_are_counted() -> None:
    got: list[tuple[str, int]] = []

    def boom(event: int) -> None:
        raise RuntimeError("a broken sink")

    sinks = Sinks([lambda e: got.append(("first", e)), boom])
    sinks.add(lambda e: got.append(("last", e)))
    assert sinks.send(1) == 1
    assert got == [("first", 1), ("last", 1)]
    sinks.add(boom)
    assert sinks.send(2) == 2


def test_remove_stops_a_sink_and_a_missing_one_is_no_error() -> None:
    got: list[int] = []
    sinks: Sinks[int] = Sinks()
    assert sinks.send(0) == 0
    sinks.add(got.append)
    sinks.send(1)
    sinks.remove(got.append)
    sinks.remove(got.append)
    sinks.send(2)
    assert got == [1]


def test_a_sink_that_changes_the_sinks_does_not_change_this_send() -> None:
    got: list[str] = []
    sinks: Sinks[str] = Sinks()

    def once(event: str) -> None:
        got.append("once")
        sinks.remove(once)
        sinks.add(lambda e: got.append("added"))

    sinks.add(once)
    sinks.add(lambda e: got.append("second"))
    sinks.send("a")
    assert got == ["once", "second"]
    sinks.send("b")
    assert got == ["once", "second", "second", "added"]
