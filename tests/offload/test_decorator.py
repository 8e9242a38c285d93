"""@unstall.offload(...): the sync function stays sync; .aio() runs it off the loop."""

from __future__ import annotations

import asyncio
import os
import pickle
import threading
import time

import offload_work as work
import pytest
from tests.loops import RunLoop

import unstall
from unstall.offload import OffloadedFunction, Offloader, offload
from unstall.offload._fake import InlineEngine

_lock = threading.Lock()
_active = [0]
_peak = [0]


@offload(engine="thread", limit=2)
def limited(seconds: float) -> int:
    with _lock:
        _active[0] += 1
        _peak[0] = max(_peak[0], _active[0])
    time.sleep(seconds)
    with _lock:
        _active[0] -= 1
    return threading.get_ident()


@unstall.offload(engine="process")  # type: ignore[operator, untyped-decorator]
def pid_plus(n: int) -> int:
    return os.getpid() + n


@offload
def plain(x: int) -> int:
    return x * 2


@offload(engine="process", timeout=0.3)
def too_slow() -> None:
    time.sleep(10)


def test_the_module_is_callable_as_a_decorator_factory() -> None:
    assert isinstance(limited, OffloadedFunction)
    assert isinstance(plain, OffloadedFunction)
    assert limited.__name__ == "limited"
    assert limited.__doc__ is None
    assert plain.engine == "thread"
    assert "engine='process'" in repr(pid_plus)


def test_calling_it_stays_a_plain_sync_call() -> None:
    assert plain(21) == 42
    assert limited(0) == threading.get_ident()
    assert pid_plus(0) == os.getpid()


def test_aio_runs_on_the_engine(run_loop: RunLoop) -> None:
    async def main() -> None:
        assert await plain.aio(4) == 8
        assert await limited.aio(0) != threading.get_ident()
        assert await pid_plus.aio(0) != os.getpid()

    run_loop(main())


def test_per_function_limit(run_loop: RunLoop) -> None:
    _peak[0] = 0

    async def main() -> None:
        await asyncio.gather(*(limited.aio(0.05) for _ in range(6)))

    run_loop(main())
    assert _peak[0] == 2


def test_timeout_from_the_decorator(run_loop: RunLoop) -> None:
    async def main() -> None:
        with pytest.raises(TimeoutError):
            await too_slow.aio()

    run_loop(main())


def test_decorated_functions_pickle_by_reference() -> None:
    assert pickle.loads(pickle.dumps(pid_plus)) is pid_plus


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="'warp'"):
        offload(engine="warp")(work.add)
    with pytest.raises(ValueError, match="cancel"):
        offload(cancel="later")(work.add)  # type: ignore[call-overload]


def test_a_given_offloader_is_used(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(engines={"thread": _inline()}) as off:
            doubled = offload(engine="thread", offloader=off)(work.square)
            assert await doubled.aio(7) == 49
            assert off.engine("thread").calls == [(doubled, (7,), {})]  # type: ignore[attr-defined]
            # Not bound to a module attribute, it travels to a process as the plain function.
            assert pickle.loads(pickle.dumps(doubled)) is work.square

    run_loop(main())


def _inline() -> InlineEngine:
    return InlineEngine()
