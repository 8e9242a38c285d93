"""asyncio mistakes seen at run time, on asyncio and uvloop: tasks lost, coroutines never
awaited, resources collected open; each with the line that made it, and nothing changed for
the host (its exception handler and warnings still run)."""

from __future__ import annotations

import asyncio
import gc
import sys
import warnings
from typing import Any

import pytest
from tests.loops import RunLoop

from unstall.watch import Watcher
from unstall.watch._hygiene import Hygiene, HygieneEvent

HERE = __file__


def line_of(marker: str) -> int:
    with open(HERE, encoding="utf-8") as source:
        return next(number for number, line in enumerate(source, 1) if f"# {marker}" in line)


async def _sleeps() -> None:
    await asyncio.sleep(3600)


async def _fails() -> None:
    raise ValueError("nobody looks")


def _kinds(watcher: Watcher) -> list[tuple[str, str, int | None]]:
    return [(e.kind, e.code, e.where.lineno if e.where else None) for e in watcher.hygiene]


def test_a_coroutine_never_awaited_is_reported_with_the_line_that_called_it(
    run_loop: RunLoop,
) -> None:
    async def main() -> None:
        _sleeps()  # type: ignore[unused-coroutine]  # NEVER AWAITED
        gc.collect()

    with Watcher(log=False) as watcher, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        run_loop(main())
    assert ("coroutine never awaited", "UNS303", line_of("NEVER AWAITED")) in _kinds(watcher)
    # Python's own warning still comes
    assert any("was never awaited" in str(item.message) for item in seen)


def test_a_task_exception_never_retrieved_is_reported_with_the_line_that_created_it(
    run_loop: RunLoop,
) -> None:
    handled: list[dict[str, Any]] = []
    loop = run_loop.new_loop()
    loop.set_exception_handler(lambda loop, ctx: handled.append(ctx))

    async def main() -> None:
        task = asyncio.create_task(_fails())  # CREATED
        await asyncio.sleep(0.01)
        del task
        gc.collect()

    with Watcher(log=False) as watcher:
        loop.run_until_complete(main())
        loop.close()
    events = [e for e in watcher.hygiene if e.kind == "task exception never retrieved"]
    assert events
    assert events[0].code == "UNS302"
    assert events[0].where is not None
    assert events[0].where.lineno == line_of("CREATED")
    assert "ValueError: nobody looks" in events[0].name
    # the host's handler saw it as before
    assert any("exception" in ctx for ctx in handled)


def test_a_task_destroyed_while_pending_is_reported(run_loop: RunLoop) -> None:
    loop = run_loop.new_loop()
    handled: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda loop, ctx: handled.append(ctx))

    async def main() -> None:
        loop.create_task(_sleeps())  # PENDING

    with Watcher(log=False) as watcher:
        loop.run_until_complete(main())
        loop.close()
        gc.collect()
    assert ("task destroyed while pending", "UNS302", line_of("PENDING")) in _kinds(watcher)
    assert any("destroyed" in str(ctx.get("message")) for ctx in handled)  # the host's handler ran


def test_a_task_library_code_makes_in_a_callback_is_not_blamed_on_the_program(
    run_loop: RunLoop,
) -> None:
    loop = run_loop.new_loop()
    loop.set_exception_handler(lambda loop, ctx: None)
    # A library's callback that starts a task (its code lives in an installed package).
    namespace: dict[str, Any] = {}
    library = "/usr/lib/python3/site-packages/somelib/protocol.py"
    exec(
        compile("def on_data(loop, coro):\n    loop.create_task(coro)\n", library, "exec"),
        namespace,
    )

    async def main() -> None:
        loop.call_soon(namespace["on_data"], loop, _sleeps())
        await asyncio.sleep(0)

    with Watcher(log=False) as watcher:
        loop.run_until_complete(main())  # PROGRAM
        loop.close()
        gc.collect()
    kinds = _kinds(watcher)
    # Below the callback lie the loop and the program that started it: no line of theirs.
    assert ("task destroyed while pending", "UNS302", None) in kinds
    assert all(line != line_of("PROGRAM") for _, _, line in kinds)


def test_many_tasks_made_at_one_line_are_all_reported_with_it(run_loop: RunLoop) -> None:
    # Past the first tasks of a coroutine function, only one in so many is walked for its
    # line: the others get the line its tasks were seen made at, when there is one.
    loop = run_loop.new_loop()
    loop.set_exception_handler(lambda loop, ctx: None)

    async def main() -> None:
        for _ in range(200):
            loop.create_task(_sleeps())  # MANY

    with Watcher(log=False, max_events=1000) as watcher:
        loop.run_until_complete(main())
        loop.close()
        gc.collect()
    kinds = _kinds(watcher)
    assert len(kinds) == 200
    assert set(kinds) == {("task destroyed while pending", "UNS302", line_of("MANY"))}


async def _quick() -> None:
    return None


