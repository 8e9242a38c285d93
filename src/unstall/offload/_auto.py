"""The ``auto`` engine: measure the first calls on a thread, then route each function for good.

CPU time alone cannot tell GIL-holding Python (which starves the event loop from a thread and
belongs in a process) from C code that releases the GIL (hashlib, zlib, numpy: fine on a
thread). The loop's lag while the call runs can: a thread holding the GIL makes the loop wait
for the interpreter's switch interval (5 ms) at every turn.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from unstall.errors import NotPicklable
from unstall.offload._engine import CallTiming, CancelMode, EngineLookup
from unstall.offload._names import qualname

__all__ = ("AutoDecision", "AutoRouter")

T = TypeVar("T")

_HEARTBEAT = 0.002  # seconds between heartbeats while a measured call runs
_WAITING_CPU_RATIO = 0.3  # below this share of wall time on CPU, a call mostly waits
_FIRST_LOOK_BEATS = 4  # beats seen before concurrent first calls decide where to go
_LONG_CALL = 0.03  # one GIL-holding call this long (s) is enough evidence to decide at once


@dataclass(frozen=True, slots=True)
class AutoDecision:
    """Where ``auto`` sends one function, and why.

    ``engine`` is ``"thread"``, ``"process"``, or ``"measuring"`` while the first calls are
    still being timed. ``cpu_ratio`` is the worker thread's CPU time over wall time during the
    measured calls; ``loop_lag_ms`` the event loop's typical heartbeat lag during the measured
    calls (milliseconds; median over calls of each call's lower-quartile lag); ``pinned`` is true when set by :meth:`Offloader.pin`.
    """

    function: str
    engine: str
    reason: str
    samples: int
    cpu_ratio: float | None
    loop_lag_ms: float | None
    pinned: bool


def _gil_threshold() -> float:
    # A loop waiting on a GIL-holding thread gets it back after about the switch interval.
    return 0.5 * sys.getswitchinterval()


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


class _Profile:
    __slots__ = ("count", "cpu", "engine", "lags", "measuring", "pinned", "reason", "wall")

    def __init__(self) -> None:
        self.count = 0
        self.cpu = 0.0
        self.wall = 0.0
        self.lags: list[float] = []
        self.engine: str | None = None
        self.reason = "first calls run on a thread while they are measured"
        self.measuring: _Heartbeat | None = None  # the call being measured, if any
        self.pinned = False


class _Heartbeat:
    """Records how late a periodic loop callback runs while a measured call is in flight.

    ``first_look`` resolves after a few beats (or when the call ends), ``done`` when the
    call ends: concurrent first calls wait on them instead of piling onto threads.
    """

    __slots__ = ("done", "expected", "first_look", "handle", "lags", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.lags: list[float] = []
        self.first_look: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.expected = loop.time() + _HEARTBEAT
        self.handle = loop.call_at(self.expected, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        self.lags.append(max(0.0, now - self.expected))
        if len(self.lags) >= _FIRST_LOOK_BEATS and not self.first_look.done():
            self.first_look.set_result(None)
        self.expected = now + _HEARTBEAT
        self.handle = self.loop.call_at(self.expected, self._tick)

    def looks_gil_bound(self) -> bool:
        """True when the beats so far were late by about the interpreter's switch interval."""
        if len(self.lags) < _FIRST_LOOK_BEATS:
            return False
        # The median: the first beat may come before the thread got going.
        return sorted(self.lags)[len(self.lags) // 2] >= _gil_threshold()

    def stop(self) -> float | None:
        """Stop; return the lower-quartile lag in seconds, or None if the call was too short.

        A quantile, not the mean: a thread holding the GIL delays nearly every beat by about
        the switch interval, while a busy machine delays some beats, by a lot.
        """
        self.handle.cancel()
        for fut in (self.first_look, self.done):
            if not fut.done():
                fut.set_result(None)
        late = self.loop.time() - self.expected
        if late > 0:  # the last beat is overdue: count it
            self.lags.append(late)
        if not self.lags:
            return None
        ordered = sorted(self.lags)
        return ordered[len(ordered) // 4]


class AutoRouter:
    """Per-function routing decisions of one :class:`Offloader` (thread-safe).

    ``engines`` finds an engine by name; calls being measured run on its ``"thread"`` engine,
    which must time them (``measure``), and decided ones on ``"thread"`` or ``"process"``.
    ``samples`` is how many measured calls it takes to decide.
    """

    def __init__(self, engines: EngineLookup, samples: int = 3) -> None:
        self._engines = engines
        self._samples = max(1, samples)
        self._profiles: dict[str, _Profile] = {}
        self._lock = threading.Lock()

    def _profile(self, key: str) -> _Profile:
        profile = self._profiles.get(key)
        if profile is None:
            with self._lock:
                profile = self._profiles.setdefault(key, _Profile())
        return profile

    def pin(self, fn: Callable[..., Any] | str, engine: str) -> None:
        """Always send ``fn`` (a callable or its ``module.qualname``) to ``engine``."""
        key = fn if isinstance(fn, str) else qualname(fn)
        profile = self._profile(key)
        profile.engine, profile.pinned, profile.reason = engine, True, "pinned"

    def unpin(self, fn: Callable[..., Any] | str) -> None:
        """Forget the pinned or measured decision for ``fn``: it is measured again."""
        key = fn if isinstance(fn, str) else qualname(fn)
        with self._lock:
            self._profiles.pop(key, None)

    def decisions(self) -> tuple[AutoDecision, ...]:
        """A snapshot of every function seen so far, sorted by name."""
        with self._lock:
            items = sorted(self._profiles.items())
        return tuple(
            AutoDecision(
                function=key,
                engine=p.engine or "measuring",
                reason=p.reason,
                samples=p.count,
                cpu_ratio=round(p.cpu / p.wall, 3) if p.wall > 0 else None,
                loop_lag_ms=round(_median(p.lags) * 1e3, 3) if p.lags else None,
                pinned=p.pinned,
            )
            for key, p in items
        )

    async def run(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        timeout: float | None,
        cancel: CancelMode,
    ) -> T:
        """Run one call on the engine chosen (or being chosen) for ``fn``."""
        profile = self._profile(qualname(fn))
        target = profile.engine
        if target is None:
            target = await self._wait_for_route(profile)
            if target is None:
                return await self._measure(profile, fn, args, kwargs, timeout, cancel)
        if target != "process":
            return await self._engines(target).run(fn, args, kwargs, timeout=timeout, cancel=cancel)
        try:
            return await self._engines("process").run(
                fn, args, kwargs, timeout=timeout, cancel=cancel
            )
        except NotPicklable as exc:
            if exc.what == "result":
                raise
            # This call's arguments cannot travel; it still must not run on the loop.
            return await self._engines("thread").run(
                fn, args, kwargs, timeout=timeout, cancel=cancel
            )

    async def _wait_for_route(self, profile: _Profile) -> str | None:
        """The engine for a call of a function not decided yet, or None to measure this call."""
        while True:
            if profile.engine is not None:  # decided while this call waited
                return profile.engine
            measuring = profile.measuring
            if measuring is None:
                return None
            # Another call is being measured. Running this one on a thread meanwhile would
            # skew it and, if the function holds the GIL, stall the loop twice as hard: take
            # a first look at the loop's lag, and wait for the verdict if it looks GIL-bound.
            if measuring.loop is not asyncio.get_running_loop():
                return "thread"
            await asyncio.shield(measuring.first_look)
            if not measuring.looks_gil_bound():
                return "thread"
            await asyncio.shield(measuring.done)
            if profile.measuring is measuring:  # let its finally clear it first
                await asyncio.sleep(0)

    async def _measure(
        self,
        profile: _Profile,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        timeout: float | None,
        cancel: CancelMode,
    ) -> T:
        timings: list[CallTiming] = []
        heartbeat = _Heartbeat(asyncio.get_running_loop())
        profile.measuring = heartbeat
        try:
            engine = self._engines("thread")
            return await engine.run(
                fn, args, kwargs, timeout=timeout, cancel=cancel, measure=timings.append
            )
        finally:
            profile.measuring = None
            lag = heartbeat.stop()
            if timings and profile.engine is None:
                cpu, wall = timings[0]
                profile.cpu += cpu
                profile.wall += wall
                profile.count += 1
                if lag is not None:
                    profile.lags.append(lag)
                self._maybe_decide(profile, fn, wall)

    def _maybe_decide(self, profile: _Profile, fn: Callable[..., Any], wall: float) -> None:
        ratio = profile.cpu / profile.wall if profile.wall > 0 else 0.0
        lag = _median(profile.lags) if profile.lags else None
        holds_gil = ratio >= _WAITING_CPU_RATIO and lag is not None and lag >= _gil_threshold()
        if profile.count < self._samples and not (holds_gil and wall >= _LONG_CALL):
            return
        if ratio < _WAITING_CPU_RATIO:
            engine, reason = "thread", f"mostly waiting: CPU {ratio:.0%} of wall time"
        elif lag is None:
            engine, reason = "thread", "calls are too short for a process to pay off"
        elif not holds_gil:
            engine, reason = (
                "thread",
                f"CPU-bound but releases the GIL: loop lag {lag * 1e3:.2f} ms during calls",
            )
        else:
            import pickle  # only here: keeps `import unstall.offload` light

            try:
                pickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                engine, reason = (
                    "thread",
                    f"holds the GIL (loop lag {lag * 1e3:.2f} ms) but cannot be pickled for a "
                    f"process ({type(exc).__name__}); define it at module level to move it",
                )
            else:
                engine, reason = (
                    "process",
                    f"CPU-bound and holds the GIL: CPU {ratio:.0%} of wall time, loop lag "
                    f"{lag * 1e3:.2f} ms during calls",
                )
        profile.engine, profile.reason = engine, reason
