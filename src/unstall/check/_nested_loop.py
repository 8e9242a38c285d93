"""Nested event loops (UNS305): what the blocking analysis found, told as what it is.

``asyncio.run``, ``loop.run_until_complete`` and ``loop.run_forever`` are catalog entries
reported under UNS305 (their ``rule``), so the blocking analysis already reaches them from
every ``async def``, through sync helpers, methods, constructors and modules; here their
message says what happens (it raises, or blocks the running loop) instead of "can block".
A ``concurrent.futures.Future.result()`` (UNS108) whose future comes from a call the catalog
marks ``loop-future`` (``asyncio.run_coroutine_threadsafe``) made for the running loop waits
for the loop it blocks: a deadlock, reported as UNS305 too. The loop passed must be provably
the running one: a ``running-loop`` call (``asyncio.get_running_loop()``), a name bound to one,
or an attribute every assignment of which is one. A loop from anywhere else (a parameter, a
loop another thread made and runs) may be another thread's, where waiting only blocks for a
while: that stays the blocking wait (UNS108) it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from unstall.catalog import AsyncRole
from unstall.check._async_calls import AsyncCalls, Placed
from unstall.check._model import Finding, Location
from unstall.check._resolve import ValueKind
from unstall.check._summary_types import CALL, Use

__all__ = ("NESTED_LOOP", "nested_loops")

NESTED_LOOP = "UNS305"
_RESULT = ".result"
# How many attribute assignments are followed to a loop's origin.
_DEPTH = 6


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
    if AsyncRole.LOOP_FUTURE not in calls.roles(made):
        return False
    return _for_running_loop(calls, placed)


def _for_running_loop(calls: AsyncCalls, placed: Placed) -> bool:
    """Whether every loop future the function of ``placed`` makes up to its line is made for
    the loop running on this thread (and there is one)."""
    project = calls.project
    uses = project.functions[placed.summary][placed.key].uses
    made = [
        index
        for index, use in enumerate(uses)
        if use.kind == CALL
        and use.line <= placed.use.line
        and AsyncRole.LOOP_FUTURE in calls.roles(project.resolve(use.ref))
    ]
    return bool(made) and all(_loop_is_running(calls, uses, index) for index in made)


def _loop_is_running(calls: AsyncCalls, uses: tuple[Use, ...], index: int) -> bool:
    """Whether the loop argument of the loop-future call ``uses[index]`` is the running loop."""
    arguments = dict(uses[index].keywords)
    passed = arguments.get("loop", arguments.get("@1"))
    if isinstance(passed, frozenset):  # a name or an attribute
        return bool(passed) and all(_running(calls, ref, _DEPTH) for ref in passed)
    # A call in the arguments (``asyncio.get_running_loop()``): a coroutine is never one.
    return any(
        use.parent == index and use.kind == CALL and _running(calls, f"{use.ref}()", _DEPTH)
        for use in uses
    )


def _running(calls: AsyncCalls, ref: str, depth: int) -> bool:
    """Whether the reference ``ref`` is the running loop: a ``running-loop`` call's result, or
    an attribute of a project instance that every assignment gives one."""
    project = calls.project
    if ref.endswith("()"):
        return AsyncRole.RUNNING_LOOP in calls.roles(project.resolve(ref[:-2]))
    owner_ref, _, name = ref.rpartition(".")
    owner = project.resolve(owner_ref) if owner_ref and depth else None
    if owner is None or owner.kind is not ValueKind.INSTANCE:
        return False
    info = project.classes[owner.summary].get(owner.name)
    held = (
        next((value for attribute, value in info.attributes if attribute == name), "")
        if info
        else ""
    )
    return bool(held) and _running(calls, held, depth - 1)


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
