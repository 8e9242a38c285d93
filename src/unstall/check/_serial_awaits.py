"""Independent awaits run one after another (UNS301): a suggestion, never a rewrite.

The per-file facts give the ``for`` loops of ``async def`` functions whose passes await calls
made with the loop's item and carry nothing from one pass to the next, and the runs of
consecutive awaits none of which uses another's result
(:mod:`unstall.check._concurrency_walk`). A loop is reported when what it awaits reaches a
network read (an HTTP GET of an async client, directly or through the project's own
``async def`` functions) and nothing in it, or around it, paces it (a sleep, a lock, a
semaphore, a rate limiter); a run, when two or more of its awaits in a row are such reads.
"""

from __future__ import annotations

from collections.abc import Iterator

from unstall.check._async_calls import PACED, SAFE, AsyncCalls, Placed
from unstall.check._concurrency_facts import CONSECUTIVE, LOOP, Fact
from unstall.check._model import ChainStep, Finding, Location

__all__ = ("SERIAL", "serial_awaits")

SERIAL = "UNS301"
_READS = frozenset({SAFE})
_FIX = (
    "start them together and await them once: `await asyncio.gather(*(...))`, or "
    "`tg.create_task(...)` in an `asyncio.TaskGroup` (an `asyncio.Semaphore` bounds them)"
)


def serial_awaits(calls: AsyncCalls) -> Iterator[Finding]:
    """Every UNS301 finding of the project."""
    for index, summary in enumerate(calls.project.summaries):
        for fact in summary.concurrency:
            if fact.kind == LOOP:
                found = _loop(calls, index, fact)
                if found is not None:
                    yield found
            elif fact.kind == CONSECUTIVE:
                yield from _run(calls, index, fact)


def _name(calls: AsyncCalls, placed: Placed) -> str:
    use = placed.use
    if use.func_text and "\n" not in use.func_text:
        return use.func_text
    value = calls.callee(placed)
    return value.name if value is not None else use.ref


def _finding(calls: AsyncCalls, index: int, placed: Placed, message: str) -> Finding:
    summary = calls.project.summaries[index]
    use = placed.use
    location = Location(summary.path, use.line, use.col, use.end_line, use.end_col)
    name = _name(calls, placed)
    return Finding(
        SERIAL,
        message,
        location,
        calls.project.qualified(index, placed.key),
        None,
        (ChainStep(name, location),),
        fix=_FIX,
    )


def _loop(calls: AsyncCalls, index: int, fact: Fact) -> Finding | None:
    placed = [p for span in fact.spans if (p := calls.call_at(index, span)) is not None]
    if not placed:
        return None
    reached = [calls.io(p) for p in placed]
    if any(found - _READS for found in reached) or not any(reached):
        return None  # other I/O, or pacing, in what a pass awaits
    info = calls.project.functions[index][placed[0].key]
    first, last = fact.lines
    if any(first <= use.line <= last and calls.paces(use) for use in info.uses):
        return None
    for span in fact.around:
        if any(calls.paces(item.use) for item in calls.at(index, span)):
            return None
        around = calls.call_at(index, span)
        if around is not None and PACED in calls.io(around):
            return None
    read = next(p for p, found in zip(placed, reached, strict=True) if found)
    return _finding(
        calls,
        index,
        read,
        f"`{read.key}` awaits `{_name(calls, read)}` in each pass of the `for` loop on line "
        f"{first}, one pass after another, and no pass needs another's result: the network "
        "reads could run together.",
    )


def _run(calls: AsyncCalls, index: int, fact: Fact) -> Iterator[Finding]:
    group: list[Placed] = []
    for span in [*fact.spans, None]:
        placed = calls.call_at(index, span) if span is not None else None
        if placed is not None and calls.io(placed) == _READS:
            group.append(placed)
            continue
        if len(group) > 1:
            names = ", ".join(f"`{_name(calls, p)}`" for p in group)
            yield _finding(
                calls,
                index,
                group[0],
                f"`{group[0].key}` awaits {len(group)} network reads one after another "
                f"({names}), and none needs another's result: they could run together.",
            )
        group = []
