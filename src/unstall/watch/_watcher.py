"""The watchdog: one daemon thread for every watched loop, turning long iterations into StallEvents."""

from __future__ import annotations

import asyncio
import asyncio.base_events
import collections
import contextlib
import contextvars
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType
from typing import Any

from unstall.watch._frames import blame, fix_for, stack_of
from unstall.watch._loops import LoopState
from unstall.watch._model import Cause, Frame, StallEvent, TaskInfo, TripwireEvent
from unstall.watch._report import LoopStats, Report, SiteStats, site_key

__all__ = ("Watcher", "watch")

logger = logging.getLogger("unstall")
Sink = Callable[[Any], object]
ContextProvider = (
    Callable[[contextvars.Context], "dict[str, str] | None"] | contextvars.ContextVar[Any]
)

_MAX_STACKS = 8
_MAX_SAMPLES_PER_SITE = 512


class _Site:
    __slots__ = (
        "blocked",
        "code",
        "count",
        "cpu",
        "durations",
        "example",
        "fix",
        "gc",
        "max",
        "total",
    )

    def __init__(self) -> None:
        self.count = 0
        self.total = self.max = self.cpu = self.blocked = self.gc = 0.0
        self.durations: collections.deque[float] = collections.deque(maxlen=_MAX_SAMPLES_PER_SITE)
        self.example: tuple[Frame, ...] = ()
        self.fix: str | None = None
        self.code: str | None = None


class _Sampling:
    __slots__ = ("clock", "cpu0", "samples", "since", "stacks", "task", "wall0")

    def __init__(self, since: float, clock: int | None) -> None:
        self.since = since
        self.stacks: dict[tuple[Frame, ...], None] = {}
        self.samples = 0
        self.clock = clock
        self.wall0 = time.perf_counter()
        self.cpu0 = _cpu(clock)
        self.task: tuple[TaskInfo, contextvars.Context | None] | None = None


def _running_handle_context(frame: FrameType | None) -> contextvars.Context | None:
    """The context the running ``asyncio.Handle`` entered (3.11's C Task does not expose its own)."""
    while frame is not None:
        if frame.f_code is _HANDLE_RUN_CODE:
            ctx = getattr(frame.f_locals.get("self"), "_context", None)
            return ctx if isinstance(ctx, contextvars.Context) else None
        frame = frame.f_back
    return None


_HANDLE_RUN_CODE = asyncio.events.Handle._run.__code__


def _cpu(clock: int | None) -> float:
    if clock is None:
        return -1.0
    try:
        return time.clock_gettime(clock)
    except OSError:
        return -1.0


