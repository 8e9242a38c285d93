"""Building a stall's event: what the loop thread measured, the samples, the verdict, the blame."""

from __future__ import annotations

import collections
from collections.abc import Mapping

from unstall.watch._frames import is_user_file, site_fix
from unstall.watch._judge import frames_of, judge
from unstall.watch._loops import LoopState, Pending
from unstall.watch._model import Cause, Frame, StallEvent
from unstall.watch._request import label
from unstall.watch._sampling import MAX_STACKS, Session
from unstall.watch._sentinel import Dump

__all__ = ("GIL_FIX", "stall_event")

# modules of the threads and pools that run handed work: their function names (run, _worker)
# say nothing of what was handed
_MACHINERY = ("threading", "concurrent.", "asyncio", "unstall.", "anyio", "starlette", "queue")
GIL_FIX = (
    "the loop waited for the GIL that thread {thread} held: threads cannot run GIL-holding work "
    "beside the loop; run it in a process (unstall.to_process, or loop.run_in_executor with a "
    "ProcessPoolExecutor)"
)


def stall_event(
    state: LoopState,
    stall: Pending,
    session: Session | None,
    *,
    threshold: float,
    busy_poll: float,
    wall: float,
    dumps: tuple[Dump, ...] = (),
    thread_names: Mapping[int, str] | None = None,
) -> StallEvent:
    """The :class:`StallEvent` of ``stall``, a finished stall of ``state``'s loop.

    ``session`` holds the samples the watchdog took while it ran (``None``: none were). The
    stacks are the samples', most frequent first; for a GC stall, the line that set the
    collection off comes first. ``dumps`` are the stacks threads
    wrote on the sentinel's signal during the stall, while the GIL kept the watchdog out: the
    loop thread's own come first; another thread's mean the loop waited for the GIL it held.
    ``thread_names`` names threads by native id. ``busy_poll`` is the watchdog's sampling
    interval while a stall runs (seconds); ``wall`` is ``time.time()`` minus
    ``time.perf_counter()``, to date the event. Reads ``state`` and ``session`` only.
    """
    own = tuple(d for d in dumps if d.native_id == state.native_id)
    holder = _holder(dumps, state.native_id)
    cause, cpu_time, gc_time = judge(
        state, stall, session, threshold, busy_poll, held_elsewhere=holder is not None
    )
    gil_thread = ""
    if cause is Cause.GIL:
        stacks, source, blamed, offender, code, entry, fix = _gil_blame(stall, holder, dumps)
        if holder is not None:
            gil_thread = (thread_names or {}).get(holder, f"native id {holder}")
        fix = GIL_FIX.format(thread=gil_thread or "another thread")
    else:
        stacks, source = _stacks(state, stall, session, cause, own)
        blamed, offender, code, entry, fix = site_fix(stacks[0] if stacks else (), cause)
    request = label(session.request_for(stacks[0] if stacks else None) if session else None)
    return StallEvent(
        start=wall + stall.start,
        duration=stall.duration,
        threshold=threshold,
        cause=cause,
        blamed=blamed,
        offender=offender,
        stacks=stacks,
        task=session.task if session is not None else None,
        context=session.context if session is not None else (),
        cpu_time=cpu_time,
        gc_time=gc_time,
        thread_id=state.thread_id,
        thread_name=state.thread_name,
        loop_id=state.loop_id,
        code=code,
        entry=entry,
        fix=fix,
        samples=(session.samples if session is not None else 0) + len(own),
        precision=0.0 if stall.exact else state.interval / 2,
        stack_source=source,
        gil_thread=gil_thread,
        method=request.method,
        route=request.route,
        stack_counts=tuple(session.stacks.get(s, 0) for s in stacks) if session is not None else (),
    )


def _holder(dumps: tuple[Dump, ...], loop_native_id: int) -> int | None:
    """The thread other than the loop's that the sentinel found running most often, if any."""
    counts = collections.Counter(d.native_id for d in dumps if d.native_id != loop_native_id)
    if not counts or any(d.native_id == loop_native_id for d in dumps):
        return None  # the loop thread ran itself: the GIL was its own
    return counts.most_common(1)[0][0]


def _stacks(
    state: LoopState,
    stall: Pending,
    session: Session | None,
    cause: Cause,
    own: tuple[Dump, ...] = (),
) -> tuple[tuple[tuple[Frame, ...], ...], str]:
    """The stall's stacks, the one to blame first, and where they come from (``stack_source``).

    The loop thread's own dumps count as samples: they were written during the stall, where
    the only sample of a stall in C code, taken as it ended, can be a line late.
    """
    counts: collections.Counter[tuple[Frame, ...]] = collections.Counter(d.stack for d in own)
    if session is not None:
        counts.update(session.stacks)
    stacks = tuple(stack for stack, _ in counts.most_common(MAX_STACKS))
    dumped = {d.stack for d in own}
    source = ("signal" if stacks[0] in dumped else "samples") if stacks else ""
    if cause is Cause.GC:
        # a collection holds the GIL, so no sample can land inside it: samples show the loop
        # before or after it, while the frame noted when it started is the line that set it off
        start, end = stall.start, stall.start + stall.duration
        for a, b, where in list(state.gc_spans):
            if where and a <= end and (b or a) >= start:
                return (frames_of(where), *stacks[: MAX_STACKS - 1]), "gc"
    return stacks, source


def _gil_blame(
    stall: Pending, holder: int | None, dumps: tuple[Dump, ...]
) -> tuple[
    tuple[tuple[Frame, ...], ...],
    str,
    Frame | None,
    Frame | None,
    str | None,
    str | None,
    str,
]:
    """``(stacks, source, blamed, offender, code, entry, fix)`` of a loop that waited for the GIL.

    The holder's stacks come first (its innermost frame is the C function it ran); the
    blamed line is where the loop's task handed it the work, and otherwise the holder's own
    innermost user frame.
    """
    held = [d.stack for d in dumps if d.native_id == holder]
    held_stacks = tuple(s for s, _ in collections.Counter(held).most_common(MAX_STACKS))
    handed = _handing_chain(stall, held_stacks[0] if held_stacks else ())
    stacks = (*held_stacks, handed) if handed else held_stacks
    offender = held_stacks[0][-1] if held_stacks and held_stacks[0] else None
    blamed = next((f for f in reversed(handed) if is_user_file(f.filename)), None)
    code = entry = None
    if held_stacks:
        own_blamed, own_offender, code, entry, _ = site_fix(held_stacks[0], Cause.CPU)
        if blamed is None:  # the holder's own line, or its innermost frame with a file
            blamed = next(
                (f for f in reversed(held_stacks[0]) if is_user_file(f.filename)),
                next((f for f in reversed(held_stacks[0]) if f.lineno), own_blamed),
            )
        offender = own_offender or offender
    source = "signal" if held_stacks else ("handed" if handed else "")
    return stacks, source, blamed, offender, code, entry, ""


def _handing_chain(stall: Pending, held: tuple[Frame, ...]) -> tuple[Frame, ...]:
    """The await chain (outermost first) of the task that handed the holder its work: of the
    tasks waiting on a thread when the stall ended, the one whose line names a function the
    holder was in, else the first."""
    chains = [frames_of(chain) for chain in stall.handed]
    if not chains:
        return ()
    names = {
        f.function.rpartition(".")[2]
        for f in held
        if len(f.function) > 2 and not f.module.startswith(_MACHINERY)
    }
    for chain in chains:
        lines = " ".join(f.source for f in chain if is_user_file(f.filename))
        if any(name and name in lines for name in names):
            return chain
    return chains[0]
