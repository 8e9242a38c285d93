"""The backstop for stalls in C code that holds the GIL: a ``faulthandler`` timer.

A C extension that holds the GIL (a regex backtracking, a big ``json.loads``, a hash of a huge
buffer) also stops the watchdog thread, so it cannot sample. ``faulthandler``'s timer thread
does not need the GIL: the watchdog keeps re-arming ``faulthandler.dump_traceback_later``
while it is healthy, so the timer only fires when the watchdog itself has been starved for
longer than ``timeout``. The dump (file, line and function of every thread; no values) goes
to a private temporary file, is parsed back into :class:`Frame` stacks and is matched to the
stall that was running when it fired.

Re-arming costs one short-lived C thread per ``period`` (40 ms; about 50 us each). The timer
fires at ``timeout`` (0.9 x the threshold, at least 100 ms), far enough past ``period`` that a
watchdog merely delayed by a loaded machine does not trigger a dump: a dump reads the other
threads' frames without the GIL, which is safe for a thread stuck in C but not free. ``faulthandler`` has one timer per process: only one
watcher at a time owns it, and a program that uses ``dump_traceback_later`` itself should pass
``backstop=False``.
"""

from __future__ import annotations

import collections
import contextlib
import faulthandler
import os
import re
import sys
import tempfile
import threading
import time
from typing import IO

from unstall.watch._frames import make_frame
from unstall.watch._model import Frame

__all__ = ("Backstop",)

_THREAD = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-fA-F]+)")
_FRAME = re.compile(r'^\s+File "(.*)", line (\d+) in (.+?)\s*$')
_owner_lock = threading.Lock()
_owner: Backstop | None = None


def _module_of(filename: str) -> str:
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name
    return ""


def parse_dump(text: str) -> dict[int, tuple[Frame, ...]]:
    """Stacks by thread ident (outermost first) from a ``faulthandler`` traceback dump."""
    stacks: dict[int, list[Frame]] = {}
    current: list[Frame] | None = None
    modules: dict[str, str] = {}
    for line in text.splitlines():
        head = _THREAD.match(line)
        if head:
            current = stacks.setdefault(int(head.group(1), 16), [])
            continue
        frame = _FRAME.match(line)
        if frame and current is not None:
            filename = frame.group(1)
            if filename not in modules:
                modules[filename] = _module_of(filename)
            current.append(
                make_frame(filename, int(frame.group(2)), frame.group(3), modules[filename])
            )
    return {tid: tuple(reversed(frames)) for tid, frames in stacks.items()}


class Backstop:
    """Owns the process's ``faulthandler`` timer while started; driven by the watchdog thread."""

    def __init__(self, threshold: float) -> None:
        # re-arm often, fire late: the timer must only fire when the watchdog has really been
        # stopped (a dump walks the other threads' frames without the GIL)
        self.period = 0.04
        self.timeout = max(0.9 * threshold, 0.1)
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()
        self._armed_at = float("-inf")
        # (time the dump fired, stacks by thread ident) of recent dumps
        self.dumps: collections.deque[tuple[float, dict[int, tuple[Frame, ...]]]] = (
            collections.deque(maxlen=8)
        )

    def start(self) -> bool:
        """Take the timer if no other watcher holds it; ``False`` when it could not."""
        global _owner
        with _owner_lock:
            if _owner is not None and _owner is not self:
                return False
            try:
                # kept open while started; closed in stop()
                self._file = tempfile.TemporaryFile(prefix="unstall-backstop-")  # noqa: SIM115
            except OSError:
                return False
            _owner = self
        return True  # armed by the first tick(), from the watchdog thread

    def _arm(self, now: float) -> None:
        with self._lock:  # never arm a file that stop() is closing
            f = self._file
            if f is None or _forking:
                return
            with contextlib.suppress(OSError, RuntimeError, ValueError):  # retried next period
                faulthandler.dump_traceback_later(self.timeout, repeat=False, file=f)
            self._armed_at = now

    def suspend(self) -> None:
        """Disarm while the watchdog itself is busy (emitting events); the next tick re-arms."""
        with self._lock:
            if self._file is None:
                return
            with contextlib.suppress(Exception):
                faulthandler.cancel_dump_traceback_later()
            self._armed_at = float("-inf")

    def tick(self, now: float) -> None:
        """Re-arm when the last arming is ``period`` old; collect a dump that fired."""
        if self._file is None:
            return
        self.collect()
        if now - self._armed_at >= self.period:
            self._arm(now)

    def collect(self) -> None:
        """Read, parse and clear a dump that fired since the last call."""
        f = self._file
        if f is None:
            return
        try:
            fd = f.fileno()
            if os.fstat(fd).st_size == 0:
                return
            os.lseek(fd, 0, os.SEEK_SET)
            text = os.read(fd, 1 << 20).decode("utf-8", "replace")
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        except OSError:
            return
        self.dumps.append((self._armed_at + self.timeout, parse_dump(text)))

    def find(self, thread_id: int, start: float, end: float) -> tuple[Frame, ...] | None:
        """The loop thread's stack from a dump that fired during ``[start, end]`` (perf_counter seconds)."""
        slack = 0.02
        for fired, stacks in reversed(self.dumps):
            if start - slack <= fired <= end + slack:
                stack = stacks.get(thread_id)
                if stack:
                    return stack
        return None

    def stop(self) -> None:
        """Cancel the timer, close the file and give up ownership; idempotent."""
        global _owner
        with _owner_lock:
            if _owner is not self:
                return
            _owner = None
            with self._lock:
                with contextlib.suppress(Exception):
                    faulthandler.cancel_dump_traceback_later()
                f, self._file = self._file, None
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()

    def after_fork(self) -> None:
        """In a forked child: the file is shared with the parent; start over with a new one."""
        global _owner
        self._lock = threading.Lock()  # the parent's watchdog may have held it
        if _owner is self:
            _owner = None
            f, self._file = self._file, None
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()  # the child's copy of the descriptor only
            self.dumps.clear()
            self.start()


# faulthandler's timer must not be armed across a fork: the child would inherit a timer whose
# thread does not exist, and the next arming would wait for that thread forever.
_forking = False


def _before_fork() -> None:
    global _forking
    _forking = True
    if _owner is not None:
        with contextlib.suppress(Exception):
            faulthandler.cancel_dump_traceback_later()


def _after_fork_in_parent() -> None:
    global _forking
    _forking = False
    owner = _owner
    if owner is not None:
        owner._arm(time.perf_counter())


def _after_fork_in_child() -> None:
    global _forking, _owner_lock
    _forking = False
    _owner_lock = threading.Lock()  # another thread of the parent may have held it


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
