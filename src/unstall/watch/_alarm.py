"""Kernel timers for the watch: the watchdog's alarm and, where there is one, the loop's heartbeat.

The alarm is a one-shot timer a loop re-arms on every heartbeat: the watchdog sleeps until it
fires.

A watchdog that polls wakes up many times a second whether or not anything is wrong, and
every wake-up takes the GIL from the loop. With a Linux ``timerfd`` the loop's heartbeat
pushes the deadline forward (one system call per heartbeat) and the watchdog blocks in
``poll`` on the descriptor: it only wakes when a heartbeat is late, that is when the loop
may be stalling. The timer is relative and uses ``CLOCK_MONOTONIC`` (the clock behind
``time.perf_counter`` on Linux).

``os.timerfd_create`` exists from Python 3.13; on 3.11 and 3.12 the two calls go through
``ctypes`` to the C library. Elsewhere (no ``timerfd``) :func:`create_alarm` returns ``None``
and the watchdog polls as before.

The heartbeat (see :mod:`unstall.watch._loops`) is a periodic timer of the same kind, read by
the loop as an ordinary reader: unlike a ``call_later`` timer, it does not give every blocking
wait of the loop's selector a timeout, which on a virtual machine costs a kernel timer set and
cancelled per wait (measured: 5-6% of a loopback echo on stock asyncio).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ("Alarm", "create_alarm")

_CLOCK_MONOTONIC = 1
_TFD_NONBLOCK = 0o4000
_TFD_CLOEXEC = 0o2000000

Backend = tuple[Callable[[], int], Callable[[int, float, float], None]]
_native: Backend | None = None
_probed = False


def _ns(seconds: float) -> int:
    return max(1, int(seconds * 1e9)) if seconds > 0 else 0


def _via_os() -> Backend | None:
    create = getattr(os, "timerfd_create", None)
    settime = getattr(os, "timerfd_settime_ns", None)
    if create is None or settime is None:
        return None
    flags = getattr(os, "TFD_NONBLOCK", _TFD_NONBLOCK) | getattr(os, "TFD_CLOEXEC", _TFD_CLOEXEC)

    def make() -> int:
        fd: int = create(_CLOCK_MONOTONIC, flags=flags)
        return fd

    def arm(fd: int, delay: float, interval: float) -> None:
        settime(fd, initial=_ns(delay), interval=_ns(interval) if delay > 0 else 0)

    return make, arm


def _via_ctypes() -> Backend | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only here: the watch package itself stays light to import

    libc: Any = ctypes.CDLL(None, use_errno=True)
    create = getattr(libc, "timerfd_create", None)
    settime = getattr(libc, "timerfd_settime", None)
    if create is None or settime is None:
        return None

    class Timespec(ctypes.Structure):
        _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))

    class Itimerspec(ctypes.Structure):
        _fields_ = (("it_interval", Timespec), ("it_value", Timespec))

    create.argtypes = (ctypes.c_int, ctypes.c_int)
    create.restype = ctypes.c_int
    settime.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    settime.restype = ctypes.c_int

    def make() -> int:
        fd: int = create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return fd

    def arm(fd: int, delay: float, interval: float) -> None:
        # a fresh struct per call: two loop threads may arm their own alarms at once
        spec = Itimerspec()
        if delay > 0:
            value = spec.it_value
            value.tv_sec, value.tv_nsec = divmod(_ns(delay), 1_000_000_000)
            every = spec.it_interval
            every.tv_sec, every.tv_nsec = divmod(_ns(interval), 1_000_000_000)
        if settime(fd, 0, ctypes.addressof(spec), None) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    return make, arm


def _backend() -> Backend | None:
    global _native, _probed
    if not _probed:
        try:
            _native = _via_os() or _via_ctypes()
        except Exception:  # no timerfd here: the watchdog polls instead
            _native = None
        _probed = True
    return _native


class Alarm:
    """One ``timerfd``: :meth:`arm` from the loop thread, ``poll`` on :attr:`fd` in the watchdog."""

    __slots__ = ("_arm", "fd")

    def __init__(self, fd: int, arm: Callable[[int, float, float], None]) -> None:
        self.fd = fd
        self._arm = arm

    def arm(self, delay: float, interval: float = 0.0) -> bool:
        """Fire ``delay`` seconds from now, then every ``interval`` seconds if one is given
        (replacing any earlier setting); ``False`` on failure."""
        try:
            self._arm(self.fd, delay, interval)
            return True
        except (OSError, ValueError, TypeError):
            return False

    def disarm(self) -> None:
        """Cancel the deadline; a closed alarm is ignored."""
        self.arm(0.0)

    def clear(self) -> bool:
        """Consume a firing (watchdog thread); ``True`` when the timer had fired."""
        return self.expirations() > 0

    def expirations(self) -> int:
        """How many times the timer fired since the last read (consuming them); 0 for none."""
        try:
            return int.from_bytes(os.read(self.fd, 8), sys.byteorder)
        except OSError:  # not fired (EAGAIN), or re-armed since: nothing to consume
            return 0

    def close(self) -> None:
        """Close the descriptor; idempotent."""
        fd, self.fd = self.fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __del__(self) -> None:  # a beat whose loop closed before it could be unregistered
        try:  # noqa: SIM105 - at interpreter shutdown ``contextlib`` may already be gone
            self.close()
        except Exception:
            pass


def create_alarm() -> Alarm | None:
    """A new disarmed :class:`Alarm`, or ``None`` where ``timerfd`` is not available."""
    backend = _backend()
    if backend is None:
        return None
    make, arm = backend
    try:
        return Alarm(make(), arm)
    except OSError:  # out of descriptors, or a sandbox that forbids timerfd
        return None
