"""What the concurrency rules need of one file, kept in its summary (``ModuleSummary.concurrency``).

A :class:`Fact` is a place in the source that one of the UNS3xx rules may report, found by
the syntax alone (:mod:`unstall.check._concurrency_walk`): a call whose result is thrown
away, a local that holds a call's result and is never read, a ``with`` statement, a resource
opened into a local, a loop of awaits. Facts name calls by their span, the same span as the
call's :class:`~unstall.check._summary_types.Use`, so the analysis
(:mod:`unstall.check._concurrency`) learns what each call is from the use's resolved
reference without resolving names twice.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = (
    "CONSECUTIVE",
    "DROPPED",
    "IN_ASYNC",
    "LOOP",
    "OWN_LINES",
    "RESOURCE",
    "RETURNED",
    "SYNC_WITH",
    "TASK_TAKEN",
    "UNUSED",
    "Fact",
    "Span",
)

# Fact kinds.
DROPPED = 0  # a call on its own as a statement: its result is thrown away
UNUSED = 1  # ``name = call()`` where the local ``name`` is never read
RETURNED = 2  # ``return call()`` (or a local holding it that is only returned)
SYNC_WITH = 3  # an item of a plain ``with`` statement
RESOURCE = 4  # ``name = [await] call()`` into a local that is only closed or read, never passed on
LOOP = 5  # a ``for`` loop in an ``async def`` awaiting calls made with its item, no pass depending on another
CONSECUTIVE = (
    6  # consecutive statements of an ``async def`` awaiting calls, none using another's result
)

# Fact flags.
IN_ASYNC = 1  # directly in the body of an ``async def`` (``await`` may be written there)
OWN_LINES = 2  # the statement has its lines to itself, indented by spaces (a fix may add lines)
TASK_TAKEN = 4  # the function already uses the name ``task`` (a fix may not bind it)

# A call's place: (line, col, end line, end col), as ``ast`` gives them.
Span = tuple[int, int, int, int]


class Fact(NamedTuple):
    """One place a concurrency rule may report.

    ``span`` is the call it is about (for ``SYNC_WITH`` the item's expression; for ``LOOP``
    and ``CONSECUTIVE`` the first awaited call). ``name`` is the local that holds the
    result (``UNUSED``, ``RESOURCE``: several, comma-separated, for a tuple target) or the
    callee's source text when it is a dotted name (``DROPPED``: ``self._loop.create_task``). ``at`` is the
    start of the statement (where a fix writes ``await``, ``async`` or lines before it).
    ``spans`` are the other calls it concerns: every item of a ``with``, the awaited calls of
    a loop or a run. ``methods`` are, for a ``RESOURCE``, the methods called on it, each with
    whether that call surely runs (in a ``finally:`` or ``except`` block, or with no
    ``await`` between the opening and it). For a ``LOOP``, ``lines`` are its first and last
    line and ``around`` the items of the ``async with`` statements that hold it.
    """

    kind: int
    span: Span
    flags: int = 0
    name: str = ""
    at: tuple[int, int] = (0, 0)
    spans: tuple[Span, ...] = ()
    methods: tuple[tuple[str, bool], ...] = ()
    lines: tuple[int, int] = (0, 0)
    around: tuple[Span, ...] = ()
