"""The ``[[async]]`` rows of the catalog: what the concurrency rules know of asyncio and async libraries.

Each row names one callable or type and its :class:`AsyncRole`: it returns a task that is
already scheduled, a coroutine that does nothing until awaited, an async resource that must
be closed, an async-only context manager, network I/O that independent callers may overlap,
something that paces a loop on purpose (a sleep, a lock, a limiter), a future the running
loop completes, the running loop itself, or a decorator that keeps a coroutine function one.
The concurrency analysis (``unstall.check._concurrency``) reads only this table; no rule keeps
a list of names of its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from unstall.catalog._rows import is_qualified, row_name
from unstall.errors import CatalogError

__all__ = ("AsyncApi", "AsyncRole", "async_api_from_table")


class AsyncRole(enum.Enum):
    """What a row's callable or type means to the concurrency rules."""

    # Returns a task (or future) already scheduled: a caller that drops it loses its result,
    # its exception, and (the loop keeps only a weak reference) maybe the task itself.
    TASK = "task"
    # Returns a coroutine or another awaitable that does nothing until it is awaited.
    COROUTINE = "coroutine"
    # Opens an async resource (a client session, a connection) that must be closed.
    RESOURCE = "resource"
    # An async-only context manager type: a plain ``with`` raises.
    ASYNC_CONTEXT = "async-context"
    # Waits on the network; independent calls may overlap (``safe``: an HTTP read).
    IO = "io"
    # A sleep, lock, semaphore or limiter: a loop that awaits one is paced on purpose.
    PACING = "pacing"
    # Returns a concurrent future the running loop completes: waiting on it there deadlocks.
    LOOP_FUTURE = "loop-future"
    # Returns the loop running on the calling thread (``get_event_loop``: when one runs): a
    # ``LOOP_FUTURE`` made for it and waited on there never completes. Any other loop may be
    # one that another thread runs.
    RUNNING_LOOP = "running-loop"
    # A decorator that returns what it decorates: an ``async def`` stays a coroutine function.
    KEEPS = "keeps"


@dataclass(frozen=True, slots=True)
class AsyncApi:
    """One ``[[async]]`` row.

    ``name`` is the qualified name (a method through its class) and ``aliases`` other names
    of the same thing. ``close`` names the methods that release a ``RESOURCE``;
    ``receiver`` lets a method be recognised by its last name on a receiver whose type
    cannot be told, when the receiver's source text ends with it (``loop`` for
    ``self._loop.create_task``). ``safe`` marks ``IO`` that only reads (an HTTP GET), which
    may be reordered.
    """

    name: str
    role: AsyncRole
    aliases: tuple[str, ...] = ()
    close: tuple[str, ...] = ()
    receiver: str | None = None
    safe: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """The qualified name followed by every alias."""
        return (self.name, *self.aliases)


_KEYS = frozenset({"name", "role", "aliases", "close", "receiver", "safe"})


def _names(value: object, key: str, name: str, source: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(is_qualified(item) for item in items):
        raise CatalogError(
            f"The [[async]] row {name!r} in {source} has {key} = {value!r}; it must be a dotted name or a list of them.",
            entry=name,
        )
    return tuple(items)


def async_api_from_table(table: Any, source: str) -> AsyncApi:
    """Build an :class:`AsyncApi` from one ``[[async]]`` row; raise :class:`CatalogError`."""
    name = row_name(table, source, "async", _KEYS, example="asyncio.create_task")
    try:
        role = AsyncRole(table.get("role"))
    except ValueError:
        raise CatalogError(
            f"The [[async]] row {name!r} in {source} has role {table.get('role')!r}; valid roles are {', '.join(r.value for r in AsyncRole)}.",
            entry=name,
        ) from None
    close = _names(table.get("close", []), "close", name, source)
    if (role is AsyncRole.RESOURCE) != bool(close):
        raise CatalogError(
            f"The [[async]] row {name!r} in {source} has close = {list(close)!r}; a resource row names the methods that close it, and only a resource row does.",
            entry=name,
        )
    receiver = table.get("receiver")
    if receiver is not None and not (isinstance(receiver, str) and receiver.isidentifier()):
        raise CatalogError(
            f"The [[async]] row {name!r} in {source} has receiver = {receiver!r}; it must be a name such as 'loop'.",
            entry=name,
        )
    safe = table.get("safe", False)
    if not isinstance(safe, bool) or (safe and role is not AsyncRole.IO):
        raise CatalogError(
            f"The [[async]] row {name!r} in {source} has safe = {safe!r}; it must be true or false, and only an io row may be safe.",
            entry=name,
        )
    return AsyncApi(
        name,
        role,
        aliases=_names(table.get("aliases", []), "aliases", name, source),
        close=close,
        receiver=receiver,
        safe=safe,
    )
