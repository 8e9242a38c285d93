"""The tripwire (strict mode): every known blocking call made on a running event loop's thread.

Meant for development, tests, CI and staging: it catches a blocking call however short it
is, where the watchdog only sees calls long enough to stall the loop. The calls it knows are
the catalog's (``unstall.catalog``): ``sys.audit`` events CPython raises map to entries
through their ``audit_event`` field; a few calls with no audit event are wrapped (the table
is ``unstall.watch._tripwire_targets``). A call is named by what the user's code called
(``requests.get``, ``subprocess.run``), not by the system call deep inside it, and timed until
it returns to the user's frame. A :class:`Policy` decides per rule code whether a call
raises, warns or is only recorded.

``unstall.watch.Watcher(tripwire=True)`` (or a configured :class:`Tripwire` instance) starts
one with the watcher and stops it with the watcher; its events land in
``Watcher.blocking_calls`` and the watcher's sinks.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from types import FrameType, TracebackType
from typing import Any

from unstall.catalog import Catalog, Entry, default_catalog
from unstall.errors import BlockingCallError, BlockingCallWarning
from unstall.watch import _tripwire_hook as hook
from unstall.watch._frames import blame, stack_of
from unstall.watch._model import TaskInfo, TripwireEvent
from unstall.watch._policy import Action, Policy
from unstall.watch._sinks import Sinks
from unstall.watch._tripwire_allow import AllowList

__all__ = ("Tripwire", "describe")

Sink = Callable[[TripwireEvent], object]


@dataclass(frozen=True, slots=True)
class Hit:
    """One caught call, judged by one tripwire: its draft event and what to do with it."""

    event: TripwireEvent
    action: Action
    entry: Entry


def _render(value: object) -> str:
    """What one argument is, never what it holds: its kind, and its size where it has one.

    ``str[12]``, ``bytes[4096]``, ``list[3]``, ``PosixPath[21]``, ``float``, ``None``: a path,
    a host, a command line or a token passed to a blocking call must not reach a report.
    """
    if value is None:
        return "None"
    kind = type(value).__name__
    if isinstance(value, os.PathLike):
        try:
            return f"{kind}[{len(os.fspath(value))}]"
        except (TypeError, ValueError):  # an odd PathLike: its kind is enough
            return kind
    if isinstance(value, str | bytes | bytearray | memoryview | list | tuple | dict | set):
        return f"{kind}[{len(value)}]"
    return kind


def describe(event: TripwireEvent) -> str:
    """A one-paragraph message for ``event``: the call, its rule, where, how long, and the fix."""
    where = "an unknown place"
    if event.blamed is not None:
        b = event.blamed
        where = f"{b.filename}:{b.lineno} in {b.function}" + (f": {b.source}" if b.source else "")
    took = "" if event.duration is None else f" for {event.duration * 1e3:.1f} ms"
    detail = f"({event.detail})" if event.detail else "()"
    fix = f" Fix: {event.fix}." if event.fix else ""
    return (
        f"Blocking call {event.name}{detail} [{event.code}, {event.kind}] ran{took} on the thread "
        f"of a running event loop, at {where}.{fix}"
    )


def _task_info() -> TaskInfo | None:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    if task is None:
        return None
    coro = task.get_coro()
    return TaskInfo(task.get_name(), getattr(coro, "__qualname__", type(coro).__name__))


class Tripwire:
    """Reports every known blocking call made on a thread whose event loop is running.

    ``policy`` is a :class:`Policy` or an action name (``"raise"``, ``"warn"``, ``"record"``,
    the default). ``allow`` lists modules (``"logging"``), functions (``"myapp.cache.load"``)
    and catalog entry names (``"builtins.open"``) under which blocking calls are fine;
    :meth:`unused_allow` tells which never matched. ``sinks`` are called with every
    :class:`TripwireEvent`; ``events`` keeps the last ``max_events``. ``catalog`` defaults to
    the built-in one. ``wrappers=False`` relies on audit events only.

    :meth:`start` and :meth:`stop` are idempotent and thread-safe; ``enabled`` switches it off
    and on at run time without stopping it. Threads with no running loop (executor workers)
    are never checked. With the ``raise`` policy the blocking call fails with
    :class:`~unstall.errors.BlockingCallError` before it runs; nothing else ever raises.

    While started, the process-wide audit hook calls it through the hooks of its subscriber
    protocol (:meth:`wants_event`, :meth:`wants_wrapper`, :meth:`judge`, :meth:`before_call`,
    :meth:`after_call`); they are not meant to be called otherwise.
    """

    def __init__(
        self,
        policy: Policy | Action | str | None = None,
        *,
        allow: Iterable[str] = (),
        sinks: Iterable[Sink] = (),
        catalog: Catalog | None = None,
        max_events: int = 1000,
        wrappers: bool = True,
    ) -> None:
        self.policy = Policy.of(policy)
        self.allow = AllowList(allow)
        self.catalog = catalog if catalog is not None else default_catalog()
        self.events: collections.deque[TripwireEvent] = collections.deque(maxlen=max_events)
        self.enabled = True
        self.running = False
        self.allowed = 0
        self.sink_errors = 0
        self._sinks: Sinks[TripwireEvent] = Sinks(sinks)
        self._wrappers = wrappers
        self._by_event: dict[str, Entry | None] = {}
        self._lock = threading.Lock()

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> Tripwire:
        """Start catching blocking calls (in every thread whose loop is running)."""
        with self._lock:
            if not self.running:
                self.running = True
                hook.activate(self)
        return self

    def stop(self) -> None:
        """Stop catching and restore every wrapped callable no other tripwire needs."""
        with self._lock:
            if self.running:
                self.running = False
                hook.deactivate(self)

    def enable(self) -> None:
        """Switch catching back on (the audit hook stays installed either way)."""
        self.enabled = True

    def disable(self) -> None:
        """Switch catching off at run time; calls pass through untouched until :meth:`enable`."""
        self.enabled = False

    def __enter__(self) -> Tripwire:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def add_sink(self, sink: Sink) -> None:
        """Call ``sink(event)`` for every future event; exceptions it raises are counted, not raised."""
        self._sinks.add(sink)

    def remove_sink(self, sink: Sink) -> None:
        """Stop calling ``sink``; no error when it is not registered."""
        self._sinks.remove(sink)

    def unused_allow(self) -> tuple[str, ...]:
        """Allow-list items that never allowed a call: stale entries to delete."""
        return self.allow.unused()

    # ---- the subscriber hooks, called by the audit hook ----------------------------------------
    def wants_event(self, event: str) -> bool:
        """Whether audit event ``event`` maps to an entry of the catalog."""
        return self._entry_for_event(event) is not None

    def wants_wrapper(self, name: str) -> bool:
        """Whether ``name`` is to be wrapped: a catalog entry, and wrappers are on."""
        return self._wrappers and self.catalog.lookup(name) is not None

    def _entry_for_event(self, event: str) -> Entry | None:
        try:
            return self._by_event[event]
        except KeyError:
            pass
        entries = self.catalog.by_audit_event(event)
        # several callables raise one event (subprocess.run, check_output, ... all raise
        # subprocess.Popen): without a better clue, the one named like the event is the call
        named = [e for e in entries if event in e.names]
        entry = (named or entries)[0] if entries else self.catalog.lookup(event)
        self._by_event[event] = entry
        return entry

    def _entry_for(
        self, event: str | None, name: str | None, under: FrameType | None
    ) -> Entry | None:
        # name the call the user made (requests.get), not the syscall deep inside it
        if under is not None:
            module = under.f_globals.get("__name__")
            code = under.f_code
            qualname = getattr(code, "co_qualname", code.co_name)
            qualname = qualname.removesuffix(".__init__")  # a constructor is named by its class
            if isinstance(module, str) and "<" not in qualname:
                parts = module.split(".")
                for cut in range(len(parts), 0, -1):
                    entry = self.catalog.lookup(".".join(parts[:cut]) + "." + qualname)
                    if entry is not None:
                        return entry
        if event is not None:
            return self._entry_for_event(event)
        return self.catalog.lookup(name) if name is not None else None

    def judge(
        self,
        event: str | None,
        name: str | None,
        args: tuple[Any, ...],
        frame: FrameType,
        user: FrameType | None,
        under: FrameType | None,
    ) -> Hit | None:
        """The call's :class:`Hit`, or ``None`` to let it pass; never raises.

        ``None`` when disabled, when the catalog does not name the call, when the policy
        ignores its rule, when the allow-list allows it, and on any internal error.
        """
        if not self.enabled:
            return None
        try:
            entry = self._entry_for(event, name, under)
            if entry is None:
                return None
            action = self.policy.action_for(entry.code)
            if action is Action.IGNORE:
                return None
            if self.allow:
                names = [*entry.names, *(n for n in (event, name) if n)]
                if event is not None:
                    audited = self._entry_for_event(event)
                    if audited is not None and audited is not entry:
                        names.extend(audited.names)
                if self.allow.match(names, frame) is not None:
                    self.allowed += 1
                    return None
            stack = stack_of(frame)
            blamed, _ = blame(stack)
            extra = (("audit_event", event),) if event else (("wrapped", name or ""),)
            draft = TripwireEvent(
                name=entry.name,
                code=entry.code,
                kind=entry.kind.value,
                detail=", ".join(_render(a) for a in args[:4]),
                blamed=blamed,
                stack=stack,
                time=time.time(),
                thread_id=threading.get_ident(),
                task=_task_info(),
                fix=f"{entry.alternative} (offload: {entry.offload.value})",
                action=action.value,
                extra=extra,
            )
            return Hit(draft, action, entry)
        except Exception:  # judging must never break the host's call
            return None

    def before_call(self, hit: Hit) -> None:
        """Raise or warn, as the policy says, before the call runs (a raised call is recorded first)."""
        if hit.action is Action.RAISE:
            self._emit(hit.event)
            raise BlockingCallError(
                describe(hit.event), code=hit.event.code, name=hit.event.name, event=hit.event
            )
        if hit.action is Action.WARN:
            blamed = hit.event.blamed
            warnings.warn_explicit(
                BlockingCallWarning(describe(hit.event)),
                BlockingCallWarning,
                blamed.filename if blamed is not None else "<unknown>",
                blamed.lineno if blamed is not None else 0,
                module=blamed.module if blamed is not None and blamed.module else None,
            )

    def after_call(self, hit: Hit, duration: float | None) -> None:
        """The call returned (or could not be timed): emit its event, with its duration."""
        self._emit(replace(hit.event, duration=duration) if duration is not None else hit.event)

    def _emit(self, event: TripwireEvent) -> None:
        self.events.append(event)
        failed = self._sinks.send(event)
        if failed:  # added once the sinks ran: another thread may count meanwhile
            self.sink_errors += failed
