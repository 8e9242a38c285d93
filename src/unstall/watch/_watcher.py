"""The watcher: every loop attached as it starts, and what the watchdog finds turned into StallEvents.

The parts it puts together: :class:`~unstall.watch._patch.RunForeverPatch` (loop start-up),
:class:`~unstall.watch._loops.LoopState` (each loop's heartbeat and iteration timing),
:class:`~unstall.watch._watchdog.Watchdog` (the thread that wakes to look at the loops),
:class:`~unstall.watch._sampling.Sampler` (a stall's samples while it runs),
:func:`~unstall.watch._stall_event.stall_event` (the event of a finished stall) and
:class:`~unstall.watch._sinks.Sinks` (where events go).
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import collections
import contextlib
import gc
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import TracebackType
from typing import Any

from unstall import _handoff
from unstall._limits import THRESHOLD_MS_RANGE, valid_threshold_ms
from unstall.watch import _sentinel
from unstall.watch._histogram import Histogram
from unstall.watch._hygiene import Hygiene, HygieneEvent
from unstall.watch._imports import AfterImport
from unstall.watch._judge import running_loops, where_of
from unstall.watch._logs import EventLog
from unstall.watch._loops import LoopState, Pending, run_times
from unstall.watch._metrics import Counters, MetricsSnapshot
from unstall.watch._model import StallEvent, TripwireEvent
from unstall.watch._patch import RunForeverPatch
from unstall.watch._report import Report
from unstall.watch._request import current as current_request
from unstall.watch._request import label
from unstall.watch._routes import Routes
from unstall.watch._sampling import Sampler, Session
from unstall.watch._sentinel import Dump, Sentinel
from unstall.watch._sinks import Sinks
from unstall.watch._stall_event import stall_event
from unstall.watch._stats import Histograms, Sites
from unstall.watch._tasks import ContextProvider
from unstall.watch._timeline import LagPoint
from unstall.watch._watchdog import Watchdog

__all__ = ("Watcher",)

logger = logging.getLogger("unstall")
Sink = Callable[[Any], object]

# the sentinel takes over when the watchdog sampling a stall misses its looks this long (seconds)
_DEAD_MAN = 0.02
# how long report() waits for the watchdog to finish emitting a stall (seconds)
_REPORT_WAIT = 2.0
_TIMING = {False: "off", True: "always", "off": "off", "always": "always", "sampled": "sampled"}


class Watcher:
    """Watches every event loop in the process for iterations longer than ``threshold_ms``.

    Every loop gets a heartbeat (works on uvloop too); on stock asyncio the loop's iterations
    are also timed, in windows by default (``iteration_timing="sampled"``), always
    (``True``/``"always"``) or never (``False``/``"off"``). When an iteration runs past half
    the threshold the watchdog thread samples the loop thread's stack until it comes back and
    then emits one :class:`StallEvent`.

    C code that holds the GIL (a regex, ``json.loads``, an import's compile, in the loop's
    thread or in a worker the loop waits for) keeps the watchdog out too. ``sentinel=True``
    (the default, on Linux) starts one small helper process for the whole process
    (``unstall.watch._sentinel``): when the watchdog is starved during a stall, it finds the
    thread that burns a CPU and has it write its own stack on a signal, so such a stall gets
    its line, its C function and, when another thread held the GIL, that thread and the line
    that handed it the work (cause ``GIL``). No thread reads another's frames for it. Without
    it such a stall is still caught, with its real duration, and its line when the sample
    taken as it ends lands on it. ``backstop`` is accepted and ignored: the faulthandler
    backstop it armed is gone.

    ``hygiene=True`` (the default) also records asyncio mistakes as they happen, in
    ``hygiene`` and the report: a task destroyed while pending or whose exception is never
    retrieved, a coroutine never awaited, a transport or client session collected open, each
    with the line that created it (see :mod:`unstall.watch._hygiene`; no debug mode, nothing per
    callback or coroutine).

    Events go to ``events`` (the last ``max_events``), the aggregated :meth:`report` (at most
    ``max_sites`` sites and ``max_routes`` HTTP routes), the counters of :meth:`metrics`, the
    ``unstall`` logger (``log=True``: one structured, rate-limited record each, see
    :class:`EventLog`; or pass an ``EventLog`` of your own) and every sink (a plain callable;
    exceptions it raises are counted in ``sink_errors``, never propagated). ``context`` lists
    context variables or callables ``f(contextvars.Context) -> mapping`` that name the request
    a stalled task served. Thread-safe; ``start``/``stop`` are idempotent; never raises into the
    host after construction; the watchdog is a daemon thread.
    """

    def __init__(
        self,
        threshold_ms: float = 100.0,
        *,
        sinks: Iterable[Sink] = (),
        context: Iterable[ContextProvider] = (),
        tripwire: object = False,
        max_events: int = 1000,
        max_sites: int = 200,
        log: bool | EventLog = True,
        iteration_timing: bool | str = "sampled",
        backstop: bool = False,
        hygiene: bool = True,
        sentinel: bool = True,
        max_routes: int = 100,
    ) -> None:
        if not valid_threshold_ms(threshold_ms):
            low, high = THRESHOLD_MS_RANGE
            raise ValueError(
                f"threshold_ms={threshold_ms!r} is invalid; give a number of milliseconds from "
                f"{low:g} to {high:g} (the default is 100)."
            )
        if iteration_timing not in _TIMING:
            raise ValueError(
                f"iteration_timing={iteration_timing!r} is not valid; "
                "use True or 'always', 'sampled', or False or 'off'."
            )
        self.threshold = threshold_ms / 1000.0
        # the options watch() compares a later call's with (sinks and context are added instead)
        self._options: dict[str, object] = {
            "threshold_ms": threshold_ms,
            "tripwire": tripwire,
            "max_events": max_events,
            "max_sites": max_sites,
            "log": log,
            "iteration_timing": iteration_timing,
            "backstop": backstop,
            "sentinel": sentinel,
            "hygiene": hygiene,
        }
        self.events: collections.deque[StallEvent] = collections.deque(maxlen=max_events)
        self.blocking_calls: collections.deque[TripwireEvent] = collections.deque(maxlen=max_events)
        self.sink_errors = 0
        self.stalls = 0
        self.running = False
        self._sinks: Sinks[Any] = Sinks(sinks)
        self._tripwire_option = tripwire
        self._tripwire: Any = None
        self._max_sites = max_sites
        self._max_routes = max_routes
        self._log: EventLog | None = (
            log if isinstance(log, EventLog) else EventLog() if log else None
        )
        self._routes = Routes(max_routes)
        self._counters = Counters(max_routes)
        self._next_drain = 0.0
        self._timing = _TIMING[iteration_timing]
        self._use_sentinel = sentinel
        self._sentinel: Sentinel | None = None
        self._sites = Sites(max_sites)
        self._hist = Histograms()
        self._loops: dict[int, LoopState] = {}
        self._states: tuple[LoopState, ...] = ()
        self._external: set[int] = set()  # loops found running at start: detached when they stop
        self._closing: collections.deque[LoopState] = collections.deque()
        self._sampler = Sampler(list(context))
        # reentrant: stop() may run in a signal handler that interrupted _attach on this thread
        self._lock = threading.RLock()
        # the watchdog and report() both emit the stalls the loops recorded (a sink may report)
        self._flushing = threading.RLock()
        self._stopped_ongoing: tuple[StallEvent, ...] = ()  # stalls still running at stop()
        self._watchdog_native = 0  # the watchdog thread the sentinel was told about
        self._watchdog = Watchdog(self.threshold, self._look, lambda: self._states)
        self._run_forever = RunForeverPatch(self._attach, self._detach)
        # asyncio mistakes seen at run time (tasks lost, coroutines never awaited, resources
        # left open): ``hygiene=False`` leaves their hooks out
        self.hygiene: collections.deque[HygieneEvent] = collections.deque(maxlen=max_events)
        self._hygiene = Hygiene(self._on_hygiene) if hygiene else None
        self._uvloop_import = AfterImport("uvloop", self._on_uvloop_import)

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> Watcher:
        """Start watching: hook loop start-up, attach to running loops, start the watchdog thread."""
        with self._lock:
            if self.running:
                return self
            self.running = True
            self._run_forever.patch(asyncio.base_events.BaseEventLoop)
            if not self._run_forever.patch_uvloop() and "uvloop" not in sys.modules:
                self._uvloop_import.install()  # the program imports it later (unstall run)
            gc.callbacks.append(self._gc_callback)
            _handoff.listeners.append(self._on_handoff)
            if self._hygiene is not None:
                self._hygiene.start()
            if self._use_sentinel:
                self._sentinel = _sentinel.acquire()
            self._start_watchdog()
            _started.add(self)
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            if self._attach(loop) is not None:
                self._external.add(
                    id(loop)
                )  # not attached through run_forever: no detach on return
        self._discover()
        if self._tripwire_option:
            self._start_tripwire()
        return self

    def _discover(self) -> None:
        """Attach to loops already running in other threads (through ``call_soon_threadsafe``)."""
        try:
            current = None
            with contextlib.suppress(RuntimeError):
                current = asyncio.get_running_loop()
            for loop in running_loops():
                if loop is not current and id(loop) not in self._loops:
                    self._external.add(id(loop))
                    loop.call_soon_threadsafe(self._attach, loop)
        except Exception:
            logger.debug("unstall: could not look for running loops", exc_info=True)

    def _start_watchdog(self) -> None:
        # with busy parts piling up every iteration, it wakes often
        sentinel = self._sentinel
        self._watchdog.start(
            steady=self._timing == "always",
            extra=() if sentinel is None else (sentinel.fileno(),),
        )

    def _start_tripwire(self) -> None:
        try:
            import importlib

            # the tripwire is optional and heavier: imported only when asked for
            module: Any = importlib.import_module("unstall.watch._tripwire")
            option: Any = self._tripwire_option
            # a Tripwire given by the caller (by its methods: a module imported afresh, as an
            # in-process test run that restores ``sys.modules`` does, has another class object)
            if callable(getattr(option, "add_sink", None)) and callable(
                getattr(option, "start", None)
            ):
                tw: Any = option
                tw.add_sink(self._on_tripwire)
            else:
                tw = module.Tripwire(sinks=[self._on_tripwire])
            tw.start()
            self._tripwire = tw
        except Exception:
            logger.warning(
                "unstall: the tripwire could not start; continuing without it", exc_info=True
            )

    def stop(self, timeout: float = 2.0) -> None:
        """Stop watching: restore every patched method, join the watchdog, emit what is pending.

        A stall still running is recorded with its duration so far, and is the report's
        ``ongoing`` from then on (``unstall run`` stops the watcher on SIGTERM mid-stall).
        """
        ongoing = self._ongoing(time.perf_counter()) if self.running else ()
        with self._lock:
            if not self.running:
                return
            self.running = False
            self._stopped_ongoing = ongoing
            for event in ongoing:
                self._record(event)
            _started.discard(self)
            self._uvloop_import.remove()
            self._run_forever.restore()
            with contextlib.suppress(ValueError):
                gc.callbacks.remove(self._gc_callback)
            with contextlib.suppress(ValueError):
                _handoff.listeners.remove(self._on_handoff)
            thread = self._watchdog.stop()
            if self._hygiene is not None:
                self._hygiene.stop()
        joined = self._watchdog.join(thread, timeout)
        sentinel = self._sentinel
        if sentinel is not None:
            sentinel.collect()  # the stacks of a stall that just ended
        for state in (*self._states, *self._closing):
            with contextlib.suppress(Exception):
                if sentinel is not None:
                    sentinel.drop_loop(state.loop_id)
                state.uninstall()
                self._flush(state, time.perf_counter())
                self._hist.close(state)
                if joined:
                    state.release()
        with self._lock:
            self._loops.clear()
            self._states = ()
            self._closing.clear()
            self._sampler.current.clear()
            self._sentinel = None
        if sentinel is not None:
            _sentinel.release()
        if self._tripwire is not None:
            try:
                self._tripwire.stop()
            except Exception:
                logger.warning("unstall: the tripwire failed to stop", exc_info=True)
            self._tripwire = None
        if self._log is not None:
            self._log.flush()

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Watcher:
        return self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _differs(self, options: dict[str, Any]) -> dict[str, Any]:
        """The ``options`` (as for the constructor) this watcher was not started with.

        Raises ``TypeError`` for a name the constructor does not take.
        """
        differ: dict[str, Any] = {}
        for name, value in options.items():
            if name not in self._options:
                raise TypeError(f"watch() got an unexpected keyword argument {name!r}")
            mine = self._options[name]
            if name == "tripwire":
                same = bool(value) == bool(mine) and (value is mine or isinstance(value, bool))
            elif name == "iteration_timing":
                same = _TIMING.get(value) == _TIMING.get(mine)
            else:
                same = value == mine
            if not same:
                differ[name] = value
        return differ

    def add_sink(self, sink: Sink) -> None:
        """Call ``sink(event)`` for every future StallEvent / TripwireEvent; exceptions it raises are counted."""
        self._sinks.add(sink)

    def remove_sink(self, sink: Sink) -> None:
        """Stop calling ``sink``; no error when it is not registered."""
        self._sinks.remove(sink)

    def _on_uvloop_import(self, module: object) -> None:
        """uvloop was just imported (on the importing thread): hook its loop before one starts."""
        with self._lock:
            if self.running:
                self._run_forever.patch_uvloop()

    # ---- loop registration (loop threads) ---------------------------------------------------------
    def _attach(self, loop: asyncio.AbstractEventLoop) -> LoopState | None:
        try:
            with self._lock:
                if not self.running or id(loop) in self._loops or loop.is_closed():
                    return None
                state = LoopState(
                    loop,
                    self.threshold,
                    timing=self._timing,
                    alarm=self._watchdog.sleeps,
                    notify=self._watchdog.wake,
                )
                state.install()
                if self._hygiene is not None:
                    state.on_tick = self._hygiene.attach(loop)
                self._loops[id(loop)] = state
                self._states = tuple(self._loops.values())
                self._to_sentinel(state)
            self._watchdog.wake()  # the watchdog starts listening to this loop's alarm
            return state
        except Exception:
            logger.warning(
                "unstall: could not instrument an event loop; it is not watched", exc_info=True
            )
            return None

    def _to_sentinel(self, state: LoopState) -> None:
        """Have the sentinel watch ``state``'s loop through its alarm (which it needs)."""
        sentinel, alarm = self._sentinel, state.alarm
        if sentinel is not None and alarm is not None:
            sentinel.add_loop(state.loop_id, state.native_id, alarm)

    def _detach(self, state: LoopState) -> None:
        try:
            with self._lock:
                if self._loops.get(state.loop_id) is state:
                    del self._loops[state.loop_id]
                    self._states = tuple(self._loops.values())
                    self._external.discard(state.loop_id)
                    self._closing.append(state)  # the watchdog emits what is pending
                    if self._sentinel is not None:
                        self._sentinel.drop_loop(state.loop_id)
            state.uninstall()
            self._watchdog.wake()
        except Exception:
            logger.debug("unstall: could not detach from a loop", exc_info=True)

    def _on_handoff(self, loop: asyncio.AbstractEventLoop) -> None:
        """The offload engine is about to wake tasks with results from other threads (loop
        thread): the loop's state notes what waits for them (see :mod:`unstall._handoff`)."""
        try:
            state = self._loops.get(id(loop))
            if state is not None:
                state.note_handoff()
        except Exception:  # never into the engine, and so never into the host
            pass

    def _gc_callback(self, phase: str, info: dict[str, int]) -> None:
        tid = threading.get_ident()
        for state in self._states:
            if state.thread_id == tid:
                spans = state.gc_spans
                if phase == "start":
                    # a full collection holds the GIL: nobody can sample it, so note who set it
                    # off (code objects and line numbers only; cheap, and only for generation 2)
                    where: tuple[Any, ...] = ()
                    if info.get("generation") == 2:
                        where = where_of(sys._getframe(1))
                    spans.append((time.perf_counter(), 0.0, where))
                elif spans and spans[-1][1] == 0.0:
                    first, _, where = spans[-1]
                    spans[-1] = (first, time.perf_counter(), where)

    # ---- the watchdog thread -----------------------------------------------------------------------
    def _look(self) -> bool:
        """One look at every loop (watchdog thread); whether a stall is being sampled."""
        now = time.perf_counter()
        sentinel = self._sentinel
        if sentinel is not None:
            native = threading.get_native_id()
            if native != self._watchdog_native:
                self._watchdog_native = native
                sentinel.set_watchdog(native)
            sentinel.collect()
        if "uvloop" in sys.modules:
            with self._lock:
                patched = self.running and self._run_forever.patch_uvloop()
            if patched:  # a uvloop loop may have started before the patch
                self._discover()
        for state in self._states:
            self._poll(state, now)
        if now >= self._next_drain:  # the lag timeline gets a point a second
            self._next_drain = now + 1.0
            for state in self._states:
                self._hist.drain(state)
        while self._closing:
            state = self._closing.popleft()
            self._flush(state, now)
            self._sampler.current.pop(state.loop_id, None)
            self._hist.close(state)
            state.release()
        return bool(self._sampler.current)

    def _poll(self, state: LoopState, now: float) -> None:
        since = state.busy_since()
        self._sampler.follow(state.loop_id, since)
        self._flush(state, now)
        if since and now - since > self.threshold / 2:
            errors = self._sampler.sample(state, since, now)
            if errors:  # context providers that raised
                self.sink_errors += errors
            alarm = state.alarm
            if alarm is not None and self._sentinel is not None:
                # a dead man's switch: should the GIL keep the watchdog from its next looks,
                # the alarm fires unread and the sentinel takes over
                alarm.arm(max(_DEAD_MAN, 3 * self._watchdog.busy_poll))
        if len(state.lag) > 4096 or len(state.busy) > 4096:
            self._hist.drain(state)
        if state.loop_id in self._external and (
            state.loop.is_closed() or not state.loop.is_running()
        ):
            self._detach(state)

    def _flush(self, state: LoopState, now: float) -> None:
        if not state.pending:
            return
        with self._flushing:
            self._emit_pending(state)

    def _emit_pending(self, state: LoopState) -> None:
        while state.pending:
            stall = state.pending.popleft()
            session = self._sampler.match(state.loop_id, stall.start, stall.duration)
            self._record(self._event(state, stall, session))

    def _event(self, state: LoopState, stall: Pending, session: Session | None) -> StallEvent:
        sentinel = self._sentinel
        dumps: tuple[Dump, ...] = ()
        if sentinel is not None:
            sentinel.collect()
            dumps = sentinel.find(state.loop_id, stall.start, stall.start + stall.duration)
        return stall_event(
            state,
            stall,
            session,
            threshold=self.threshold,
            busy_poll=self._watchdog.busy_poll,
            wall=time.time() - time.perf_counter(),
            dumps=dumps,
            thread_names=_thread_names() if dumps else None,
        )

    def _ongoing(self, now: float) -> tuple[StallEvent, ...]:
        """The stalls running now (any thread), each with its duration so far, never raising."""
        events: list[StallEvent] = []
        for state in self._states:
            try:
                since = state.busy_since()
                if not since or now - since < self.threshold:
                    continue
                session, errors = self._sampler.snapshot(state, since, now)
                self.sink_errors += errors
                stall = Pending(since, now - since, False, state.cpu_mark, run_times(state))
                events.append(self._event(state, stall, session))
            except Exception:  # a report must come out even when one loop cannot be read
                logger.debug("unstall: could not read a stall in progress", exc_info=True)
        return tuple(events)

    def _record(self, event: StallEvent) -> None:
        self.stalls += 1
        self.events.append(event)
        self._sites.add(event)
        self._routes.add_stall(event)
        self._counters.add_stall(event)
        if self._log is not None:
            self._log(event)
        self._to_sinks(event)

    def _to_sinks(self, event: object) -> None:
        failed = self._sinks.send(event)
        if failed:  # added once the sinks ran: another thread may count meanwhile
            self.sink_errors += failed

    def _on_hygiene(self, event: HygieneEvent) -> None:
        self.hygiene.append(event)
        self._to_sinks(event)

    def _on_tripwire(self, event: TripwireEvent) -> None:
        # on the thread that made the call, in its task: the request is the running one's
        request = current_request()
        if request is not None and not event.route:
            method, route = label(request)
            event = replace(event, method=method, route=route)
        self.blocking_calls.append(event)
        self._routes.add_call(event)
        self._counters.add_call(event)
        if self._log is not None:
            self._log(event)
        self._to_sinks(event)

    # ---- reporting ---------------------------------------------------------------------------------
    def histogram(self, loop_id: int, kind: str = "busy") -> Any:
        """The HdrHistogram (microseconds) of ``kind`` (``"busy"`` or ``"lag"``) for loop ``loop_id``, or ``None``."""
        state = self._loops.get(loop_id)
        if state is not None:
            self._hist.drain(state)
        return self._hist.histogram(loop_id, kind)

    def report(self) -> Report:
        """A snapshot :class:`Report` of everything seen so far (safe from any thread, any time).

        Stalls the loops finished before the call are in it even when the watchdog has not
        emitted them yet; stalls still running are its ``ongoing``, with their duration so far.
        """
        ongoing = self._stopped_ongoing
        if self.running:
            # first: a report() on a loop's thread that waits below is no stall of that loop
            ongoing = self._ongoing(time.perf_counter())
            # the watchdog may be building an event right now (the first one loads the catalog):
            # wait for it, briefly, then emit what the loops recorded since
            if self._flushing.acquire(timeout=_REPORT_WAIT):
                try:
                    for state in self._states:
                        with contextlib.suppress(Exception):
                            self._emit_pending(state)
                finally:
                    self._flushing.release()
        for state in list(self._closing):
            self._hist.close(state)
        return Report(
            self._sites.snapshot(),
            self._hist.stats(list(self._states)),
            self.stalls,
            tuple(self.blocking_calls),
            self.sink_errors,
            self.threshold,
            tuple(self.events)[-10:],
            routes=self._routes.snapshot(),
            hygiene=tuple(self.hygiene),
            ongoing=ongoing,
        )

    def metrics(self) -> MetricsSnapshot:
        """The counters and every loop's lag histogram now (safe from any thread, any time).

        See :mod:`unstall.integrations` for the Prometheus and OpenTelemetry exporters.
        """
        return self._counters.snapshot(self.lag_histogram())

    def lag_histogram(self) -> Histogram:
        """A new :class:`Histogram` of every loop's heartbeat lag (microseconds), closed loops included."""
        return self._hist.merged("lag", [*self._states, *self._closing])

    def timeline(self) -> tuple[LagPoint, ...]:
        """The loop lag over time: one :class:`LagPoint` an interval (1 s, coarser in long runs)."""
        return self._hist.timeline.points()

    def _after_fork_child(self) -> None:
        """In a forked child: forget the parent's numbers, keep this thread's loops, restart the thread."""
        self._lock = threading.RLock()
        self._sites = Sites(self._max_sites)
        self._hist = Histograms()
        self._routes = Routes(self._max_routes)
        self._counters = Counters(self._max_routes)
        self.events.clear()
        self.blocking_calls.clear()
        self.hygiene.clear()
        self.stalls = self.sink_errors = 0
        self._sampler.clear()
        self._closing.clear()
        self._external.clear()
        tid = threading.get_ident()
        kept = {k: s for k, s in self._loops.items() if s.thread_id == tid}
        for key, state in self._loops.items():
            if key not in kept:
                state.release()  # the child's copies of the parent's descriptors
        for state in kept.values():
            state.after_fork()
        self._watchdog.close()  # the child's copies of the parent's pipe
        self._loops = kept
        self._states = tuple(kept.values())
        self._watchdog_native = 0
        if self.running:
            if self._sentinel is not None:  # the parent's: the child gets its own
                self._sentinel = _sentinel.acquire()
                for state in kept.values():
                    self._to_sentinel(state)
            self._start_watchdog()


def _thread_names() -> dict[int, str]:
    """Every Python thread's name, by native id."""
    return {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}


_started: weakref.WeakSet[Watcher] = weakref.WeakSet()  # every running watcher, for fork


def _child() -> None:
    for watcher in list(_started):
        with contextlib.suppress(Exception):  # a fork must never fail because of the watchdog
            watcher._after_fork_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_child)
