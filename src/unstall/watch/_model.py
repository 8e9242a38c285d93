"""Value types of the runtime watchdog: frames, stall events and tripwire events.

None of them holds a reference to a live frame, code object or local variable: only
file names, line numbers, function names and source text, so events are safe to keep,
log and send anywhere.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ("Cause", "Frame", "StallEvent", "TaskInfo", "TripwireEvent")


class Cause(enum.Enum):
    """Why the loop stalled, judged from the loop thread's CPU clock and ``gc.callbacks``."""

    CPU = "cpu"  # the loop thread was on the CPU most of the stall: move the work to a process
    BLOCKED = "blocked"  # the loop thread waited (I/O, lock, sleep): move the call to a thread
    GC = "gc"  # a garbage collection ran for most of the stall
    # the loop thread waited for the GIL that another thread held (C code in a worker the loop
    # handed work to): threads cannot help, move the work to a process
    GIL = "gil"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Frame:
    """One stack frame, as plain data. ``source`` is the stripped source line, or ``""``."""

    filename: str
    lineno: int
    function: str
    module: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """The asyncio task that was running: its name, its coroutine's qualified name, and its await chain."""

    name: str
    coroutine: str
    awaiting: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StallEvent:
    """One stall of an event loop.

    ``start`` is ``time.time()`` when the stalled iteration began, ``duration`` its true length
    in seconds (not capped at the threshold). ``blamed`` is the first frame in the user's code,
    ``offender`` the innermost library frame that was running (``None`` when they are the same).
    ``stacks`` holds the distinct sampled stacks (outermost frame first), ``cause`` the label,
    ``cpu_time`` the loop thread's CPU seconds over the stall, ``gc_time`` the seconds spent in
    garbage collection. ``context`` is what the context providers returned (request id, trace
    id, ...). ``fix`` is the catalog's suggestion when the offender is a known blocking callable,
    else the generic one for the cause. ``code`` is that entry's rule code, if any.

    A stall in C code that held the GIL is seen by the sentinel (``stack_source`` ``"signal"``:
    the thread wrote its own stack). When another thread held it (cause ``GIL``),
    ``gil_thread`` names that thread, ``stacks`` start with its stack (``offender`` is the C
    function it was in) and ``blamed`` is the line that handed it the work (the
    ``to_thread``/``run_in_executor`` call the loop's task awaited), when one was found.
    ``method`` and ``route`` name the HTTP request the stalled task served, when a framework
    middleware of :mod:`unstall.integrations` set it: the route template (``/items/{item_id}``,
    never the path), ``"<unmatched>"`` when no route matched; both ``""`` outside any request.
    ``stack_counts`` holds how many samples landed on each of ``stacks`` (0: not sampled).
    """

    start: float
    duration: float
    threshold: float
    cause: Cause
    blamed: Frame | None
    offender: Frame | None = None
    stacks: tuple[tuple[Frame, ...], ...] = ()
    task: TaskInfo | None = None
    context: tuple[tuple[str, str], ...] = ()
    cpu_time: float = 0.0
    gc_time: float = 0.0
    thread_id: int = 0
    thread_name: str = ""
    loop_id: int = 0
    code: str | None = None
    entry: str | None = None
    fix: str | None = None
    samples: int = 0
    precision: float = 0.0
    stack_source: str = ""
    gil_thread: str = ""
    method: str = ""
    route: str = ""
    stack_counts: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TripwireEvent:
    """A known blocking call made on a thread whose event loop was running (strict mode).

    ``name`` is the catalog entry's qualified name, ``code`` its rule code, ``detail`` the
    kinds and sizes of the call's first arguments (``str[21], float``: never their values),
    ``duration`` the call's length in seconds when it could be measured, ``blamed`` the first
    frame in the user's code and ``stack`` the stack at the call. ``method`` and ``route``
    name the HTTP request that made the call, as for :class:`StallEvent`.
    """

    name: str
    code: str
    kind: str
    detail: str
    blamed: Frame | None
    stack: tuple[Frame, ...] = ()
    duration: float | None = None
    time: float = 0.0
    thread_id: int = 0
    task: TaskInfo | None = None
    fix: str | None = None
    action: str = "record"
    extra: tuple[tuple[str, str], ...] = field(default=())
    method: str = ""
    route: str = ""
