"""Building a stall's event: what the loop thread measured, the samples, the verdict, the blame."""

from __future__ import annotations

from unstall.watch._frames import site_fix
from unstall.watch._judge import frames_of, judge
from unstall.watch._loops import LoopState, Pending
from unstall.watch._model import Cause, Frame, StallEvent
from unstall.watch._request import label
from unstall.watch._sampling import MAX_STACKS, Session

__all__ = ("stall_event",)


def stall_event(
    state: LoopState,
    stall: Pending,
    session: Session | None,
    *,
    threshold: float,
    busy_poll: float,
    dumped: tuple[Frame, ...] | None,
    wall: float,
) -> StallEvent:
    """The :class:`StallEvent` of ``stall``, a finished stall of ``state``'s loop.

    ``session`` holds the samples the watchdog took while it ran (``None``: none were). The
    stacks are the samples', most frequent first; for a GC stall, the line that set the
    collection off comes first; with no stack at all, ``dumped`` (the loop thread's stack from
    a ``faulthandler`` dump taken during the stall, if any). ``busy_poll`` is the watchdog's
    sampling interval while a stall runs (seconds); ``wall`` is ``time.time()`` minus
    ``time.perf_counter()``, to date the event. Reads ``state`` and ``session`` only.
    """
    cause, cpu_time, gc_time = judge(state, stall, session, threshold, busy_poll)
    stacks, source = _stacks(state, stall, session, cause, dumped)
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
        samples=session.samples if session is not None else 0,
        precision=0.0 if stall.exact else state.interval / 2,
        stack_source=source,
        method=request.method,
        route=request.route,
        stack_counts=tuple(session.stacks.get(s, 0) for s in stacks) if session is not None else (),
    )


def _stacks(
    state: LoopState,
    stall: Pending,
    session: Session | None,
    cause: Cause,
    dumped: tuple[Frame, ...] | None,
) -> tuple[tuple[tuple[Frame, ...], ...], str]:
    """The stall's stacks, the one to blame first, and where they come from (``stack_source``)."""
    stacks = (
        tuple(stack for stack, _ in session.stacks.most_common(MAX_STACKS))
        if session is not None
        else ()
    )
    source = "samples" if stacks else ""
    if cause is Cause.GC:
        # a collection holds the GIL, so no sample can land inside it: samples show the loop
        # before or after it, while the frame noted when it started is the line that set it off
        start, end = stall.start, stall.start + stall.duration
        for a, b, where in list(state.gc_spans):
            if where and a <= end and (b or a) >= start:
                return (frames_of(where), *stacks[: MAX_STACKS - 1]), "gc"
    if not stacks and dumped:
        return (dumped,), "faulthandler"
    return stacks, source
