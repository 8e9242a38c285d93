"""Nested event loops (UNS305): what the blocking analysis found, told as what it is.

``asyncio.run``, ``loop.run_until_complete`` and ``loop.run_forever`` are catalog entries
reported under UNS305 (their ``rule``), so the blocking analysis already reaches them from
every ``async def``, through sync helpers, methods, constructors and modules; here their
message says what happens (it raises, or blocks the running loop) instead of "can block".
A ``concurrent.futures.Future.result()`` (UNS108) whose future comes from a call the catalog
marks ``loop-future`` (``asyncio.run_coroutine_threadsafe``) waits for the loop it blocks: a
deadlock, reported as UNS305 too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from unstall.catalog import AsyncRole
from unstall.check._async_calls import AsyncCalls
from unstall.check._model import Finding, Location

__all__ = ("NESTED_LOOP", "nested_loops")

NESTED_LOOP = "UNS305"
_RESULT = ".result"


def nested_loops(calls: AsyncCalls, blocking: Sequence[Finding]) -> list[Finding]:
    """``blocking`` with its nested event loops told as UNS305 findings."""
    project = calls.project
    by_path = {summary.path: index for index, summary in enumerate(project.summaries)}
    result: list[Finding] = []
    for finding in blocking:
        if finding.code == NESTED_LOOP:
            finding = _told(calls, finding, by_path, deadlock=False)
        elif (
            finding.entry is not None
            and finding.chain
            and _waits_on_loop(calls, finding.chain[-1].location, by_path)
        ):
            finding = _told(calls, finding, by_path, deadlock=True)
        result.append(finding)
    return result


def _waits_on_loop(calls: AsyncCalls, where: Location, by_path: dict[str, int]) -> bool:
    """Whether the blocking call at ``where`` is ``.result()`` of a future the running loop completes."""
    index = by_path.get(where.path)
    if index is None or where.end_line is None or where.end_col is None:
        return False
    span = (where.line, where.col, where.end_line, where.end_col)
    placed = calls.call_at(index, span)
    if placed is None or not placed.use.ref.endswith(_RESULT):
        return False
    receiver = placed.use.ref.removesuffix(_RESULT)
    if not receiver.endswith("()"):
        return False
    made = calls.project.resolve(receiver[:-2])
    return AsyncRole.LOOP_FUTURE in calls.roles(made)


def _told(
    calls: AsyncCalls, finding: Finding, by_path: dict[str, int], *, deadlock: bool
) -> Finding:
    index = by_path.get(finding.location.path)
    key = finding.function or "?"
    if index is not None and finding.function:
        key = finding.function.removeprefix(calls.project.summaries[index].module + ".")
    names = [step.name for step in finding.chain]
    chain = " → ".join(f"`{name}`" for name in names)
    if deadlock:
        what = (
            f"waits on the event loop's own thread for a coroutine that loop must run: {chain} "
            "never returns (a deadlock)."
        )
    else:
        entry = calls.catalog.lookup(finding.entry) if finding.entry else None
        why = f" {entry.why}" if entry is not None else ""
        what = f"runs a nested event loop on the loop's own thread: {chain}.{why}"
    return replace(finding, code=NESTED_LOOP, message=f"`{key}` {what}")
