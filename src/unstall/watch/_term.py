"""SIGTERM under ``unstall run``: the report when Python can write it, the default end either way.

``unstall run`` handles SIGTERM in Python, to write the report first. A Python signal handler
only runs between bytecodes of the main thread, so while C code holds the GIL it does not
run, and the process no longer ended on SIGTERM as the plain program would. Two things put
that right:

* the handler is made to reset to the default action as the signal is delivered
  (``SA_RESETHAND``, set through ``sigaction`` on the handler Python installed), so the kernel
  clears the process's caught-SIGTERM bit at once, and a second SIGTERM ends the process;
* the sentinel, which needs no GIL, watches that bit: ``bound`` seconds after it cleared, if
  the process has not ended (its handler never ran), it sends that second SIGTERM.

A program that installs its own SIGTERM handler (``signal.signal``) takes SIGTERM over: the
sentinel is told to stand down. Linux on x86-64 and arm64 only (the ``struct sigaction`` layout
is known there); elsewhere :func:`enforce_sigterm` returns ``None`` and nothing changes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from unstall.watch import _sentinel

__all__ = ("enforce_sigterm", "reset_on_delivery")

logger = logging.getLogger("unstall")

_SA_RESETHAND = 0x80000000
# offset of sa_flags in the C library's struct sigaction: a handler pointer, then a 1024-bit mask
_FLAGS_OFFSET = 8 + 128
_SIGACTION_SIZE = 256  # room to spare over the 152 bytes it takes


def reset_on_delivery(signum: int) -> bool:
    """Make the handler installed for ``signum`` reset to the default once it is delivered.

    Keeps the handler and its mask; adds ``SA_RESETHAND`` to its flags. ``False`` (and nothing
    changed) where it cannot be done safely.
    """
    if not sys.platform.startswith("linux") or os.uname().machine not in ("x86_64", "aarch64"):
        return False
    try:
        import ctypes

        libc: Any = ctypes.CDLL(None, use_errno=True)
        action = ctypes.create_string_buffer(_SIGACTION_SIZE)
        if libc.sigaction(signum, None, action) != 0:
            return False
        handler = action.raw[:8]
        if handler in (b"\0" * 8, (1).to_bytes(8, sys.byteorder)):  # SIG_DFL, SIG_IGN
            return False
        flags = ctypes.c_uint32.from_buffer(action, _FLAGS_OFFSET)
        flags.value |= _SA_RESETHAND
        if libc.sigaction(signum, action, None) != 0:
            return False
        check = ctypes.create_string_buffer(_SIGACTION_SIZE)
        libc.sigaction(signum, None, check)
        reset = int.from_bytes(check.raw[_FLAGS_OFFSET : _FLAGS_OFFSET + 4], sys.byteorder)
        return check.raw[:8] == handler and bool(reset & _SA_RESETHAND)
    except (ImportError, OSError, AttributeError, ValueError):
        return False


def enforce_sigterm(bound: float) -> Callable[[], None] | None:
    """Have SIGTERM end the process within about ``bound`` seconds even while C holds the GIL.

    Call it once the Python SIGTERM handler is installed. Returns what undoes it (for when the
    program has ended), or ``None`` where it cannot be done (no sentinel, another platform).
    """
    sentinel = _sentinel.acquire()
    if sentinel is None:
        return None
    if not reset_on_delivery(signal.SIGTERM):
        _sentinel.release()
        return None
    sentinel.enforce_term(bound)
    restore = _watch_signal_calls(sentinel.release_term)

    def undo() -> None:
        restore()
        sentinel.release_term()
        _sentinel.release()

    return undo


def _watch_signal_calls(on_sigterm: Callable[[], object]) -> Callable[[], None]:
    """Wrap ``signal.signal`` so that a SIGTERM handler the program installs calls ``on_sigterm``
    first; returns what puts the original back (unless someone replaced the wrapper since)."""
    original = signal.signal

    @functools.wraps(original)
    def guarded(signalnum: Any, handler: Any) -> Any:
        if signalnum == signal.SIGTERM:
            with contextlib.suppress(Exception):
                on_sigterm()  # SIGTERM is the program's now: the sentinel stands down
        return original(signalnum, handler)

    signal.signal = guarded

    def restore() -> None:
        if signal.signal is guarded:
            signal.signal = original

    return restore
