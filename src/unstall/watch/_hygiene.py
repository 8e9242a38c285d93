"""asyncio mistakes caught at run time: tasks lost, coroutines never awaited, resources left open.

The static rules UNS302-UNS304 find these in the source; :class:`Hygiene` sees them happen,
without asyncio's debug mode and with nothing run per callback:

- a task destroyed while pending, and a task (or future) exception never retrieved: asyncio
  reports both through the loop's ``call_exception_handler``, wrapped (and still called) on
  stock asyncio loops, and through the exception handler of other loops (uvloop), wrapped when
  the watcher attaches (a handler the host sets later replaces it there). The line that
  created the task is noted on the task by a task factory chained in front of the loop's own:
  a frame walk for the first tasks of each coroutine function, then now and then; the factory
  steps aside while every task comes from functions already seen, and the loop's heartbeat
  puts it back a second later;
- a coroutine never awaited: CPython hands it to ``warnings._warn_unawaited_coroutine``, which
  is wrapped (and still called). A coroutine thrown away is finalized at once, on the line
  that dropped it (the line Python's own warning names): that is the line reported, unless a
  garbage collection is what finalized it; CPython's coroutine origin, when the host tracks
  origins (``sys.set_coroutine_origin_tracking_depth``, as asyncio's debug mode does), wins;
- a transport or an aiohttp client session collected while open: their finalizers are wrapped,
  and their constructors note the user's line that opened them.

Nothing is added per callback or per coroutine, and per task only while the factory is in
front. Every hook swallows its own errors: the host's behaviour (its handler, its task factory,
its warnings) is unchanged.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import contextlib
import gc
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from unstall.watch._frames import is_user_file, make_frame
from unstall.watch._model import Frame
from unstall.watch._patch import WRAPPER_CODE

__all__ = ("Hygiene", "HygieneEvent", "render_hygiene")

TASK_PENDING = "task destroyed while pending"
TASK_EXCEPTION = "task exception never retrieved"
NEVER_AWAITED = "coroutine never awaited"
UNCLOSED = "resource never closed"
_CODES = {
    TASK_PENDING: "UNS302",
    TASK_EXCEPTION: "UNS302",
    NEVER_AWAITED: "UNS303",
    UNCLOSED: "UNS304",
}
_MAX_WALK = 40
# The attribute of a task that holds the line that created it.
_CREATED = "_unstall_created"
_MAX_OPENED = 100_000


@dataclass(frozen=True, slots=True)
class HygieneEvent:
    """One asyncio mistake seen at run time.

    ``kind`` is one of ``"task destroyed while pending"``, ``"task exception never
    retrieved"``, ``"coroutine never awaited"`` and ``"resource never closed"``; ``code`` the
    static rule that finds it in the source (UNS302-UNS304). ``name`` names the task,
    coroutine or resource (and the exception, for an exception never retrieved); ``where`` is
    the line that created the task, called the coroutine or opened the resource, when known.
    """

    kind: str
    code: str
    name: str
    where: Frame | None = None

    def __str__(self) -> str:
        place = f" at {self.where.filename}:{self.where.lineno}" if self.where else ""
        return f"{self.kind} [{self.code}]: {self.name}{place}"


def _origin(origin: Any) -> Frame | None:
    """The user's frame among a coroutine's ``cr_origin`` (most recent first), else the first."""
    if not origin:
        return None
    chosen = next((item for item in origin if is_user_file(item[0])), origin[0])
    filename, lineno, function = chosen
    return make_frame(filename, lineno, function, "")


def _coroutine_origin(awaitable: object) -> Frame | None:
    origin = getattr(awaitable, "cr_origin", None)
    if origin:
        return _origin(origin)
    code = getattr(awaitable, "cr_code", None)  # no origin recorded: where it is defined
    if code is not None:
        return make_frame(code.co_filename, code.co_firstlineno, code.co_name, "")
    return None


# The frames that run a loop's callbacks (asyncio's ``Handle._run``; on loops that run them
# from C, such as uvloop, the watcher's ``run_forever`` wrapper below them): what lies below is
# the loop and the program that started it, never the code that made a task in that callback.
_CALLBACK_CODES = frozenset({asyncio.events.Handle._run.__code__, WRAPPER_CODE})


def _user_frame(frame: FrameType | None) -> Frame | None:
    """The innermost frame of the user's code at or above ``frame``, within the loop callback
    that runs it (``None`` when the callback's stack holds none: library code made it)."""
    for _ in range(_MAX_WALK):
        if frame is None:
            return None
        code = frame.f_code
        if code in _CALLBACK_CODES:
            return None
        if is_user_file(code.co_filename):
            module = frame.f_globals.get("__name__", "")
            return make_frame(code.co_filename, frame.f_lineno, code.co_name, str(module))
        frame = frame.f_back
    return None


class Hygiene:
    """The hooks that report asyncio mistakes to ``on_event`` (see the module docstring).

    :meth:`start` / :meth:`stop` install and remove the process-wide wrappers (idempotent);
    :meth:`attach` hooks one loop (until :meth:`stop`).
    Never raises into the host.
    """

    def __init__(self, on_event: Callable[[HygieneEvent], object]) -> None:
        self._on_event = on_event
        self._lock = threading.Lock()
        self._started = False
        self._restore: list[tuple[object, str, object, object]] = []
        self._collecting = 0  # a garbage collection is running (it finalizes what it frees)
        # Where each open resource was opened, by id: its finalizer takes it out (a weak key
        # would be gone by then for a resource collected in a cycle, as transports are).
        self._opened: dict[int, Frame] = {}
        # Per hooked loop, by id: the loop (weakly), our hook and what it replaced. A loop
        # stays hooked until stop(): a task left pending is reported when the loop closes.
        self._handlers: dict[int, tuple[weakref.ref[asyncio.AbstractEventLoop], Any, Any]] = {}
        self._factories: dict[int, _Factory] = {}
        # Where tasks of each coroutine function were seen made (see ``_Factory``).
        self._sites = _Sites()

    # -- process-wide wrappers -----------------------------------------------------------------

    def start(self) -> None:
        """Wrap ``warnings._warn_unawaited_coroutine`` and the finalizers of open resources."""
        with self._lock:
            if self._started:
                return
            self._started = True
            original = getattr(warnings, "_warn_unawaited_coroutine", None)
            if callable(original):
                self._wrap(warnings, "_warn_unawaited_coroutine", self._unawaited(original))
            # Every stock asyncio loop, whatever exception handler the host sets later.
            call = asyncio.base_events.BaseEventLoop.__dict__.get("call_exception_handler")
            if call is not None:
                self._wrap(
                    asyncio.base_events.BaseEventLoop,
                    "call_exception_handler",
                    self._calling(call),
                )
            self._wrap_resources()
            gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        self._collecting = phase == "start"

    def stop(self) -> None:
        """Put every wrapped function back (when nobody replaced it since) and unhook every loop."""
        with self._lock:
            if not self._started:
                return
            self._started = False
            for owner, name, wrapper, original in reversed(self._restore):
                with contextlib.suppress(Exception):
                    if owner.__dict__.get(name) is wrapper:
                        setattr(owner, name, original)
            self._restore.clear()
            with contextlib.suppress(ValueError):
                gc.callbacks.remove(self._gc)
        self._unhook()

    def _wrap(self, owner: object, name: str, wrapper: object) -> None:
        original = owner.__dict__.get(name)
        setattr(owner, name, wrapper)
        self._restore.append((owner, name, wrapper, original))

    def _wrap_resources(self) -> None:
        # Checked where asyncio checks before its own ResourceWarning.
        selector = getattr(sys.modules.get("asyncio.selector_events"), "_SelectorTransport", None)
        if selector is not None:
            self._wrap_resource(selector, lambda t: getattr(t, "_sock", None) is not None)
        ssl = getattr(sys.modules.get("asyncio.sslproto"), "_SSLProtocolTransport", None)
        if ssl is not None:
            self._wrap_resource(ssl, lambda t: not getattr(t, "_closed", True))
        self.wrap_aiohttp()

    def wrap_aiohttp(self) -> None:
        """Watch aiohttp client sessions too, once aiohttp is loaded."""
        client = sys.modules.get("aiohttp.client")
        session = getattr(client, "ClientSession", None)
        if session is not None and not any(owner is session for owner, *_ in self._restore):
            self._wrap_resource(session, lambda s: not getattr(s, "closed", True))

    def _wrap_resource(self, cls: type, is_open: Callable[[Any], bool]) -> None:
        init = cls.__dict__.get("__init__")
        finalize = cls.__dict__.get("__del__")
        if init is None or finalize is None:
            return
        opened, report = self._opened, self._report

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            with contextlib.suppress(Exception):
                where = _user_frame(sys._getframe(1))
                if where is not None:
                    if len(opened) > _MAX_OPENED:
                        opened.clear()
                    opened[id(self)] = where

        def __del__(self: Any, *args: Any) -> None:
            with contextlib.suppress(Exception):
                where = opened.pop(id(self), None)
                if is_open(self):
                    report(UNCLOSED, f"{type(self).__name__}", where)
            finalize(self, *args)

        self._wrap(cls, "__init__", __init__)
        self._wrap(cls, "__del__", __del__)

    def _unawaited(self, original: Callable[[Any], object]) -> Callable[[Any], object]:
        report = self._report

        def _warn_unawaited_coroutine(coro: Any) -> object:
            with contextlib.suppress(Exception):
                name = getattr(coro, "__qualname__", None) or type(coro).__name__
                where = _origin(getattr(coro, "cr_origin", None))
                if where is None and not self._collecting:
                    where = _user_frame(sys._getframe(1))  # the line that dropped it
                report(NEVER_AWAITED, f"{name}()", where or _coroutine_origin(coro))
            return original(coro)

        return _warn_unawaited_coroutine

    # -- loops -----------------------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> Callable[[float], None] | None:
        """Hook ``loop``: its task factory, and (uvloop) its exception handler.

        Returns what the loop's heartbeat calls with the time (``perf_counter``) on each tick:
        it puts the task factory back in front after it stepped aside (see :class:`_Factory`).
        """
        try:
            factory = self._factories.get(id(loop))
            if factory is None or factory.loop() is not loop:  # new, or a dead loop's id
                factory = _Factory(loop, self._sites)
                factory.install()
                self._factories[id(loop)] = factory
            # Other loops (uvloop) by their handler: one the host sets later replaces it.
            stock = isinstance(loop, asyncio.base_events.BaseEventLoop)
            if not stock and id(loop) not in self._handlers:
                previous = loop.get_exception_handler()
                handler = self._handler(previous)
                loop.set_exception_handler(handler)
                self._handlers[id(loop)] = (weakref.ref(loop), handler, previous)
            with self._lock:
                if self._started:
                    self.wrap_aiohttp()
            return factory.tick
        except Exception:
            return None

    def _unhook(self) -> None:
        for factory in self._factories.values():
            factory.uninstall()
        self._factories.clear()
        for reference, handler, previous in self._handlers.values():
            loop = reference()
            with contextlib.suppress(Exception):
                if loop is not None and loop.get_exception_handler() is handler:
                    loop.set_exception_handler(previous)
        self._handlers.clear()

    def _calling(self, original: Callable[..., None]) -> Callable[..., None]:
        seen = self._seen

        def call_exception_handler(loop: Any, context: dict[str, Any]) -> None:
            with contextlib.suppress(Exception):
                seen(context)
            original(loop, context)

        return call_exception_handler

    def _handler(
        self, previous: Any
    ) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
        seen = self._seen

        def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            with contextlib.suppress(Exception):
                seen(context)
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        return handler

    def _seen(self, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        task = context.get("task") or context.get("future")
        if message.startswith("Task was destroyed but it is pending"):
            self._report(TASK_PENDING, _task_name(task), _task_origin(task, self._sites))
        elif message.endswith("exception was never retrieved"):
            error = context.get("exception")
            what = f"{_task_name(task)} raised {type(error).__name__}: {error}"
            self._report(TASK_EXCEPTION, what, _task_origin(task, self._sites))

    def _report(self, kind: str, name: str, where: Frame | None) -> None:
        if not self._started:
            return
        with contextlib.suppress(Exception):
            self._on_event(HygieneEvent(kind, _CODES[kind], name, where))


def _task_name(task: object) -> str:
    if task is None:
        return "a task"
    coro = getattr(task, "get_coro", lambda: None)()
    inner = getattr(coro, "__qualname__", None)
    name = getattr(task, "get_name", lambda: type(task).__name__)()
    return f"{name} ({inner})" if inner else str(name)


def _task_origin(task: object, sites: _Sites) -> Frame | None:
    created = getattr(task, _CREATED, None)
    if isinstance(created, Frame):
        return created
    coro = getattr(task, "get_coro", lambda: None)() if task is not None else None
    origin = getattr(coro, "cr_origin", None)
    if origin:
        return _origin(origin)
    return sites.only(getattr(coro, "cr_code", None))


# Tasks of one coroutine function whose line is looked for: the first few, then one in so many
# (a function made from a new place is still found, at the cost of a walk now and then).
_FIRST_LOOKS = 8
_LOOK_EVERY = 64
_MAX_CODES = 10_000
# Tasks in a row made by functions already looked at before the factory steps aside, and the
# seconds it then rests (see ``_Factory``).
_QUIET = 256
_REST = 1.0


class _Sites:
    """Per coroutine function (its code): how many of its tasks were made, and the user lines
    seen making them (the first few). A task whose own line was not looked for is reported
    with its function's line when only one was ever seen."""

    __slots__ = ("counts", "lines")

    def __init__(self) -> None:
        self.counts: dict[object, int] = {}
        self.lines: dict[object, set[Frame]] = {}

    def only(self, code: object) -> Frame | None:
        lines = self.lines.get(code)
        return next(iter(lines)) if lines is not None and len(lines) == 1 else None


class _Factory:
    """The task factory of one loop: it notes on a task the user's line that created it (on the
    first tasks of each coroutine function, then one in ``_LOOK_EVERY``: a frame walk costs more
    than the rest of making a task), then hands over to the factory it was put in front of (or
    makes the task as the loop would).

    A task factory is a Python call for every task, which on a loop that makes a task or two per
    request is a few percent of its time. Once ``_QUIET`` tasks in a row were made by coroutine
    functions already looked at, the factory steps aside (the loop's factory is what it was);
    the heartbeat puts it back ``_REST`` seconds later (:meth:`tick`). A task made while it
    rests has no line of its own: it is reported with the one line its function's tasks were
    seen made at, when there is one.
    """

    __slots__ = ("factory", "loop", "on", "previous", "quiet", "rested")

    def __init__(self, loop: asyncio.AbstractEventLoop, sites: _Sites) -> None:
        self.loop = weakref.ref(loop)
        self.previous: Any = None
        self.on = False
        self.quiet = 0  # tasks in a row whose coroutine function needed no look
        self.rested = 0.0  # perf_counter time it stepped aside
        self.factory = self._make(sites)

    def install(self) -> None:
        """Go in front of the loop's factory (loop thread)."""
        loop = self.loop()
        if loop is None:
            return
        current = loop.get_task_factory()
        if current is not self.factory:
            self.previous = current
            loop.set_task_factory(self.factory)
        self.on = True
        self.quiet = 0

    def rest(self, loop: asyncio.AbstractEventLoop) -> None:
        """Step aside: the loop's factory is the one it was put in front of (loop thread)."""
        self.on = False
        self.rested = time.perf_counter()
        if loop.get_task_factory() is self.factory:
            loop.set_task_factory(self.previous)

    def tick(self, now: float) -> None:
        """The heartbeat (loop thread): back in front once it has rested ``_REST`` seconds, in
        front of the factory the loop has then (the host may have set one meanwhile)."""
        if self.on or now - self.rested < _REST:
            return
        try:
            self.install()
        except Exception:
            self.on = True  # not again: the loop refused it

    def uninstall(self) -> None:
        """Put back the factory it was put in front of, if its own is still the loop's."""
        loop = self.loop()
        self.on = True  # the heartbeat never puts it back
        with contextlib.suppress(Exception):
            if loop is not None and loop.get_task_factory() is self.factory:
                loop.set_task_factory(self.previous)

    def _make(self, sites: _Sites) -> Callable[..., Any]:
        state = self
        task_class = asyncio.Task
        get_frame = sys._getframe
        counts, lines = sites.counts, sites.lines

        def task_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            previous = state.previous
            if previous is not None:
                task = previous(loop, coro, **kwargs)
            else:
                task = task_class(coro, loop=loop, **kwargs)
            try:  # not contextlib.suppress: this runs for every task
                code = getattr(coro, "cr_code", None)
                count = counts.get(code, 0)
                if count >= _FIRST_LOOKS and count % _LOOK_EVERY:
                    counts[code] = count + 1
                    state.quiet += 1
                    if state.quiet >= _QUIET:
                        state.rest(loop)
                    return task
                if count < _FIRST_LOOKS:
                    state.quiet = 0  # a function still being looked at: not quiet
                if len(counts) > _MAX_CODES:
                    counts.clear()
                    lines.clear()
                counts[code] = count + 1
                # A task library code makes in a callback has no user line, and gets no
                # attribute (nor the dict that would hold it).
                where = _user_frame(get_frame(1))
                if where is not None:
                    setattr(task, _CREATED, where)
                    seen = lines.setdefault(code, set())
                    if len(seen) < 4:
                        seen.add(where)
            except Exception:
                pass
            return task

        return task_factory


def render_hygiene(events: tuple[HygieneEvent, ...]) -> list[str]:
    """The report's lines for asyncio mistakes: each kind and place once, with its count."""
    if not events:
        return []
    counts: dict[tuple[str, str, str], int] = {}
    for event in events:
        where = f"{event.where.filename}:{event.where.lineno}" if event.where else "?"
        key = (event.kind, event.code, f"{event.name} at {where}")
        counts[key] = counts.get(key, 0) + 1
    lines = [f"asyncio mistakes ({len(events)}):"]
    lines.extend(
        f"  {count}x {kind} [{code}]: {what}" for (kind, code, what), count in counts.items()
    )
    return lines
