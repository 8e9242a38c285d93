"""The debouncer: a burst of edits is checked once, opens and saves at once, one check at a time."""

from __future__ import annotations

import asyncio

from tests.loops import RunLoop
from tests.waiting import wait_for

from unstall.server._schedule import Debouncer


def test_a_burst_of_edits_is_one_call_after_the_quiet_time(run_loop: RunLoop) -> None:
    async def main() -> list[set[str]]:
        calls: list[set[str]] = []

        async def work(keys: set[str]) -> None:
            calls.append(keys)

        debouncer = Debouncer(work)
        for _ in range(5):
            debouncer.request("a", 0.2)
            await asyncio.sleep(0.01)
        debouncer.request("b", 0.2)
        assert calls == []
        assert await wait_for(lambda: calls)
        await asyncio.sleep(0.05)
        await debouncer.close()
        return calls

    assert run_loop(main()) == [{"a", "b"}]


def test_a_request_without_delay_is_not_put_off_by_edits(run_loop: RunLoop) -> None:
    async def main() -> list[set[str]]:
        calls: list[set[str]] = []

        async def work(keys: set[str]) -> None:
            calls.append(keys)

        debouncer = Debouncer(work)
        debouncer.request("opened")
        debouncer.request("edited", 30.0)
        assert await wait_for(lambda: calls, timeout=5.0)
        await debouncer.close()
        return calls

    assert run_loop(main()) == [{"opened", "edited"}]


def test_requests_during_a_call_are_the_next_call_and_errors_do_not_stop_it(
    run_loop: RunLoop,
) -> None:
    async def main() -> tuple[list[set[int]], list[BaseException]]:
        calls: list[set[int]] = []
        errors: list[BaseException] = []
        running = 0
        release = asyncio.Event()

        async def work(keys: set[int]) -> None:
            nonlocal running
            running += 1
            assert running == 1, "two calls at once"
            calls.append(keys)
            try:
                if 1 in keys:
                    await release.wait()
                if 4 in keys:
                    raise RuntimeError("broken")
            finally:
                running -= 1

        debouncer = Debouncer(work, errors.append)
        debouncer.request(1)
        assert await wait_for(lambda: calls)
        debouncer.request(2)
        debouncer.request(3)
        release.set()
        assert await wait_for(lambda: len(calls) == 2)
        debouncer.request(4)
        assert await wait_for(lambda: errors)
        debouncer.request(5)
        assert await wait_for(lambda: len(calls) == 4)
        await debouncer.close()
        debouncer.request(6)  # closed: ignored
        await asyncio.sleep(0.02)
        return calls, errors

    calls, errors = run_loop(main())
    assert calls == [{1}, {2, 3}, {4}, {5}]
    assert [str(error) for error in errors] == ["broken"]
