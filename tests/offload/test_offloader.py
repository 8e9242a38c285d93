"""Offloader: engines by name, the in-process fake, lifetime, the default, a light import."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import offload_work as work
import pytest
from tests.loops import RunLoop
from tests.waiting import wait_for

import unstall
from unstall.errors import OffloaderClosed, OffloadError
from unstall.offload import Engine, Limiter, Offloader, get_default
from unstall.offload._fake import InlineEngine


def test_engines_are_loaded_by_name_and_unknown_names_are_rejected() -> None:
    off = Offloader()
    engine = off.engine("inline")
    assert isinstance(engine, Engine)
    assert off.engine("inline") is engine
    with pytest.raises(OffloadError, match="'warp'") as info:
        off.engine("warp")
    assert "'thread'" in str(info.value)
    with pytest.raises(OffloadError, match="'warp'"):
        Offloader(engine_options={"warp": {}})
    off.close_now()


def test_the_inline_fake_runs_calls_and_records_them(run_loop: RunLoop) -> None:
    async def main() -> None:
        inline = InlineEngine()
        async with Offloader(engines={"process": inline}) as off:
            assert await off.to_process(work.add, 1, b=2) == 3
            assert inline.calls == [(work.add, (1,), {"b": 2})]
        assert inline.closed

    run_loop(main())


def test_a_closed_offloader_refuses_work(run_loop: RunLoop) -> None:
    async def main() -> None:
        off = Offloader()
        await off.close()
        assert off.closed
        assert off.stats().closed
        with pytest.raises(OffloaderClosed):
            await off.to_thread(work.add, 1)
        with pytest.raises(OffloaderClosed):
            await off.run(work.add, (1,), engine="process")
        with pytest.raises(OffloaderClosed):
            off.engine("thread")

    run_loop(main())


def test_cancel_mode_is_validated(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader() as off:
            with pytest.raises(ValueError, match="'later'"):
                await off.run(work.add, (1,), cancel="later")  # type: ignore[arg-type]

    run_loop(main())


def test_the_default_offloader_is_shared_and_replaced_after_close(run_loop: RunLoop) -> None:
    first = get_default()
    assert get_default() is first

    async def main() -> None:
        assert await unstall.to_thread(work.add, 1, 1) == 2

    run_loop(main())
    first.close_now()
    second = get_default()
    assert second is not first
    run_loop(main())


def test_limiter_hands_slots_over_in_order(run_loop: RunLoop) -> None:
    async def main() -> list[int]:
        limiter = Limiter(1)
        order: list[int] = []
        assert limiter.try_acquire()

        async def waiter(i: int) -> None:
            await limiter.acquire()
            order.append(i)
            limiter.release()

        tasks = [asyncio.create_task(waiter(i)) for i in range(3)]
        assert await wait_for(lambda: limiter.waiting == 3)
        tasks[1].cancel()
        limiter.release()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert limiter.in_use == 0
        return order

    assert run_loop(main()) == [0, 2]
    with pytest.raises(ValueError, match="at least 1"):
        Limiter(0)


def test_importing_offload_stays_light() -> None:
    code = (
        "import sys, unstall.offload; "
        "heavy = [m for m in ('multiprocessing', 'distributed', 'dask') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_an_engine_that_cannot_load_here_is_unavailable() -> None:
    # As on a platform without fcntl: the process engine's module cannot be imported.
    code = (
        "import sys; sys.modules['fcntl'] = None\n"
        "from unstall.offload import Offloader\n"
        "from unstall.errors import EngineUnavailable\n"
        "try:\n"
        "    Offloader().engine('process')\n"
        "except EngineUnavailable as exc:\n"
        "    print(exc.engine, exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.startswith("process "), out.stderr
    assert "engine='thread'" in out.stdout
