"""The loop start-up hook: run_forever wrapped so a loop is attached while it runs, then restored."""

from __future__ import annotations

import asyncio
import sys
import types
from typing import Any

import pytest

from unstall.watch._patch import RunForeverPatch


class _Loop:
    def run_forever(self) -> str:
        return "ran"


class _Failing:
    def run_forever(self) -> None:
        raise RuntimeError("the loop broke")


def _recording(attached: object = "state") -> tuple[RunForeverPatch, list[tuple[str, object]]]:
    calls: list[tuple[str, object]] = []

    def attach(loop: Any) -> Any:
        calls.append(("attach", loop))
        return attached

    def detach(state: Any) -> None:
        calls.append(("detach", state))

    return RunForeverPatch(attach, detach), calls


def test_a_loop_is_attached_while_run_forever_runs_and_detached_after() -> None:
    patch, calls = _recording()
    original = _Loop.run_forever
    patch.patch(_Loop)
    try:
        assert _Loop.run_forever is not original
        assert _Loop.run_forever.__wrapped__ is original  # type: ignore[attr-defined]
        loop = _Loop()
        assert loop.run_forever() == "ran"
        assert calls == [("attach", loop), ("detach", "state")]
    finally:
        patch.restore()
    assert _Loop.run_forever is original


def test_a_loop_that_raises_is_detached_and_one_not_attached_is_not() -> None:
    patch, calls = _recording()
    patch.patch(_Failing)
    try:
        with pytest.raises(RuntimeError, match="the loop broke"):
            _Failing().run_forever()
        assert [name for name, _ in calls] == ["attach", "detach"]
    finally:
        patch.restore()
    unattached, calls = _recording(attached=None)
    unattached.patch(_Loop)
    try:
        _Loop().run_forever()
        assert [name for name, _ in calls] == ["attach"]
    finally:
        unattached.restore()


def test_a_class_is_wrapped_once_and_a_later_wrapper_of_someone_else_stays() -> None:
    patch, _ = _recording()
    original = _Loop.run_forever
    patch.patch(_Loop)
    ours = _Loop.run_forever
    patch.patch(_Loop)
    assert _Loop.run_forever is ours

    def theirs(self: _Loop) -> str:
        return ours(self)

    _Loop.run_forever = theirs  # type: ignore[method-assign]
    try:
        patch.restore()
        assert _Loop.run_forever is theirs
    finally:
        _Loop.run_forever = original  # type: ignore[method-assign]


def test_uvloop_is_wrapped_once_it_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    patch, calls = _recording()
    monkeypatch.delitem(sys.modules, "uvloop", raising=False)
    assert not patch.patch_uvloop()
    fake: Any = types.ModuleType("uvloop")
    fake.Loop = type("Loop", (_Loop,), {"run_forever": lambda self: "uv"})
    monkeypatch.setitem(sys.modules, "uvloop", fake)
    original = fake.Loop.run_forever
    assert patch.patch_uvloop()
    assert not patch.patch_uvloop()
    assert fake.Loop().run_forever() == "uv"
    assert [name for name, _ in calls] == ["attach", "detach"]
    patch.restore()
    assert fake.Loop.run_forever is original


def test_a_real_loop_run_goes_through_the_wrapper() -> None:
    patch, calls = _recording()
    patch.patch(asyncio.base_events.BaseEventLoop)
    try:
        asyncio.run(asyncio.sleep(0))
    finally:
        patch.restore()
    assert calls[0][0] == "attach"
    assert all(
        isinstance(loop, asyncio.AbstractEventLoop) for name, loop in calls if name == "attach"
    )
    assert "run_forever" in vars(asyncio.base_events.BaseEventLoop)
    assert not hasattr(asyncio.base_events.BaseEventLoop.run_forever, "__wrapped__")
