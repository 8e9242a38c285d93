"""Pickling calls up front in the caller, so a bad argument is named before anything is sent."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from typing import Any

from unstall.errors import NotPicklable
from unstall.offload._names import describe, qualname
from unstall.offload._wire import encode

__all__ = ("dumps_call",)

_FIX = (
    "Define the function at module top level (lambdas, nested functions and bound methods of "
    "unpicklable objects cannot be sent), pass only picklable arguments (no sockets, locks, "
    "open files), or run it with engine='thread'."
)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def dumps_call(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> list[bytes | memoryview]:
    """Encode ``(fn, args, kwargs)`` as a frame; raise :class:`NotPicklable` naming the culprit."""
    try:
        return encode((fn, args, dict(kwargs)))
    except Exception as whole:
        parts: list[tuple[str, Any]] = [("function", fn)]
        parts += [(f"argument {i}", arg) for i, arg in enumerate(args)]
        parts += [(f"keyword {key!r}", value) for key, value in kwargs.items()]
        for what, obj in parts:
            try:
                pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                raise NotPicklable(
                    f"Cannot send the {what} ({describe(obj)}) of {qualname(fn)}() to a worker "
                    f"process because it cannot be pickled ({_reason(exc)}). {_FIX}",
                    what=what,
                    reason=_reason(exc),
                ) from exc
        raise NotPicklable(
            f"Cannot send the call {qualname(fn)}() to a worker process because it cannot be "
            f"pickled ({_reason(whole)}). {_FIX}",
            what="call",
            reason=_reason(whole),
        ) from whole
