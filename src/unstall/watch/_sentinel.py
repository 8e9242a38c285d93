"""The sentinel, from the watched process's side: start it, tell it the loops, read its stacks.

A stall in C code that holds the GIL stops every Python thread of the process, the watchdog's
included, so no sample of it can be taken from inside. The sentinel (its program is
``unstall.watch._sentinel_main``) is a small helper process that sees such a stall from
outside: when a loop's alarm stays unread, it finds the thread that burns a CPU and sends it a
signal whose handler, ``faulthandler``'s C handler registered here with ``all_threads=False``,
writes that thread's own stack to a pipe. No thread reads another's frames, and no Python
code runs in this process for it. The stacks come back over a socket as :class:`Dump` records
that the watchdog matches to stalls.

One sentinel serves the whole process (every watcher, every loop; the pytest plugin's watchers
share one for a session): :func:`acquire` starts it for the first user, :func:`release` stops
it after the last, and :meth:`Sentinel.stop` ends the helper before the signal handler is
unregistered, so that no signal can arrive without it. Linux only; elsewhere, or where the
helper cannot start, :func:`acquire` returns ``None`` and stalls in C code are known from the
samples the watchdog takes as they end.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import faulthandler
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

from unstall.watch._alarm import Alarm
from unstall.watch._frames import callee_of_line, make_frame
from unstall.watch._model import Frame

__all__ = ("Dump", "Sentinel", "acquire", "parse_stack", "release")

logger = logging.getLogger("unstall")

# an alarm unread this long (seconds) means the watchdog is starved of the GIL: it reads its
# alarm within a millisecond or two of waking, and a thread that runs Python code gives the GIL
# up every 5 ms (sys.getswitchinterval)
STARVE = 0.02
_PROGRAM = Path(__file__).with_name("_sentinel_main.py")
_FRAME = re.compile(r'^\s+File "(.*)", line (\d+) in (.+?)\s*$')
_STOP_WAIT = 1.0  # seconds stop() waits for the helper to exit before it kills it


class Dump(NamedTuple):
    """A thread's own stack, written while the watchdog was starved during a loop's stall."""

    time: float  # perf_counter seconds
    loop_id: int
    native_id: int  # the thread that wrote it
    stack: tuple[Frame, ...]  # outermost first; a ``<C>`` frame names the call its last line makes
    cpu: tuple[
        tuple[int, float], ...
    ]  # (native id, CPU seconds) each thread used in the stall so far


def parse_stack(text: str) -> tuple[Frame, ...]:
    """The frames of one ``faulthandler`` stack (most recent call first), outermost first.

    The innermost frame's line is running a call into C (no Python frame is deeper): a
    ``<C>`` frame names it, from the line's source text.
    """
    frames: list[Frame] = []
    modules: dict[str, str] = {}
    for line in text.splitlines():
        found = _FRAME.match(line)
        if found is None:
            continue
        filename = found.group(1)
        if filename not in modules:
            modules[filename] = _module_of(filename)
        frames.append(make_frame(filename, int(found.group(2)), found.group(3), modules[filename]))
    frames.reverse()
    if frames:
        callee = callee_of_line(frames[-1])
        if callee is not None:
            frames.append(callee)
    return tuple(frames)


def _module_of(filename: str) -> str:
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name
    return ""


def _python() -> bool:
    """Whether ``sys.executable`` is a Python interpreter to run the helper with (an embedding
    host, such as uWSGI, names itself there)."""
    exe = sys.executable
    name = os.path.basename(exe).lower()
    return bool(exe) and name.startswith(("python", "pypy")) and os.access(exe, os.X_OK)


def _free_signal() -> int | None:
    """A real-time signal this process neither catches nor ignores, or ``None``."""
    rtmin, rtmax = getattr(signal, "SIGRTMIN", 0), getattr(signal, "SIGRTMAX", 0)
    if not rtmin:
        return None
    caught = ignored = 0
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"SigCgt:"):
                    caught = int(line.split()[1], 16)
                elif line.startswith(b"SigIgn:"):
                    ignored = int(line.split()[1], 16)
    except (OSError, ValueError):
        return None
    for signum in range(rtmax - 3, rtmin + 2, -1):  # the top of the range: least used
        if not (caught | ignored) & (1 << (signum - 1)):
            return signum
    return None


class Sentinel:
    """The helper process, its control socket, and the stacks it sent (see the module docstring).

    Watchdog thread: :meth:`collect`, :meth:`find`. Any thread: the rest; calls are serialised
    by an internal lock. Never raises after :meth:`start`.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.ready = False  # the helper said it runs (it takes a moment to start)
        self.received = 0  # stacks the helper sent since it started
        self.dumps: collections.deque[Dump] = collections.deque(maxlen=64)
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None  # the stacks arrive on it
        self._control: socket.socket | None = None  # the loops and duties go out on it
        self._pipe: tuple[int, int] | None = None
        self._lock = threading.RLock()

    @property
    def running(self) -> bool:
        """Whether the helper was started and has not been stopped."""
        return self._proc is not None

    def fileno(self) -> int:
        """The socket the helper's stacks arrive on (for the watchdog's ``poll``), or -1."""
        sock = self._sock
        return sock.fileno() if sock is not None else -1

    def start(self) -> bool:
        """Register the signal handler and start the helper; ``False`` where it cannot run."""
        with self._lock:
            if self._proc is not None:
                return True
            if not sys.platform.startswith("linux") or not _PROGRAM.is_file() or not _python():
                return False
            signum = _free_signal()
            if signum is None:
                return False
            try:
                return self._spawn(signum)
            except (OSError, ValueError, RuntimeError, subprocess.SubprocessError):
                logger.debug("unstall: the sentinel could not start", exc_info=True)
                self._unregister(gone=True)
                return False

    def _spawn(self, signum: int) -> bool:
        r, w = os.pipe2(os.O_CLOEXEC)
        self._pipe = (r, w)
        # the handler writes with the GIL held elsewhere or not at all: it must never block
        os.set_blocking(w, False)
        # a stream out (messages never wait on a count of datagrams), a datagram a stack back
        control, their_control = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        reports, their_reports = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control, self._sock = control, reports
        control.setblocking(False)
        reports.setblocking(False)
        faulthandler.register(signum, file=w, all_threads=False, chain=False)
        self.signum = signum
        try:
            args = [sys.executable, "-I", "-S", str(_PROGRAM), str(os.getpid()), str(signum)]
            args += [str(their_control.fileno()), str(their_reports.fileno()), str(r), str(STARVE)]
            self._proc = subprocess.Popen(
                args,
                pass_fds=(their_control.fileno(), their_reports.fileno(), r),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # terminal signals are the program's, not the helper's
            )
        finally:
            their_control.close()
            their_reports.close()
        # the read end stays open here too: the handler's write never meets a closed pipe
        return True

    def add_loop(self, loop_id: int, native_id: int, alarm: Alarm) -> None:
        """Watch the loop whose thread is ``native_id`` through its alarm (a ``timerfd``)."""
        if alarm.fd >= 0:
            self._send({"op": "loop", "key": loop_id, "tid": native_id}, alarm.fd)

    def drop_loop(self, loop_id: int) -> None:
        """Stop watching loop ``loop_id``."""
        self._send({"op": "drop", "key": loop_id})

    def set_watchdog(self, native_id: int) -> None:
        """The watchdog thread is ``native_id``: never the thread to ask for a stack."""
        self._send({"op": "watchdog", "tid": native_id})

    def enforce_term(self, bound: float) -> None:
        """End the process by SIGTERM ``bound`` seconds after one arrived, if it has not ended.

        For a SIGTERM handler that resets to the default on delivery (``unstall run``'s):
        the helper sees the reset, and ends a process whose handler could not run.
        """
        self._send({"op": "term", "bound": bound})

    def release_term(self) -> None:
        """SIGTERM is the program's own business again."""
        self._send({"op": "term-off"})

    def _send(self, message: dict[str, object], fd: int | None = None) -> None:
        """Send one line, never waiting: a helper that stopped reading stops being told."""
        with self._lock:
            control = self._control
            if control is None:
                return
            data = json.dumps(message).encode() + b"\n"
            try:
                sent = control.send(data) if fd is None else socket.send_fds(control, [data], [fd])
            except OSError:
                sent = -1
            if sent != len(data):  # a full buffer (or a cut line): this channel is done
                logger.debug("unstall: the sentinel stopped taking messages")
                self._control = None
                control.close()

    def collect(self) -> int:
        """Read every stack the helper sent into :attr:`dumps`; how many arrived."""
        sock = self._sock
        if sock is None:
            return 0
        wall = time.perf_counter() - time.monotonic()
        count = 0
        while True:
            try:
                data = sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            if not data:
                break
            try:
                message = json.loads(data)
                if message.get("op") == "ready":
                    self.ready = True
                if message.get("op") != "dump":
                    continue
                self.dumps.append(
                    Dump(
                        time=float(message["t"]) + wall,
                        loop_id=int(message["key"]),
                        native_id=int(message["tid"]),
                        stack=parse_stack(str(message["stack"])),
                        cpu=tuple((int(t), float(s)) for t, s in message["cpu"].items()),
                    )
                )
                count += 1
                self.received += 1
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
        return count

    def find(self, loop_id: int, start: float, end: float) -> tuple[Dump, ...]:
        """The stacks taken during loop ``loop_id``'s stall from ``start`` to ``end``."""
        return tuple(
            d for d in list(self.dumps) if d.loop_id == loop_id and start <= d.time <= end + 0.05
        )

    def stop(self) -> None:
        """End the helper (waiting for it), then unregister the handler and close everything.

        The handler is unregistered only once the helper is gone, so no signal of ours can
        arrive without it; until then its pipe stays open too (its descriptor must not be
        reused for another file while the handler may write to it).
        """
        with self._lock:
            proc, self._proc = self._proc, None
            self.ready = False
            gone = True
            if proc is not None:
                self._close_socket()  # the helper reads the end of its input and exits
                try:
                    proc.wait(_STOP_WAIT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(_STOP_WAIT)
                gone = proc.poll() is not None
            self._unregister(gone)

    def _unregister(self, gone: bool) -> None:
        if self.signum is not None and gone:
            with contextlib.suppress(RuntimeError, ValueError):
                faulthandler.unregister(self.signum)
            self.signum = None
        self._close_socket()
        if self.signum is None:
            pipe, self._pipe = self._pipe, None
            for fd in pipe or ():
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _close_socket(self) -> None:
        for sock in (self._control, self._sock):
            if sock is not None:
                sock.close()
        self._control = self._sock = None

    def after_fork(self) -> None:
        """In a forked child: the helper is the parent's. Forget it, unregister the handler (the
        parent's helper signals only the parent's threads) and close the child's copies."""
        self._lock = threading.RLock()
        self._proc = None
        self.ready = False
        self.dumps.clear()
        self._unregister(gone=True)


_shared = Sentinel()
_users = 0
_users_lock = threading.Lock()


def acquire() -> Sentinel | None:
    """The process's sentinel, started if this is its first user; ``None`` where it cannot run."""
    global _users
    with _users_lock:
        if not _shared.running and not _shared.start():
            return None
        _users += 1
        return _shared


def release() -> None:
    """One user less; the last one stops the helper."""
    global _users
    with _users_lock:
        _users = max(0, _users - 1)
        if _users == 0:
            _shared.stop()


@atexit.register
def _at_exit() -> None:
    """End the helper before the interpreter shuts down (it would see its socket close anyway)."""
    with contextlib.suppress(Exception):
        _shared.stop()


def _child() -> None:
    global _users, _users_lock
    _users_lock = threading.Lock()  # another thread of the parent may have held it
    _users = 0  # the watchers that go on in the child acquire it again
    with contextlib.suppress(Exception):
        _shared.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_child)
