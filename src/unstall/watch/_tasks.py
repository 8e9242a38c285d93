"""What the stalled loop was running: its current task, the await chain, and the request context.

Read from the watchdog thread while the loop thread is stuck in one callback, so the task and
its coroutine chain do not move under us. Only names are kept: task name, coroutine qualified
names, and the text the context providers return.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import sys
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

from unstall.watch._model import TaskInfo

__all__ = ("ContextProvider", "offload_waits", "read_context", "task_context", "task_snapshot")

ContextProvider = (
    Callable[[contextvars.Context], "Mapping[str, object] | None"] | contextvars.ContextVar[Any]
)
_HANDLE_RUN_CODE = asyncio.events.Handle._run.__code__
_MAX_CHAIN = 32
_MAX_WAITS = 8
_MAX_TASKS = 5000  # tasks looked at, at most: the look costs the loop thread about 7 us each
# modules whose coroutines hand work to another thread and wait for it
_OFFLOAD_MODULES = (
    "asyncio.threads",
    "anyio.to_thread",
    "anyio._backends",
    "starlette.concurrency",
    "unstall.offload",
)


def _handle_context(frame: FrameType | None) -> contextvars.Context | None:
    """The context the running ``asyncio.Handle`` entered (3.11's C Task does not expose its own)."""
    while frame is not None:
        if frame.f_code is _HANDLE_RUN_CODE:
            # the Handle object itself, to read its context; no value of it is kept
            ctx = getattr(frame.f_locals.get("self"), "_context", None)
            return ctx if isinstance(ctx, contextvars.Context) else None
        frame = frame.f_back
    return None


def _name(obj: object) -> str:
    code = getattr(obj, "cr_code", None) or getattr(obj, "gi_code", None)
    if code is not None:
        return str(getattr(code, "co_qualname", code.co_name))
    return str(getattr(obj, "__qualname__", type(obj).__qualname__))


def _await_chain(task: asyncio.Task[Any]) -> tuple[str, ...]:
    """Qualified names of the coroutines the task is in, outermost first (its await chain)."""
    if sys.version_info >= (3, 14):
        graph = asyncio.capture_call_graph(task)  # type: ignore[attr-defined,unused-ignore]
        if graph is not None:
            names = [_name(entry.frame.f_code) for entry in graph.call_stack]
            names.reverse()
            waiting = [
                f"awaited by {getattr(g.future, 'get_name', lambda: '?')()}"
                for g in graph.awaited_by
            ]
            return tuple(names[:_MAX_CHAIN] + waiting[:4])
    chain: list[str] = []
    coro: Any = task.get_coro()
    while coro is not None and len(chain) < _MAX_CHAIN:
        chain.append(_name(coro))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        if coro is not None and not hasattr(coro, "cr_code") and not hasattr(coro, "gi_code"):
            chain.append(type(coro).__qualname__)  # a Future or an awaitable object
            break
    return tuple(chain)


def task_snapshot(
    loop: asyncio.AbstractEventLoop, frame: FrameType | None
) -> tuple[TaskInfo, contextvars.Context | None] | None:
    """The task running on ``loop`` and the context it runs in, or ``None`` outside any task."""
    task = asyncio.current_task(loop)
    if task is None:
        return None
    coro = task.get_coro()
    try:
        chain = _await_chain(task)
    except Exception:  # the chain is a nicety; a task in an odd state must not lose the event
        chain = ()
    info = TaskInfo(task.get_name(), _name(coro), chain)
    return info, _context_of(task, frame)


def _context_of(task: asyncio.Task[Any], frame: FrameType | None) -> contextvars.Context | None:
    get_context = getattr(task, "get_context", None)  # Task.get_context exists from 3.12
    ctx = get_context() if get_context is not None else getattr(task, "_context", None)
    if ctx is None:
        ctx = _handle_context(frame)
    return ctx if isinstance(ctx, contextvars.Context) else None


def task_context(
    loop: asyncio.AbstractEventLoop, frame: FrameType | None
) -> contextvars.Context | None:
    """The context of the task running on ``loop`` (``frame``: the loop thread's), when it can be read."""
    task = asyncio.current_task(loop)
    return None if task is None else _context_of(task, frame)


def read_context(
    providers: list[ContextProvider], ctx: contextvars.Context | None
) -> tuple[tuple[tuple[str, str], ...], int]:
    """What ``providers`` find in ``ctx`` as text pairs, and how many of them raised."""
    if ctx is None or not providers:
        return (), 0
    out: list[tuple[str, str]] = []
    errors = 0
    for provider in providers:
        try:
            if isinstance(provider, contextvars.ContextVar):
                if provider in ctx:
                    out.append((provider.name, str(ctx[provider])[:200]))
            else:
                found = provider(ctx)
                out.extend((str(k), str(v)[:200]) for k, v in (found or {}).items())
        except Exception:
            errors += 1
    return tuple(out), errors


def offload_waits(
    loop: asyncio.AbstractEventLoop,
) -> tuple[tuple[tuple[Any, int, str], ...], ...]:
    """The await chains of ``loop``'s tasks that wait for work handed to another thread.

    Loop thread only. A task counts when the future it waits for was made from an executor's
    (``run_in_executor``, ``to_thread``) or its chain runs through an offload helper (anyio,
    Starlette, unstall's own). Each chain is ``(code, line, module name)`` triples, innermost
    first, up to ``_MAX_WAITS`` chains: code objects and line numbers only, never values.
    """
    chains: list[tuple[tuple[Any, int, str], ...]] = []
    # a future done but whose task is not yet woken: another thread finished its work during
    # the stall (an executor's future drops the callbacks that tell where it came from as it
    # completes); its task comes after the ones still waiting on a thread
    woken: list[tuple[tuple[Any, int, str], ...]] = []
    for task in itertools.islice(asyncio.all_tasks(loop), _MAX_TASKS):
        waiter = getattr(task, "_fut_waiter", None)
        if waiter is None:  # running or scheduled, not waiting on a future
            continue
        done = _is_done(waiter)
        if not done and not _from_executor(waiter) and not _in_offload(task):
            continue
        frames = _coroutine_frames(task)
        chain = tuple((f.f_code, f.f_lineno or 0, _module(f)) for f in reversed(frames))
        (woken if done and not _in_offload(task) else chains).append(chain)
        if len(chains) >= _MAX_WAITS:
            break
    return tuple([*chains, *woken][:_MAX_WAITS])


def _is_done(future: object) -> bool:
    done = getattr(future, "done", None)
    try:
        return callable(done) and bool(done())
    except Exception:
        return False


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", ""))


def _in_offload(task: asyncio.Task[Any]) -> bool:
    """Whether the innermost coroutine of ``task`` is an offload helper's (it awaits the thread)."""
    coro: Any = task.get_coro()
    frame = None
    depth = 0
    while coro is not None and depth < _MAX_CHAIN:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None) or frame
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        depth += 1
    return frame is not None and _module(frame).startswith(_OFFLOAD_MODULES)


def _coroutine_frames(task: asyncio.Task[Any]) -> list[FrameType]:
    """The suspended frames of ``task``'s await chain, outermost first."""
    frames: list[FrameType] = []
    coro: Any = task.get_coro()
    while coro is not None and len(frames) < _MAX_CHAIN:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frames


def _from_executor(future: object) -> bool:
    """Whether ``future`` mirrors a ``concurrent.futures`` one (``asyncio.wrap_future``)."""
    for callback in getattr(future, "_callbacks", None) or ():
        function = callback[0] if isinstance(callback, tuple) else callback
        if getattr(function, "__name__", "") == "_call_check_cancel":
            return True
    return False
