"""What a call is to the concurrency rules: a task, a coroutine, a resource, network I/O, pacing.

:class:`AsyncCalls` answers from the call's use (its resolved reference, through the shared
resolver :class:`~unstall.check._resolve.Project`) and the catalog's ``[[async]]`` rows, and
follows the project's own functions: an ``async def`` called gives a coroutine (unless a
decorator may change that), a sync helper that returns a task or a coroutine it made gives
what it returns, and an ``async def`` whose awaits reach network reads is itself a network
read for the serial-await rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from unstall.catalog import AsyncApi, AsyncRole, BoundaryKind, Catalog
from unstall.check._concurrency_facts import RETURNED, Span
from unstall.check._resolve import Project, Value, ValueKind
from unstall.check._summary_types import CALL, READ, FunctionInfo, Use

__all__ = ("AsyncCalls", "Made", "Placed")

_DEPTH = 8
# What ``io`` finds an ``async def`` reaches (see :meth:`AsyncCalls.io`).
SAFE = "safe"
UNSAFE = "unsafe"
PACED = "paced"


class Placed(NamedTuple):
    """A use found by its span: the module's index, the function's key and the use."""

    summary: int
    key: str
    use: Use


class Made(NamedTuple):
    """What a call gives, for the task and coroutine rules: the role and the name shown.

    ``via`` is the project function that hands it on (a sync helper returning it), or ``""``.
    """

    role: AsyncRole
    name: str
    via: str = ""


class AsyncCalls:
    """The project's calls as the concurrency rules see them (memoized per function)."""

    def __init__(self, project: Project, catalog: Catalog) -> None:
        self.project = project
        self.catalog = catalog
        self._spans: dict[int, dict[tuple[int, ...], list[tuple[str, Use]]]] = {}
        self._returned: dict[int, dict[str, list[Span]]] = {}
        self._made: dict[tuple[int, str], Made | None] = {}
        self._io: dict[tuple[int, str], frozenset[str]] = {}
        self._async_managers = frozenset(
            row.name
            for row in catalog.boundaries
            if row.kind is BoundaryKind.CONTEXT_MANAGER and row.asynchronous
        )

    # -- uses by span ----------------------------------------------------------------------------

    def at(self, summary: int, span: Span) -> list[Placed]:
        """The uses of a module recorded at ``span`` (a call, or a ``with`` item's protocol)."""
        table = self._spans.get(summary)
        if table is None:
            # Built once per module, over every use: plain tuples, sliced spans (the fields
            # line, col, end_line, end_col); the few asked for become ``Placed`` records.
            table = {}
            get = table.get
            for key, info in self.project.functions[summary].items():
                for use in info.uses:
                    spot = use[2:6]
                    bucket = get(spot)
                    if bucket is None:
                        table[spot] = [(key, use)]
                    else:
                        bucket.append((key, use))
            self._spans[summary] = table
        found = table.get(span)
        return [Placed(summary, key, use) for key, use in found] if found else []

    def call_at(self, summary: int, span: Span) -> Placed | None:
        """The call recorded at ``span``, if the summarizer recorded one."""
        for placed in self.at(summary, span):
            use = placed.use
            if use.kind == CALL and not use.ref.endswith(("__enter__", "__exit__", ".setter")):
                return placed
        return None

    # -- names -----------------------------------------------------------------------------------

    def roles(self, value: Value | None) -> Mapping[AsyncRole, AsyncApi]:
        """The ``[[async]]`` rows of an outside callable or type (a method through its class)."""
        if value is None or value.kind not in (ValueKind.OUTSIDE, ValueKind.OUTSIDE_INSTANCE):
            return {}
        return self.catalog.async_roles(value.name)

    def callee(self, placed: Placed) -> Value | None:
        """What the call's callee resolves to."""
        return self.project.resolve(placed.use.ref)

    def paces(self, use: Use) -> bool:
        """Whether a call or a read is a sleep, lock, semaphore or limiter (or a method of one)."""
        if use.kind not in (CALL, READ):
            return False
        value = self.project.resolve(use.ref)
        if value is None or value.kind not in (ValueKind.OUTSIDE, ValueKind.OUTSIDE_INSTANCE):
            return False
        name = value.name
        while name:
            if AsyncRole.PACING in self.catalog.async_roles(name):
                return True
            name = name.rpartition(".")[0]
        return False

    # -- tasks and coroutines --------------------------------------------------------------------

    def made(self, placed: Placed, callee_text: str = "") -> Made | None:
        """What the call gives when it is a task or a coroutine (``None`` otherwise).

        ``callee_text`` is the callee's source text when the call has no use (a method on a
        receiver of unknown type, such as ``self._loop.create_task``).
        """
        value = self.callee(placed)
        rows = self.roles(value)
        for role in (AsyncRole.TASK, AsyncRole.COROUTINE):
            if role in rows:
                return Made(role, rows[role].name)
        if value is not None and value.kind is ValueKind.FUNCTION:
            return self.function_makes(value.summary, value.name)
        if value is None:
            return self.by_receiver(callee_text or placed.use.ref.removeprefix("?."))
        return None

    def by_receiver(self, text: str) -> Made | None:
        """A task made by a method of a receiver of unknown type, by the receiver's name."""
        receiver, _, method = text.rpartition(".")
        if not receiver:
            return None
        api = self.catalog.async_by_receiver(AsyncRole.TASK, method, receiver)
        return Made(AsyncRole.TASK, api.name) if api is not None else None

    def function_makes(self, summary: int, key: str) -> Made | None:
        """What calling a project function gives: a coroutine for an ``async def`` that no
        unknown decorator wraps; for a sync function, the task or coroutine it returns."""
        memo = (summary, key)
        if memo in self._made:
            return self._made[memo]
        self._made[memo] = None  # a cycle gives nothing
        info = self.project.functions[summary][key]
        found: Made | None = None
        name = key
        if info.is_async:
            if not info.is_generator and self.keeps_async(summary, info):
                found = Made(AsyncRole.COROUTINE, name)
        elif not info.is_generator:
            # Every return must give one: a function that returns a task on one path and a
            # finished future on another is no task factory.
            made = [
                self.made(placed) if placed is not None else None
                for placed in (
                    self.call_at(summary, span) for span in self.returned(summary).get(key, ())
                )
            ]
            roles = {inner.role if inner is not None else None for inner in made}
            if made and len(roles) == 1 and made[0] is not None:
                found = Made(made[0].role, made[0].name, made[0].via or key)
        self._made[memo] = found
        return found

    def keeps_async(self, summary: int, info: FunctionInfo, depth: int = 0) -> bool:
        """Whether every decorator of an ``async def`` leaves calling it a coroutine."""
        if depth > _DEPTH:
            return False
        for ref in info.decorators:
            value = self.project.resolve(ref.removesuffix("()"))
            if AsyncRole.KEEPS in self.roles(value):
                continue
            decorator = self.project.resolve(ref)
            wrapper = self.project.call(decorator) if decorator is not None else None
            if wrapper is not None and wrapper.kind is ValueKind.FUNCTION:
                inner = self.project.functions[wrapper.summary][wrapper.name]
                if inner.is_async and self.keeps_async(wrapper.summary, inner, depth + 1):
                    continue  # the project's decorator returns an ``async def`` wrapper
            return False
        return True

    def returned(self, summary: int) -> dict[str, list[Span]]:
        """The calls each function of a module returns (``RETURNED`` facts), by function key."""
        table = self._returned.get(summary)
        if table is None:
            table = {}
            for fact in self.project.summaries[summary].concurrency:
                if fact.kind == RETURNED:
                    placed = self.call_at(summary, fact.span)
                    if placed is not None:
                        table.setdefault(placed.key, []).append(fact.span)
            self._returned[summary] = table
        return table

    # -- context managers ------------------------------------------------------------------------

    def async_only(self, placed: Iterable[Placed]) -> str | None:
        """The name of what a ``with`` item enters when it is an async-only context manager."""
        for item in placed:
            ref = item.use.ref
            if not ref.endswith(".__enter__"):
                continue
            target = ref.removesuffix(".__enter__")
            found = self._async_context(target)
            if found is not None:
                return found
        return None

    def _async_context(self, ref: str) -> str | None:
        project = self.project
        if ref.endswith("()"):
            callee = project.resolve(ref[:-2])
            if callee is not None and callee.kind is ValueKind.FUNCTION:
                info = project.functions[callee.summary][callee.name]
                for decorator in info.decorators:
                    value = project.resolve(decorator)
                    if value is not None and value.name in self._async_managers:
                        return callee.name
                return None
            if AsyncRole.ASYNC_CONTEXT in self.roles(callee):
                assert callee is not None
                return callee.name
        value = project.resolve(ref)
        if AsyncRole.ASYNC_CONTEXT in self.roles(value):
            assert value is not None
            return value.name
        if value is not None and value.kind is ValueKind.INSTANCE:
            enter = project.member(value.summary, value.name, "__aenter__")
            plain = project.member(value.summary, value.name, "__enter__")
            if enter is not None and enter.kind is ValueKind.FUNCTION and plain is None:
                return value.name
        return None

    # -- network reads ---------------------------------------------------------------------------

    def io(self, placed: Placed) -> frozenset[str]:
        """What a call reaches: ``SAFE`` (a network read), ``UNSAFE`` (other network I/O),
        ``PACED`` (a sleep, lock or limiter), through the project's ``async def`` functions."""
        value = self.callee(placed)
        rows = self.roles(value)
        api = rows.get(AsyncRole.IO)
        if api is not None:
            return frozenset({SAFE if api.safe else UNSAFE})
        if self.paces(placed.use):
            return frozenset({PACED})
        if value is not None and value.kind is ValueKind.FUNCTION:
            return self.function_io(value.summary, value.name, 0)
        return frozenset()

    def function_io(self, summary: int, key: str, depth: int) -> frozenset[str]:
        memo = (summary, key)
        known = self._io.get(memo)
        if known is not None:
            return known
        info = self.project.functions[summary][key]
        if not info.is_async or depth > _DEPTH:
            return frozenset()
        self._io[memo] = frozenset()  # a cycle adds nothing
        found: set[str] = set()
        for use in info.uses:
            if use.kind == READ:
                if self.paces(use):
                    found.add(PACED)
                continue
            if use.kind != CALL:
                continue
            value = self.project.resolve(use.ref)
            api = self.roles(value).get(AsyncRole.IO)
            if api is not None:
                found.add(SAFE if api.safe else UNSAFE)
            elif self.paces(use):
                found.add(PACED)
            elif value is not None and value.kind is ValueKind.FUNCTION:
                found |= self.function_io(value.summary, value.name, depth + 1)
        result = frozenset(found)
        self._io[memo] = result
        return result
