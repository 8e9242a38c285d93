"""Judging a stall: its cause, and the stack behind a GC or a silent stall."""

from __future__ import annotations

import asyncio
import contextlib
from types import FrameType
from typing import Any

from unstall.watch._frames import is_io_entry, make_frame, site_fix
from unstall.watch._loops import LoopState, Pending, others_ran
from unstall.watch._model import Cause, Frame
from unstall.watch._sampling import Session

__all__ = ("frames_of", "judge", "running_loops", "where_of")


def where_of(frame: FrameType | None) -> tuple[Any, ...]:
    """``(code, line, module)`` of up to 32 frames from ``frame`` outwards: enough to blame later."""
    out: list[tuple[Any, int, Any]] = []
    while frame is not None and len(out) < 32:
        out.append((frame.f_code, frame.f_lineno or 0, frame.f_globals.get("__name__", "")))
        frame = frame.f_back
    return tuple(out)


def frames_of(where: tuple[Any, ...]) -> tuple[Frame, ...]:
    """The triples of :func:`where_of` as interned :class:`Frame` data, outermost first."""
    frames = [
        make_frame(code.co_filename, line, getattr(code, "co_qualname", code.co_name), str(module))
        for code, line, module in reversed(where)
    ]
    return tuple(frames)


def running_loops() -> set[asyncio.AbstractEventLoop]:
    """Loops running in any thread, found through their tasks (best effort)."""
    found: set[asyncio.AbstractEventLoop] = set()
    for name in ("_all_tasks", "_scheduled_tasks", "_eager_tasks"):
        tasks = getattr(asyncio.tasks, name, None)
        if tasks is None:
            continue
        with contextlib.suppress(RuntimeError):
            for task in list(tasks):
                loop = task.get_loop()
                if loop.is_running():
                    found.add(loop)
    return found


def judge(
    state: LoopState,
    stall: Pending,
    session: Session | None,
    threshold: float,
    busy_poll: float,
    *,
    held_elsewhere: bool = False,
) -> tuple[Cause, float, float]:
    """``(cause, CPU seconds, GC seconds)`` of a finished ``stall``.

    The stall carries the loop thread's clocks from before it began and from when it ended
    (see :func:`~unstall.watch._loops.run_times`).

    GC when collections on the loop thread covered half the stall; else CPU when the loop
    thread was on a CPU or waiting for one (``schedstat``) half the time, or on its CPU clock a
    third of it; else BLOCKED. Without any clock, a watchdog that got far fewer samples than it
    asked for was starved of the GIL: CPU work in C. A CPU verdict becomes BLOCKED when the
    samples sit mostly in catalogued blocking I/O (see :func:`mostly_io`). A BLOCKED verdict
    becomes GIL when the loop waited for the GIL another thread held: the sentinel saw that
    thread running (``held_elsewhere``), or other threads used half a CPU meanwhile while the
    watchdog, starved too, got almost no sample.
    """
    start, duration = stall.start, stall.duration
    end = start + duration
    gc_time = sum(max(0.0, min(b or end, end) - max(a, start)) for a, b, _ in list(state.gc_spans))
    if gc_time >= duration / 2:
        return Cause.GC, 0.0, gc_time
    before, after = stall.before, stall.end
    if held_elsewhere:  # the sentinel saw the GIL's holder at work, and never the loop thread
        own = after.cpu - before.cpu if before.cpu >= 0 and after.cpu >= 0 else 0.0
        return Cause.GIL, min(max(0.0, own), duration), gc_time
    starved = session is None or session.samples < max(
        2.0, (duration - threshold / 2) / busy_poll / 4
    )
    if before.cpu >= 0 and after.cpu >= 0 and after.time > before.time:
        wall = after.time - before.time
        cpu = max(0.0, after.cpu - before.cpu)
        if before.wait >= 0 and after.wait >= 0:
            # on the CPU or waiting for a core most of the time: CPU work on a busy machine
            wanted = cpu + max(0.0, after.wait - before.wait)
            cause = Cause.CPU if wanted / wall >= 0.5 else Cause.BLOCKED
        else:
            cause = Cause.CPU if cpu / wall >= 0.35 else Cause.BLOCKED
        cpu_time = min(cpu, duration)
    elif session is None:
        return (Cause.GIL if held_elsewhere else Cause.UNKNOWN), 0.0, gc_time
    else:
        # no CPU clock: a watchdog starved of samples was starved of the GIL, i.e. CPU work in C
        cause = Cause.CPU if starved else Cause.BLOCKED
        cpu_time = 0.0
    if cause is Cause.CPU and session is not None and mostly_io(session):
        cause = Cause.BLOCKED
    queued = before.wait >= 0 and after.wait >= 0 and after.wait - before.wait >= duration / 2
    if starved and others_ran(before, after) and not queued:
        # the loop thread barely ran while other threads worked, and it did not spend the stall
        # waiting for a core (a machine short of CPU starves every thread, GIL or not)
        cause = Cause.GIL
    return cause, cpu_time, gc_time


def mostly_io(session: Session) -> bool:
    """Whether the samples the catalog can name are mostly blocking I/O, and a quarter of all.

    Reads served from the page cache, or a socket to a local peer, keep the loop thread on a
    CPU, in system calls that release the GIL: the stall is a blocked call, fixed by a thread.
    """
    named = io = 0
    for stack, count in session.stacks.items():
        entry = site_fix(stack, Cause.CPU)[3]
        if entry is not None:
            named += count
            io += count if is_io_entry(entry) else 0
    return io * 2 > named and io * 4 >= session.samples
