"""``unstall.map``: many items through an engine, in order, chunked, with a bounded window."""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Literal, NamedTuple, TypeVar

from unstall.offload._engine import Engine

__all__ = ("ChunkResult", "check_map_options", "map_items", "run_chunk")

T = TypeVar("T")
R = TypeVar("R")

TARGET_CHUNK_SECONDS = 0.010  # enough work per chunk to make a round trip negligible
MAX_CHUNK = 1 << 14


class ChunkResult(NamedTuple):
    """What a worker sends back for one chunk: the results in order, and the seconds they took."""

    results: list[Any]
    seconds: float


def run_chunk(fn: Callable[[Any], Any], items: list[Any]) -> ChunkResult:
    """Apply ``fn`` to each item in a worker; return the results and the seconds it took."""
    start = time.perf_counter()
    results = [fn(item) for item in items]
    return ChunkResult(results, time.perf_counter() - start)


def next_chunksize(per_item: float) -> int:
    """Items per chunk for about :data:`TARGET_CHUNK_SECONDS` of work at ``per_item`` seconds."""
    if per_item <= 0:
        return MAX_CHUNK
    return max(1, min(MAX_CHUNK, int(TARGET_CHUNK_SECONDS / per_item)))


def check_map_options(engine: str, chunksize: int | Literal["auto"], window: int | None) -> None:
    """Raise :class:`ValueError` for map options that cannot work, naming the fix."""
    if engine == "auto":
        raise ValueError(
            "unstall.map needs an explicit engine ('process' for CPU work, 'thread' for blocking "
            "calls); 'auto' decides per call, which does not fit a stream of chunks."
        )
    if chunksize != "auto" and (not isinstance(chunksize, int) or chunksize < 1):
        raise ValueError(f"chunksize must be a positive int or 'auto', got {chunksize!r}.")
    if window is not None and window < 1:
        raise ValueError(f"window must be at least 1 chunk, got {window!r}.")


async def map_items(
    engine: Engine,
    fn: Callable[[T], R],
    iterable: Iterable[T],
    *,
    chunksize: int | Literal["auto"],
    window: int | None,
    timeout: float | None,
) -> AsyncIterator[R]:
    """The stream behind :func:`unstall.map` (an async generator; see there).

    The options are checked by :func:`check_map_options` first. Chunks go out with
    ``cancel="kill"`` and, without a timeout, as a ``pipeline``. Closing the stream early
    cancels the chunks in flight; process workers still running one are terminated (and
    replaced on demand) rather than left computing unwanted results.
    """
    adaptive = chunksize == "auto"
    size = 1 if adaptive else int(chunksize)
    in_flight = window or 2 * engine.capacity
    # Each worker may get its next chunk before it finishes the current one.
    pipeline = timeout is None
    items = iter(iterable)
    pending: collections.deque[asyncio.Future[ChunkResult]] = collections.deque()
    per_item: float | None = None
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < in_flight:
                chunk = list(itertools.islice(items, size))
                if not chunk:
                    exhausted = True
                    break
                job = engine.run(
                    run_chunk,
                    (fn, chunk),
                    {},
                    timeout=timeout,
                    cancel="kill",
                    pipeline=pipeline,
                )
                pending.append(asyncio.ensure_future(job))
            if not pending:
                return
            results, elapsed = await pending.popleft()
            if adaptive and results:
                measured = elapsed / len(results)
                # Smooth, so one slow item does not collapse the chunk size.
                per_item = measured if per_item is None else 0.7 * per_item + 0.3 * measured
                size = next_chunksize(per_item)
            for result in results:
                yield result
    finally:
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
