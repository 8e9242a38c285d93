"""Log records of stalls and blocking calls: flat fields a JSON formatter serialises, a rate limit
with a summary of what it dropped, and ERROR for long stalls (what Sentry-style handlers turn into events)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Iterator

import pytest
from pythonjsonlogger.json import JsonFormatter
from tests.waiting import wait_until

from unstall.watch import Cause, EventLog, Frame, StallEvent, TaskInfo, TripwireEvent, watch

HERE = Frame("app/views.py", 12, "checkout", "app.views", "time.sleep(0.3)")


def stall(duration: float = 0.25, route: str = "/carts/{cart_id}") -> StallEvent:
    return StallEvent(
        time.time(),
        duration,
        0.1,
        Cause.BLOCKED,
        HERE,
        offender=Frame("<C>", 0, "sleep", "time"),
        task=TaskInfo("Task-7", "checkout"),
        code="UNS101",
        fix="await asyncio.sleep(...)",
        method="POST",
        route=route,
    )


def call() -> TripwireEvent:
    return TripwireEvent(
        "time.sleep", "UNS101", "sleep", "0.001", HERE, duration=0.001, method="GET", route="/x"
    )


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, Records]]:
    log = logging.getLogger("unstall.test-logs")
    log.propagate = False
    handler = Records()
    log.addHandler(handler)
    yield log, handler
    log.removeHandler(handler)


def test_a_json_formatter_serialises_the_flat_fields(
    logger: tuple[logging.Logger, Records],
) -> None:
    log, _ = logger
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    try:
        sink = EventLog(log)
        sink(stall())
        sink(call())
    finally:
        log.removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["unstall.event"] == "stall"
    assert first["unstall.duration_s"] == 0.25
    assert first["unstall.site"] == "app/views.py:12 (checkout)"
    assert first["unstall.cause"] == "blocked"
    assert first["unstall.route"] == "/carts/{cart_id}"
    assert first["unstall.method"] == "POST"
    assert first["unstall.rule"] == "UNS101"
    assert first["unstall.offender"] == "time.sleep"
    assert first["unstall.task"] == "Task-7"
    assert (
        "loop stalled 250 ms (blocked) at app/views.py:12 (checkout) in POST /carts/"
        in first["message"]
    )
    assert second["unstall.event"] == "blocking_call"
    assert second["unstall.rule"] == "UNS101"
    assert second["unstall.call"] == "time.sleep"
    assert second["unstall.route"] == "/x"
    assert second["unstall.duration_s"] == 0.001


def test_long_stalls_are_errors(logger: tuple[logging.Logger, Records]) -> None:
    log, handler = logger
    sink = EventLog(log, error_ms=500)
    sink(stall(0.2))
    sink(stall(0.6))
    sink(call())
    assert [r.levelno for r in handler.records] == [logging.WARNING, logging.ERROR, logging.WARNING]
    EventLog(log, error_ms=None)(stall(30.0))
    assert handler.records[-1].levelno == logging.WARNING


def test_a_stalling_loop_cannot_flood_the_log(
    logger: tuple[logging.Logger, Records], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, handler = logger
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    sink = EventLog(log, rate=2, burst=3)
    for _ in range(50):
        sink(stall())
    sink(call())
    assert len(handler.records) == 3  # the burst, then nothing
    now[0] += 1.0  # two tokens back: a summary of what was dropped, then the record
    sink(stall())
    summary, record = handler.records[3:]
    assert getattr(summary, "unstall.event") == "dropped"
    assert getattr(summary, "unstall.dropped_stalls") == 47
    assert getattr(summary, "unstall.dropped_calls") == 1
    assert (
        "47 stall record(s) and 1 blocking-call record(s) were not logged" in summary.getMessage()
    )
    assert getattr(record, "unstall.event") == "stall"
    sink(stall())
    sink(stall())  # dropped again
    assert len(handler.records) == 6
    sink.flush()  # at stop: the last summary
    assert getattr(handler.records[-1], "unstall.dropped_stalls") == 1
    sink.flush()
    assert len(handler.records) == 7


def test_a_failing_handler_never_raises(logger: tuple[logging.Logger, Records]) -> None:
    log, _ = logger

    class Broken(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise RuntimeError("the log pipeline is down")

        def handleError(self, record: logging.LogRecord) -> None:
            raise RuntimeError("and so is stderr")

    log.addHandler(Broken())
    sink = EventLog(log)
    sink(stall())
    assert sink.errors == 1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        EventLog(rate=-1)
    with pytest.raises(ValueError, match="burst"):
        EventLog(burst=0)


def test_the_watcher_logs_each_stall_once_with_its_fields(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        await asyncio.sleep(0.02)
        time.sleep(0.25)
        await asyncio.sleep(0.02)

    with caplog.at_level("WARNING", logger="unstall"):
        w = watch(threshold_ms=100)
        asyncio.run(main())
        assert wait_until(lambda: w.stalls >= 1)
        w.stop()
    (record,) = [r for r in caplog.records if r.name == "unstall"]
    assert getattr(record, "unstall.cause") == "blocked"
    assert getattr(record, "unstall.route") == ""
    assert getattr(record, "unstall.rule") == "UNS101"
    assert getattr(record, "unstall.duration_s") == pytest.approx(w.events[0].duration, abs=1e-6)
