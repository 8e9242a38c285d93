"""A future for results that arrive in a loop callback, which wakes its task in that callback.

An :class:`asyncio.Future` wakes the task awaiting it through ``call_soon``: the task runs on
the loop's *next* iteration. For a call offloaded to a thread that is one more pass through
the selector per result (a system call, and on the stock loop one more hand-over of the GIL
between the loop thread and the worker, which is then waiting for it). Sequential calls pay
that every time, and it is about a quarter of ``asyncio.to_thread``'s round trip here.

A :class:`Waiter` is completed by :meth:`Waiter.resolve`, which only ever runs in a callback
on its loop (the one that drains finished calls), and runs the awaiting task's wake-up right
there, in that task's context: exactly what the loop would have done one iteration later.
Everything else follows the protocol asyncio's ``Task`` expects from a future it awaits
(``_asyncio_future_blocking``, ``get_loop``, ``add_done_callback``, ``cancel(msg)``,
``result``); cancellation and timeouts take the ordinary, scheduled path.

Only the offload engines create and await these, inside their own coroutines; user code never
sees one.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Generator
from typing import Any

__all__ = ("Waiter", "resolve_all")

_PENDING = 0
_FINISHED = 1
_CANCELLED = 2

Callback = Callable[["Waiter"], object]


class Waiter:
    """The pending result of one offloaded call, awaited by exactly one coroutine."""

    __slots__ = ("_asyncio_future_blocking", "_callbacks", "_error", "_loop", "_state", "_value")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._state = _PENDING
        self._value: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[tuple[Callback, contextvars.Context]] = []
        # asyncio's Task reads and clears this flag on the object its coroutine yields.
        self._asyncio_future_blocking = False

    # -- the part of the Future protocol that Task and the engines use ----------------------

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def done(self) -> bool:
        return self._state != _PENDING

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def add_done_callback(
        self, fn: Callback, *, context: contextvars.Context | None = None
    ) -> None:
        if context is None:
            context = contextvars.copy_context()
        if self._state != _PENDING:
            self._loop.call_soon(fn, self, context=context)
        else:
            self._callbacks.append((fn, context))

    def remove_done_callback(self, fn: Callback) -> int:
        kept = [(f, c) for f, c in self._callbacks if f != fn]
        removed = len(self._callbacks) - len(kept)
        self._callbacks = kept
        return removed

    def cancel(self, msg: Any | None = None) -> bool:
        if self._state != _PENDING:
            return False
        self._state = _CANCELLED
        self._error = asyncio.CancelledError() if msg is None else asyncio.CancelledError(msg)
        self._schedule_callbacks()
        return True

    def result(self) -> Any:
        if self._state == _PENDING:
            raise asyncio.InvalidStateError("Result is not ready.")
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self) -> BaseException | None:
        if self._state == _PENDING:
            raise asyncio.InvalidStateError("Exception is not set.")
        if self._state == _CANCELLED:
            assert self._error is not None
            raise self._error
        return self._error

    def __await__(self) -> Generator[Any, None, Any]:
        if self._state == _PENDING:
            self._asyncio_future_blocking = True
            yield self  # the Task registers its wake-up with add_done_callback
        return self.result()

    __iter__ = __await__

    # -- completing ------------------------------------------------------------------------

    def resolve(self, ok: bool, value: Any) -> None:
        """Set the outcome and wake the awaiting task now. Only from a callback on the loop."""
        if self._finish(ok, value):
            callbacks, self._callbacks = self._callbacks, []
            for fn, context in callbacks:
                context.run(fn, self)

    def settle_later(self, ok: bool, value: Any) -> None:
        """Like :meth:`resolve`, but the task wakes on the next iteration (like a Future)."""
        if self._finish(ok, value):
            self._schedule_callbacks()

    def _finish(self, ok: bool, value: Any) -> bool:
        """Record the outcome; ``False`` if already done (cancelled or timed out: dropped)."""
        if self._state != _PENDING:
            return False
        self._state = _FINISHED
        if ok:
            self._value = value
        else:
            self._error = value
        return True

    def fail_later(self, error: BaseException) -> None:
        """Set an exception, waking the task on the next iteration (like a Future)."""
        self.settle_later(False, error)

    # asyncio.Future's names, for code that completes either kind
    def set_result(self, value: Any) -> None:
        self.settle_later(True, value)

    def set_exception(self, error: BaseException) -> None:
        self.settle_later(False, error)

    def _schedule_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for fn, context in callbacks:
            self._loop.call_soon(fn, self, context=context)


def resolve_all(outcomes: list[tuple[Waiter, bool, Any]]) -> None:
    """Resolve each waiter in turn (from a loop callback).

    A woken task's step can raise out of here (``SystemExit``, ``KeyboardInterrupt``); the
    waiters after it are then settled for the next iteration, so none is left hanging.
    """
    for index, (waiter, ok, value) in enumerate(outcomes):
        try:
            waiter.resolve(ok, value)
        except BaseException:
            for rest, rest_ok, rest_value in outcomes[index + 1 :]:
                rest.settle_later(rest_ok, rest_value)
            raise