class Watcher:
    """Watches every event loop in the process for iterations longer than ``threshold`` seconds.

    By default each loop gets a ``call_later`` heartbeat (lateness = stall length, within one
    heartbeat interval); ``iteration_timing=True`` times every iteration of selector loops
    instead (exact durations and utilization, at a per-iteration cost of about a microsecond).
    Thread-safe; ``start``/``stop`` are idempotent. Events go to ``events`` (the last ``max_events``),
    the aggregated :meth:`report`, the ``unstall`` logger and every sink. Never raises into the host.
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
        log: bool = True,
        iteration_timing: bool = False,
    ) -> None:
        if not threshold_ms > 0:
            raise ValueError(
                f"threshold_ms={threshold_ms!r} must be a positive number of milliseconds."
            )
        self.threshold = threshold_ms / 1000.0
        self.events: collections.deque[StallEvent] = collections.deque(maxlen=max_events)
        self.blocking_calls: collections.deque[TripwireEvent] = collections.deque(maxlen=max_events)
        self._sinks: list[Sink] = list(sinks)
        self._context = list(context)
        self._tripwire_option = tripwire
        self._tripwire: Any = None
        self._max_sites = max_sites
        self._log = log
        self._iteration_timing = iteration_timing
        self._busy_poll = min(0.01, max(0.001, self.threshold / 20))
        self._sites: dict[str, _Site] = {}
        self._loops: dict[int, LoopState] = {}
        self._hist: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._sampling: dict[int, _Sampling] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._orig_run_forever: Any = None
        self.sink_errors = 0
        self.stalls = 0
        self.running = False

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> Watcher:
        """Start watching: hook loop start, instrument the calling thread's running loop, start the thread."""
        with self._lock:
            if self.running:
                return self
            self.running = True
            self._stop.clear()
            watcher = self
            original = asyncio.base_events.BaseEventLoop.run_forever
            self._orig_run_forever = original

            def run_forever(loop: asyncio.base_events.BaseEventLoop) -> None:
                state = watcher._attach(loop)
                try:
                    original(loop)
                finally:
                    if state is not None:
                        watcher._detach(loop)

            asyncio.base_events.BaseEventLoop.run_forever = run_forever  # type: ignore[method-assign,assignment]
            gc.callbacks.append(self._gc_callback)
            self._spawn()
        with contextlib.suppress(RuntimeError):
            self._attach(asyncio.get_running_loop())
        if self._tripwire_option:
            self._start_tripwire()
        return self

    def _spawn(self) -> None:
        self._thread = threading.Thread(target=self._run, name="unstall-watchdog", daemon=True)
        self._thread.start()

    def _start_tripwire(self) -> None:
        try:
            import importlib

            # the tripwire is optional and heavier: imported only when asked for
            module: Any = importlib.import_module("unstall.watch._tripwire")
            option: Any = self._tripwire_option
            if isinstance(option, module.Tripwire):
                tw: Any = option
                if hasattr(tw, "add_sink"):
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
        """Stop watching, restore every patched method and join the watchdog thread (bounded by ``timeout``)."""
        with self._lock:
            if not self.running:
                return
            self.running = False
            if self._orig_run_forever is not None:
                asyncio.base_events.BaseEventLoop.run_forever = self._orig_run_forever  # type: ignore[method-assign]
                self._orig_run_forever = None
            with contextlib.suppress(ValueError):
                gc.callbacks.remove(self._gc_callback)
            for state in list(self._loops.values()):
                state.uninstall()
            self._stop.set()
            thread, self._thread = self._thread, None
        if self._tripwire is not None:
            try:
                self._tripwire.stop()
            except Exception:
                logger.warning("unstall: the tripwire failed to stop", exc_info=True)
            self._tripwire = None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

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

    def add_sink(self, sink: Sink) -> None:
        """Call ``sink(event)`` for every future StallEvent / TripwireEvent; exceptions it raises are counted."""
        self._sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        """Stop calling ``sink``; no error when it is not registered."""
        with contextlib.suppress(ValueError):
            self._sinks.remove(sink)

    def watch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch ``loop`` explicitly (for loops started before the watcher); call from the loop's thread."""
        self._attach(loop)

    # ---- loop registration ---------------------------------------------------------------------
    def _attach(self, loop: asyncio.AbstractEventLoop) -> LoopState | None:
        try:
            if not self.running or id(loop) in self._loops:
                return None
            interval = min(0.05, max(0.01, self.threshold / 4))
            state = LoopState(loop, threading.get_ident(), self.threshold, interval)
            state.install(selector=self._iteration_timing)
            with self._lock:
                self._loops[id(loop)] = state
            return state
        except Exception:
            logger.warning(
                "unstall: could not instrument an event loop; it is not watched", exc_info=True
            )
            return None

    def _detach(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            state = self._loops.pop(id(loop), None)
        if state is not None:
            state.uninstall()
            self._drain(state)
            self._finish_pending(state, self._sampling.pop(id(loop), None))

    def _gc_callback(self, phase: str, info: dict[str, int]) -> None:
        tid = threading.get_ident()
        for state in self._loops.values():
            if state.thread_id == tid:
                if phase == "start":
                    state.gc_spans.append((time.perf_counter(), 0.0))
                elif state.gc_spans and state.gc_spans[-1][1] == 0.0:
                    state.gc_spans[-1] = (state.gc_spans[-1][0], time.perf_counter())

    # ---- the watchdog thread -----------------------------------------------------------------------
    def _run(self) -> None:
        sampling = self._sampling
        idle = min(0.025, max(0.002, self.threshold / 4))
        busy = self._busy_poll
        while not self._stop.is_set():
            try:
                self._stop.wait(busy if sampling else idle)
                now = time.perf_counter()
                for state in list(self._loops.values()):
                    self._poll(state, sampling, now)
            except Exception:  # never let the watchdog die noisily; report once and keep going
                logger.debug("unstall: watchdog poll failed", exc_info=True)

    def _poll(self, state: LoopState, sampling: dict[int, _Sampling], now: float) -> None:
        since = state.since
        current = sampling.get(state.loop_id)
        if current is not None and current.since != since:
            del sampling[state.loop_id]
            self._finish_pending(state, current)
            current = None
        if since and now - since > self.threshold / 2:
            if current is None:
                clock = None
                with contextlib.suppress(AttributeError, OSError):
                    clock = time.pthread_getcpuclockid(state.thread_id)
                current = sampling[state.loop_id] = _Sampling(since, clock)
            frame = sys._current_frames().get(state.thread_id)
            if frame is not None:
                current.stacks.setdefault(stack_of(frame), None)
                current.samples += 1
                if len(current.stacks) > _MAX_STACKS:
                    current.stacks.pop(next(iter(current.stacks)))
                if current.samples == 1:
                    self._snapshot_task(state, current, frame)
            del frame
        if current is None:
            self._finish_pending(state, None)
        if len(state.busy) > 4096:
            self._drain(state)

    def _snapshot_task(self, state: LoopState, current: _Sampling, frame: FrameType) -> None:
        current_tasks: dict[Any, Any] = getattr(asyncio.tasks, "_current_tasks", {})
        task = current_tasks.get(state.loop)
        if task is None:
            return
        coro = task.get_coro()
        info = TaskInfo(task.get_name(), getattr(coro, "__qualname__", type(coro).__name__))
        get_context = getattr(task, "get_context", None)  # Task.get_context exists from 3.12
        ctx = get_context() if get_context is not None else getattr(task, "_context", None)
        if ctx is None:
            ctx = _running_handle_context(frame)
        current.task = (info, ctx)

    def _drain(self, state: LoopState) -> None:
        values, state.busy[:] = list(state.busy), []
        if not values:
            return
        hist = self._hist.get(state.loop_id)
        if hist is None:
            from hdrh.histogram import HdrHistogram

            hist = self._hist[state.loop_id] = (HdrHistogram(1, 3_600_000_000, 2), state)
        # short iterations repeat the same few microsecond values: count them in C, record once each
        for v, n in collections.Counter(values).items():
            hist[0].record_value(max(1, v), n)

    def _finish_pending(self, state: LoopState, current: _Sampling | None) -> None:
        while state.pending:
            start, duration = state.pending.popleft()
            match = current if current is not None and current.since == start else None
            self._emit(state, start, duration, match)

    def _emit(self, state: LoopState, start: float, duration: float, s: _Sampling | None) -> None:
        stacks = tuple(s.stacks) if s is not None else ()
        # the innermost sampled stack that reached user code tells the most
        stack = max(stacks, key=len) if stacks else ()
        blamed, offender = blame(stack)
        end = start + duration
        gc_time = sum(max(0.0, min(b or end, end) - max(a, start)) for a, b in list(state.gc_spans))
        cpu_time = 0.0
        cause = Cause.UNKNOWN
        if gc_time >= duration / 2:
            cause = Cause.GC
        elif s is not None and s.cpu0 >= 0:
            wall = time.perf_counter() - s.wall0
            cpu_time = max(0.0, _cpu(s.clock) - s.cpu0)
            # a watchdog that got far fewer samples than it asked for was starved of the GIL:
            # C code held it, which is CPU work the loop thread did
            expected = (duration - self.threshold / 2) / self._busy_poll
            if s.samples < max(2.0, expected / 4):
                cause = Cause.CPU
            elif wall > 0:
                cause = Cause.CPU if cpu_time / wall >= 0.5 else Cause.BLOCKED
        code, entry, fix = fix_for(blamed, offender, cause)
        task_info: TaskInfo | None = None
        context: tuple[tuple[str, str], ...] = ()
        snap = s.task if s is not None else None
        if snap is not None:
            task_info, ctx = snap
            context = self._read_context(ctx)
        event = StallEvent(
            start=time.time() - (time.perf_counter() - start),
            duration=duration,
            threshold=self.threshold,
            cause=cause,
            blamed=blamed,
            offender=offender,
            stacks=stacks,
            task=task_info,
            context=context,
            cpu_time=cpu_time,
            gc_time=gc_time,
            thread_id=state.thread_id,
            thread_name=state.thread_name,
            loop_id=state.loop_id,
            code=code,
            entry=entry,
            fix=fix,
            samples=s.samples if s is not None else 0,
        )
        self._record(event)

    def _read_context(self, ctx: contextvars.Context | None) -> tuple[tuple[str, str], ...]:
        if ctx is None:
            return ()
        out: list[tuple[str, str]] = []
        for provider in self._context:
            try:
                if isinstance(provider, contextvars.ContextVar):
                    if provider in ctx:
                        out.append((provider.name, str(ctx[provider])))
                else:
                    out.extend((str(k), str(v)) for k, v in (provider(ctx) or {}).items())
            except Exception:
                self.sink_errors += 1
        return tuple(out)

    def _record(self, event: StallEvent) -> None:
        self.stalls += 1
        self.events.append(event)
        key = site_key(event)
        site = self._sites.pop(key, None) or _Site()
        self._sites[key] = site  # most recent last
        site.count += 1
        site.total += event.duration
        site.max = max(site.max, event.duration)
        site.durations.append(event.duration)
        if event.cause is Cause.CPU:
            site.cpu += event.duration
        elif event.cause is Cause.GC:
            site.gc += event.duration
        elif event.cause is Cause.BLOCKED:
            site.blocked += event.duration
        if not site.example and event.stacks:
            site.example = max(event.stacks, key=len)
        site.fix, site.code = event.fix, event.code
        if len(self._sites) > self._max_sites:
            smallest = min(self._sites, key=lambda k: self._sites[k].total)
            del self._sites[smallest]
        if self._log:
            where = site_key(event)
            logger.warning(
                "unstall: loop stalled %.0f ms (%s) at %s; fix: %s",
                event.duration * 1e3,
                event.cause.value,
                where,
                event.fix,
                extra={"unstall_event": event},
            )
        self._to_sinks(event)

    def _to_sinks(self, event: object) -> None:
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception:
                self.sink_errors += 1

    def _on_tripwire(self, event: TripwireEvent) -> None:
        self.blocking_calls.append(event)
        self._to_sinks(event)

    # ---- reporting ---------------------------------------------------------------------------------
    def histogram(self, loop_id: int) -> Any:
        """The HdrHistogram (microseconds) of iteration busy time / lag of loop ``loop_id``, or ``None``."""
        pair = self._hist.get(loop_id)
        return None if pair is None else pair[0]

    def report(self) -> Report:
        """A snapshot :class:`Report` of everything seen so far."""
        for state in list(self._loops.values()):
            self._drain(state)
        sites = []
        for key, s in list(self._sites.items()):
            d = sorted(s.durations)
            p99 = d[min(len(d) - 1, int(len(d) * 0.99))] if d else 0.0
            tot = s.total or 1.0
            sites.append(
                SiteStats(
                    key,
                    s.count,
                    s.total,
                    p99,
                    s.max,
                    s.cpu / tot,
                    s.blocked / tot,
                    s.gc / tot,
                    s.fix,
                    s.code,
                    s.example,
                )
            )
        sites.sort(key=lambda x: -x.total)
        loops = []
        for loop_id, (h, state) in list(self._hist.items()):
            loops.append(
                LoopStats(
                    loop_id,
                    state.thread_name,
                    state.mode,
                    h.get_total_count(),
                    h.get_value_at_percentile(50) / 1e6,
                    h.get_value_at_percentile(90) / 1e6,
                    h.get_value_at_percentile(99) / 1e6,
                    h.get_value_at_percentile(99.9) / 1e6,
                    h.get_max_value() / 1e6,
                    state.utilization(),
                )
            )
        return Report(
            tuple(sites), tuple(loops), self.stalls, tuple(self.blocking_calls), self.sink_errors
        )

    def _after_fork_child(self) -> None:
        if self.running:
            self._loops.clear()
            self._stop = threading.Event()
            self._spawn()


_current: Watcher | None = None


def watch(threshold_ms: float = 100.0, **options: Any) -> Watcher:
    """Start (or return the already running) process-wide :class:`Watcher`; see Watcher for options."""
    global _current
    if _current is not None and _current.running:
        for sink in options.get("sinks", ()):
            _current.add_sink(sink)
        return _current
    report_at_exit = bool(options.pop("report_at_exit", False))
    _current = Watcher(threshold_ms, **options)
    if report_at_exit:
        import atexit

        watcher = _current
        atexit.register(lambda: sys.stderr.write(watcher.report().render_text()))
    return _current.start()


def _child() -> None:
    if _current is not None:
        _current._after_fork_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_child)