def test_the_task_factory_steps_aside_while_tasks_come_from_known_functions(
    run_loop: RunLoop,
) -> None:
    # A task factory is a Python call per task: once tasks only come from coroutine functions
    # already looked at, it steps aside, and the heartbeat puts it back a second later, in time
    # to note the line of a task made from a new function.
    loop = run_loop.new_loop()
    loop.set_exception_handler(lambda loop, ctx: None)
    factories: list[object] = []

    async def main() -> None:
        factories.append(loop.get_task_factory())
        for _ in range(400):
            await loop.create_task(_quick())
        factories.append(loop.get_task_factory())
        await asyncio.sleep(1.3)
        factories.append(loop.get_task_factory())
        loop.create_task(_sleeps())  # AFTER REST

    with Watcher(log=False) as watcher:
        loop.run_until_complete(main())
        loop.close()
        gc.collect()
    ours, resting, back = factories
    assert ours is not None
    assert resting is None  # the loop's own way of making tasks, untouched
    assert back is ours
    assert ("task destroyed while pending", "UNS302", line_of("AFTER REST")) in _kinds(watcher)


def test_a_host_factory_set_while_the_watcher_rests_keeps_making_the_tasks(
    run_loop: RunLoop,
) -> None:
    made: list[str] = []  # names only: a task kept here would never be destroyed

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        made.append(coro.__qualname__)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop = run_loop.new_loop()
    loop.set_exception_handler(lambda loop, ctx: None)

    async def main() -> None:
        for _ in range(400):
            await loop.create_task(_quick())
        loop.set_task_factory(factory)  # while the watcher's factory rests
        await asyncio.sleep(1.3)
        assert loop.get_task_factory() is not factory  # in front of it again
        await loop.create_task(_quick())
        loop.create_task(_sleeps())  # IN FRONT OF THE HOST'S

    with Watcher(log=False) as watcher:
        loop.run_until_complete(main())
        loop.close()
        gc.collect()
    assert loop.get_task_factory() is factory  # put back at stop
    assert made == ["_quick", "_sleeps"]  # the host's factory made both tasks
    assert ("task destroyed while pending", "UNS302", line_of("IN FRONT OF THE HOST'S")) in (
        _kinds(watcher)
    )


def test_hygiene_counts_in_the_report_and_goes_to_sinks(run_loop: RunLoop) -> None:
    sunk: list[object] = []

    async def main() -> None:
        _sleeps()  # type: ignore[unused-coroutine]
        gc.collect()

    with Watcher(log=False, sinks=[sunk.append]) as watcher, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_loop(main())
    report = watcher.report()
    assert [e.kind for e in report.hygiene] == ["coroutine never awaited"]
    assert "asyncio mistakes (1):" in report.render_text()
    assert "1x coroutine never awaited [UNS303]: " in report.render_text()
    assert any(isinstance(item, HygieneEvent) for item in sunk)
    assert report.to_dict()["hygiene"][0]["code"] == "UNS303"


def test_off_and_after_stop_nothing_is_hooked(run_loop: RunLoop) -> None:
    original = warnings._warn_unawaited_coroutine  # type: ignore[attr-defined]
    depth = sys.get_coroutine_origin_tracking_depth()

    async def main() -> None:
        _sleeps()  # type: ignore[unused-coroutine]
        gc.collect()

    with Watcher(log=False, hygiene=False) as watcher, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_loop(main())
        assert warnings._warn_unawaited_coroutine is original  # type: ignore[attr-defined]
    assert list(watcher.hygiene) == []
    with Watcher(log=False) as watcher:
        assert warnings._warn_unawaited_coroutine is not original  # type: ignore[attr-defined]
        run_loop(asyncio.sleep(0))
    assert warnings._warn_unawaited_coroutine is original  # type: ignore[attr-defined]
    assert sys.get_coroutine_origin_tracking_depth() == depth  # never changed


def test_a_task_factory_of_the_host_still_makes_the_tasks(run_loop: RunLoop) -> None:
    made: list[asyncio.Task[Any]] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=loop, **kwargs)
        made.append(task)
        return task

    loop = run_loop.new_loop()
    loop.set_task_factory(factory)

    async def main() -> None:
        await asyncio.create_task(asyncio.sleep(0))

    with Watcher(log=False):
        loop.run_until_complete(main())
    assert loop.get_task_factory() is factory  # put back at stop
    loop.close()
    assert len(made) == 2  # main and the task it created


def test_a_failing_sink_or_hook_never_reaches_the_host(run_loop: RunLoop) -> None:
    def broken(event: HygieneEvent) -> None:
        raise RuntimeError("sink is broken")

    hygiene = Hygiene(broken)
    hygiene.start()
    try:

        async def main() -> None:
            hygiene.attach(asyncio.get_running_loop())
            _sleeps()  # type: ignore[unused-coroutine]
            gc.collect()
            task = asyncio.create_task(_fails())
            await asyncio.sleep(0.01)
            del task
            gc.collect()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_loop(main())
    finally:
        hygiene.stop()


@pytest.mark.parametrize("kind", ["asyncio"])
def test_an_unclosed_transport_is_reported(kind: str) -> None:
    async def main() -> None:
        # plain protocols: a stream writer closes its transport when collected (3.13), and
        # the peer's close would end this one's connection; these stay open until the loop
        # closes and they are collected, never closed
        loop = asyncio.get_running_loop()
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        server.close()

    with Watcher(log=False) as watcher, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asyncio.run(main())
        gc.collect()
    assert any(e.kind == "resource never closed" and e.code == "UNS304" for e in watcher.hygiene)


def test_a_handler_the_host_sets_later_does_not_hide_mistakes_on_asyncio() -> None:
    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: None)
        task = asyncio.create_task(_fails())
        await asyncio.sleep(0.01)
        del task
        gc.collect()

    with Watcher(log=False) as watcher:
        asyncio.run(main())
    assert [e.kind for e in watcher.hygiene] == ["task exception never retrieved"]
