"""unstall.map / map_list: input order, lazy consumption with a bounded window, chunking."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import offload_work as work
import pytest
from tests.loops import RunLoop

import unstall
from unstall.offload import Offloader
from unstall.offload._fake import InlineEngine
from unstall.offload._map import MAX_CHUNK, next_chunksize


def test_results_come_in_input_order(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(processes=2) as off:
            results = await off.map_list(work.square, range(2000), engine="process")
            assert results == [i * i for i in range(2000)]
            threaded = [r async for r in off.map(work.square, range(50), engine="thread")]
            assert threaded == [i * i for i in range(50)]

    run_loop(main())


def test_the_default_helpers(run_loop: RunLoop) -> None:
    async def main() -> None:
        assert await unstall.map_list(work.square, [1, 2, 3], engine="thread") == [1, 4, 9]
        assert [r async for r in unstall.map(work.square, [4], engine="thread")] == [16]

    run_loop(main())


def test_an_endless_generator_is_consumed_lazily(run_loop: RunLoop) -> None:
    pulled = [0]

    def endless() -> Iterator[int]:
        for i in itertools.count():
            pulled[0] += 1
            yield i

    async def main() -> None:
        async with Offloader(threads=2) as off:
            out = []
            async for result in off.map(
                work.square, endless(), engine="thread", chunksize=5, window=3
            ):
                out.append(result)
                if len(out) == 20:
                    break
            assert out == [i * i for i in range(20)]

    run_loop(main())
    # At most the window of chunks beyond what was consumed was pulled.
    assert pulled[0] <= 20 + 5 * 4


def test_chunks_adapt_to_measured_item_time(run_loop: RunLoop) -> None:
    async def main() -> None:
        inline = InlineEngine(capacity=2)
        async with Offloader(engines={"thread": inline}) as off:
            results = await off.map_list(work.busy_square, range(600), engine="thread")
            assert results == [i * i for i in range(600)]
        sizes = [len(args[1]) for _, args, _ in inline.calls]
        assert sum(sizes) == 600
        assert sizes[0] == 1  # the first chunk measures
        # ~0.1 ms per item -> tens of items per 10 ms chunk (margins for a loaded machine).
        assert max(sizes) >= 10
        assert len(sizes) < 100

    run_loop(main())


def test_fixed_chunksize_is_respected(run_loop: RunLoop) -> None:
    async def main() -> None:
        inline = InlineEngine(capacity=2)
        async with Offloader(engines={"thread": inline}) as off:
            assert await off.map_list(work.square, range(10), engine="thread", chunksize=4) == [
                i * i for i in range(10)
            ]
        assert [len(args[1]) for _, args, _ in inline.calls] == [4, 4, 2]

    run_loop(main())


def test_an_error_surfaces_in_order_and_stops_the_stream(run_loop: RunLoop) -> None:
    seen: list[int] = []

    async def consume(off: Offloader) -> None:
        async for result in off.map(work.fail_on, range(20), engine="thread", chunksize=2):
            seen.append(result)  # noqa: PERF401 - what was seen before the error matters

    async def main() -> list[int]:
        async with Offloader(threads=2) as off:
            with pytest.raises(work.WorkFailed, match="item 7"):
                await consume(off)
        return seen

    assert run_loop(main()) == list(range(6))


def test_bad_arguments_are_rejected(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader() as off:
            with pytest.raises(ValueError, match="chunksize"):
                await off.map_list(work.square, [1], engine="thread", chunksize=0)
            with pytest.raises(ValueError, match="window"):
                await off.map_list(work.square, [1], engine="thread", window=0)
            with pytest.raises(ValueError, match="explicit engine"):
                await off.map_list(work.square, [1], engine="auto")

    run_loop(main())


def test_next_chunksize() -> None:
    assert next_chunksize(0.0001) == 100
    assert next_chunksize(1.0) == 1
    assert next_chunksize(0.0) == MAX_CHUNK
    assert next_chunksize(1e-12) == MAX_CHUNK


def test_early_exit_cancels_chunks_in_flight(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(processes=2) as off:
            stream = off.map(work.sleep_then, [0.01] + [5.0] * 6, engine="process", chunksize=1)
            async for _ in stream:
                break
            await stream.aclose()  # type: ignore[attr-defined]
            # The workers stuck in 5 s chunks were terminated, not waited for.
            assert off.stats().engines["process"]["running"] == 0
            started = asyncio.get_running_loop().time()
            assert await off.run(work.add, (1, 1), engine="process") == 2
            assert asyncio.get_running_loop().time() - started < 3

    run_loop(main())
