"""The hook dispatches through the subscriber protocol only: any object with its hooks is served."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from unstall.errors import BlockingCallError
from unstall.watch import _tripwire_hook as hook
from unstall.watch._tripwire_subscriber import Subscriber


class Recorder:
    """A subscriber that wants the ``open`` audit event and reports every call it sees."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.refuse = refuse
        self.calls: list[tuple[str, Any]] = []

    def wants_event(self, event: str) -> bool:
        return event == "open"

    def wants_wrapper(self, name: str) -> bool:
        return False

    def judge(
        self,
        event: str | None,
        name: str | None,
        args: tuple[Any, ...],
        frame: FrameType,
        user: FrameType | None,
        under: FrameType | None,
    ) -> tuple[str, str] | None:
        if event != "open" or user is None or not str(args[0]).endswith("data.txt"):
            return None
        hit = ("hit", user.f_code.co_name)
        self.calls.append(("judge", hit))
        return hit

    def before_call(self, hit: tuple[str, str]) -> None:
        self.calls.append(("before", hit))
        if self.refuse:
            raise BlockingCallError("refused by the subscriber", code="UNS000", name="open")

    def after_call(self, hit: tuple[str, str], duration: float | None) -> None:
        self.calls.append(("after", (hit, duration)))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_text("x")
    return path


@contextlib.contextmanager
def _subscribed(subscriber: Subscriber[Any]) -> Iterator[None]:
    hook.activate(subscriber)
    try:
        yield
    finally:
        hook.deactivate(subscriber)


def test_a_caught_call_is_judged_then_acted_on_then_timed(data: Path) -> None:
    recorder = Recorder()

    async def main() -> None:
        with open(data) as f:
            f.read()

    with _subscribed(recorder):
        asyncio.run(main())
    kinds = [kind for kind, _ in recorder.calls]
    assert kinds == ["judge", "before", "after"]
    hit = recorder.calls[0][1]
    assert hit == ("hit", "main")
    assert recorder.calls[1][1] is hit  # the subscriber's own record, handed back untouched
    returned, duration = recorder.calls[2][1]
    assert returned is hit
    assert duration is not None
    assert duration >= 0


def test_a_blocking_call_error_from_before_call_stops_the_call(data: Path) -> None:
    recorder = Recorder(refuse=True)

    async def main() -> None:
        with pytest.raises(BlockingCallError, match="refused"), open(data):
            pass

    with _subscribed(recorder):
        asyncio.run(main())
    assert [kind for kind, _ in recorder.calls] == ["judge", "before"]


def test_off_the_loop_and_after_deactivate_nothing_is_dispatched(data: Path) -> None:
    recorder = Recorder()
    with _subscribed(recorder):
        data.read_text()  # no running loop on this thread
    assert recorder.calls == []

    async def main() -> None:
        data.read_text()

    asyncio.run(main())
    assert recorder.calls == []
