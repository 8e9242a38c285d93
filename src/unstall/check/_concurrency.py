"""The concurrency rules (UNS3xx): asyncio used for concurrency, done wrong.

Run after the blocking analysis, over the summaries alone: each file's facts
(:mod:`unstall.check._concurrency_facts`) say what the code does with a call's result, and
:class:`~unstall.check._async_calls.AsyncCalls` says what the call is, through the project's
functions, methods and modules. Rules: a task dropped (UNS302), a coroutine never awaited
(UNS303), an async resource not closed (UNS304), a plain ``with`` on an async context manager
(UNS306) here; independent awaits run one after another (UNS301) in
:mod:`unstall.check._serial_awaits`; nested event loops (UNS305), which the blocking analysis
reaches, in :mod:`unstall.check._nested_loop`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from unstall.catalog import AsyncApi, AsyncRole, Catalog
from unstall.check._async_calls import AsyncCalls, Made, Placed
from unstall.check._concurrency_facts import (
    DROPPED,
    IN_ASYNC,
    OWN_LINES,
    RESOURCE,
    SYNC_WITH,
    TASK_TAKEN,
    UNUSED,
    Fact,
)
from unstall.check._model import ChainStep, Edit, Finding, Location
from unstall.check._nested_loop import nested_loops
from unstall.check._resolve import Project, ValueKind
from unstall.check._serial_awaits import serial_awaits
from unstall.check._summary_types import ModuleSummary

__all__ = ("concurrency_findings",)

DROPPED_TASK = "UNS302"
UNAWAITED = "UNS303"
UNCLOSED = "UNS304"
SYNC_WITH_ASYNC = "UNS306"
# The module-level set a dropped-task fix keeps tasks in.
_TASKS = "_background_tasks"


def concurrency_findings(
    summaries: Sequence[ModuleSummary], *, catalog: Catalog, blocking: Sequence[Finding]
) -> list[Finding]:
    """``blocking`` (the blocking analysis's findings), the nested event loops among them
    told as such (UNS305), then every other UNS3xx finding of the project."""
    project = Project(summaries, catalog)
    calls = AsyncCalls(project, catalog)
    found = nested_loops(calls, blocking)
    for index, summary in enumerate(project.summaries):
        if summary.concurrency:
            found.extend(_Module(calls, index).findings())
    found.extend(serial_awaits(calls))
    return found


class _Module:
    """The UNS302/303/304/306 findings of one module."""

    def __init__(self, calls: AsyncCalls, index: int) -> None:
        self.calls = calls
        self.index = index
        self.summary = calls.project.summaries[index]
        self._ranges: list[tuple[int, int, str]] | None = None

    def findings(self) -> Iterator[Finding]:
        for fact in self.summary.concurrency:
            if fact.kind in (DROPPED, UNUSED):
                finding = self.result_dropped(fact)
            elif fact.kind == RESOURCE:
                finding = self.unclosed(fact)
            elif fact.kind == SYNC_WITH:
                finding = self.sync_with(fact)
            else:
                continue
            if finding is not None:
                yield finding

    def location(self, span: tuple[int, int, int, int]) -> Location:
        return Location(self.summary.path, *span)

    def function(self, placed: Placed) -> str:
        return self.calls.project.qualified(self.index, placed.key)

    # -- UNS302, UNS303 --------------------------------------------------------------------------

    def result_dropped(self, fact: Fact) -> Finding | None:
        placed = self.calls.call_at(self.index, fact.span)
        if placed is None:
            made = self.calls.by_receiver(fact.name) if fact.kind == DROPPED else None
            key = self._key_at(fact)
        else:
            made = self.calls.made(placed, fact.name)
            key = placed.key
            if made is None and fact.kind == UNUSED:
                return self.unclosed(fact, placed)
        if made is None or key is None:
            return None
        if made.role is AsyncRole.TASK:
            return self.dropped_task(fact, made, key)
        return self.unawaited(fact, made, key)

    def _key_at(self, fact: Fact) -> str | None:
        # A call with no use (a method on a receiver of unknown type): the function whose
        # lines hold it, the innermost one.
        if self._ranges is None:  # once per module: (first line, last use's line, key)
            self._ranges = [
                (info.line, max((use.line for use in info.uses), default=-1), key)
                for key, info in self.calls.project.functions[self.index].items()
            ]
        best: tuple[int, str] | None = None
        line = fact.span[0]
        for first, last, key in self._ranges:
            if first <= line <= last and (best is None or first > best[0]):
                best = (first, key)
        return best[1] if best is not None else None

    def _shown(self, made: Made) -> str:
        return made.name.removeprefix("builtins.")

    def dropped_task(self, fact: Fact, made: Made, key: str) -> Finding:
        what = f"`{self._shown(made)}`" + (f" (through `{made.via}`)" if made.via else "")
        if fact.kind == DROPPED:
            message = (
                f"`{key}` drops the task {what} returns: nothing keeps a reference, so it may "
                "be garbage-collected before it finishes and its exception is never seen."
            )
        else:
            message = (
                f"`{key}` keeps the task {what} returns only in `{fact.name}`, which is never "
                "read: once the function returns nothing holds it, and its exception is never seen."
            )
        edits = self._keep_task_edits(fact)
        return Finding(
            DROPPED_TASK,
            message,
            self.location(fact.span),
            self.calls.project.qualified(self.index, key),
            made.name,
            (ChainStep(self._shown(made), self.location(fact.span)),),
            fix=(
                f"keep a reference until it is done: `{_TASKS}.add(task)` and "
                f"`task.add_done_callback({_TASKS}.discard)` with a module-level set, "
                "or create it in an `asyncio.TaskGroup`"
            ),
            edits=edits,
            fix_safe=False,
        )

    def _keep_task_edits(self, fact: Fact) -> tuple[Edit, ...]:
        if fact.kind != DROPPED or not fact.flags & OWN_LINES or fact.flags & TASK_TAKEN:
            return ()
        path = self.summary.path
        line, col = fact.at
        after = fact.span[2] + 1  # the start of the line after the statement (and its comment)
        indent = " " * col
        edits = [
            Edit(path, (line, col), (line, col), "task = "),
            Edit(
                path,
                (after, 0),
                (after, 0),
                f"{indent}{_TASKS}.add(task)\n{indent}task.add_done_callback({_TASKS}.discard)\n",
            ),
        ]
        bound = dict(self.summary.bindings)
        if _TASKS not in bound:
            where = self.summary.insert_line
            edits.insert(
                0, Edit(path, (where, 0), (where, 0), f"\n{_TASKS}: set[object] = set()\n")
            )
        return tuple(edits)

    def unawaited(self, fact: Fact, made: Made, key: str) -> Finding:
        name = self._shown(made)
        through = f" (returned by `{made.via}`)" if made.via else ""
        if fact.kind == DROPPED:
            message = (
                f"`{key}` calls `{name}`{through} without awaiting it: the coroutine is thrown "
                "away and nothing in it runs."
            )
        else:
            message = (
                f"`{key}` keeps the coroutine of `{name}`{through} in `{fact.name}` and never "
                "awaits it: nothing in it runs."
            )
        edits: tuple[Edit, ...] = ()
        if fact.flags & IN_ASYNC:
            line, col = fact.span[0], fact.span[1]
            edits = (Edit(self.summary.path, (line, col), (line, col), "await "),)
            fix = f"await it: `await {name}(...)`"
        else:
            fix = "make the caller `async def` and await it, or schedule it with `asyncio.create_task` and keep the task"
        return Finding(
            UNAWAITED,
            message,
            self.location(fact.span),
            self.calls.project.qualified(self.index, key),
            made.name,
            (ChainStep(name, self.location(fact.span)),),
            fix=fix,
            edits=edits,
            fix_safe=bool(edits),
        )

    # -- UNS304 ----------------------------------------------------------------------------------

    def unclosed(self, fact: Fact, placed: Placed | None = None) -> Finding | None:
        placed = placed or self.calls.call_at(self.index, fact.span)
        if placed is None:
            return None
        value = self.calls.callee(placed)
        api = self.calls.roles(value).get(AsyncRole.RESOURCE)
        if api is None and value is not None and value.kind is ValueKind.CLASS:
            api = self._resource_base(value.summary, value.name)
        if api is None:
            return None
        closes = [(method, sure) for method, sure in fact.methods if method in api.close]
        if any(sure for _, sure in closes):
            return None
        name = api.name
        local = fact.name.replace(",", ", ")
        close = f"{api.close[0]}()"
        if closes:
            message = (
                f"`{placed.key}` closes the `{name}` in `{local}` only when nothing fails before "
                f"`{close}`: an exception or a cancellation at an `await` in between leaks it."
            )
        else:
            message = f"`{placed.key}` opens `{name}` into `{local}` and never closes it."
        return Finding(
            UNCLOSED,
            message,
            self.location(fact.span),
            self.function(placed),
            name,
            (ChainStep(name, self.location(fact.span)),),
            fix=f"use `async with` (or close it with `{close}` in a `finally:` block)",
        )

    def _resource_base(self, summary: int, key: str) -> AsyncApi | None:
        # A project class that extends an outside resource type (``class Client(ClientSession)``).
        project = self.calls.project
        for base in project.classes[summary][key].bases if key in project.classes[summary] else ():
            api = self.calls.roles(project.resolve(base)).get(AsyncRole.RESOURCE)
            if api is not None:
                return api
        return None

    # -- UNS306 ----------------------------------------------------------------------------------

    def sync_with(self, fact: Fact) -> Finding | None:
        calls = self.calls
        name = calls.async_only(calls.at(self.index, fact.span))
        if name is None:
            return None
        placed = calls.at(self.index, fact.span)[0]
        shown = name.removeprefix("builtins.")
        edits: tuple[Edit, ...] = ()
        every = all(calls.async_only(calls.at(self.index, span)) for span in fact.spans)
        if fact.flags & IN_ASYNC and every and fact.spans[0] == fact.span:
            line, col = fact.at
            edits = (Edit(self.summary.path, (line, col), (line, col + 4), "async with"),)
        return Finding(
            SYNC_WITH_ASYNC,
            f"`{placed.key}` enters `{shown}` with a plain `with`: it is an async context "
            "manager, and `with` raises (or skips its async set-up and clean-up).",
            self.location(fact.span),
            self.function(placed),
            name,
            (ChainStep(shown, self.location(fact.span)),),
            fix="`async with`" if fact.flags & IN_ASYNC else "`async with`, in an `async def`",
            edits=edits,
            fix_safe=bool(edits),
        )
