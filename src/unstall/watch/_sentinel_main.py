"""The sentinel's own program: a small process that watches the watched one from outside.

While C code holds the GIL (a regex backtracking, a big ``json.loads``, an import's
compile), no Python code of the watched process runs, the watchdog thread's included, so
nothing inside it can see where the time goes. This program runs beside it, in its own
process and with its own GIL, and needs none of the watched process's:

* It sleeps in ``poll`` on every loop's alarm (the ``timerfd`` a loop's heartbeat keeps
  pushing forward; the watchdog reads it as soon as it fires). An alarm that stays unread
  for ``starve`` seconds means the watchdog is starved of the GIL during a stall.
* It then reads every thread's CPU clock (``/proc/PID/task/TID/schedstat``) every few
  milliseconds and picks the thread that used the most CPU since the stall was seen: the
  loop's own thread when it is that one (C code on the loop), else the thread the loop waits
  for (a worker holding the GIL). Threads waiting for the GIL wake every 5 ms to ask for it and
  use next to nothing; on a loaded machine the holder gets less than a whole core, so it is
  picked by its share against theirs, not against a whole CPU. It is asked only once it has
  not blocked at all (no voluntary context switch) for ``STEADY`` probes in a row while the
  watchdog slept in its wait for the GIL for the last two: a thread running Python code gives
  the GIL up to a watchdog that asked for it within 5 ms, and blocks to do so; C code holding
  the GIL never does. So a thread is not interrupted in Python code. (A watchdog that is only
  runnable, waiting for a core on a loaded machine, may not have asked: no stack is taken.)
* It sends that thread a signal (``tgkill``), whose handler in the watched process is
  ``faulthandler``'s C handler with ``all_threads=False``: the thread writes its own stack
  (file, line, function; no values) to a pipe this program reads. No thread ever reads
  another thread's frames, and the watched process runs no Python code for it.
* It hands the stack, the time and the threads' CPU over the stall to the watchdog, one
  datagram each on the reports socket; the watchdog reads them once it has the GIL back. At
  most ``MAX_DUMPS`` signals a stall, further and further apart.
* Under ``unstall run`` it also ends the watched process by SIGTERM when a SIGTERM arrived
  (its handler is reset to the default on delivery, so the kernel clears the caught bit)
  and the process has not ended ``bound`` seconds later: C code held the GIL, so the Python
  handler that writes the report never ran.

The control socket (a stream: one JSON object a line; a loop's alarm descriptor rides on its
``loop`` line) brings the loops, the watchdog thread and the SIGTERM duty. It exits when the
control socket closes (the watched process stopped it, or died). It imports only the standard
library: it runs as ``python -I -S`` on this file, not from the package. Linux only (``/proc``,
``timerfd``, ``tgkill``).

    python -I -S _sentinel_main.py PID SIGNUM CONTROL_FD REPORTS_FD DUMP_FD STARVE
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys
import time
from typing import Any

MAX_DUMPS = 12  # signals sent a stall at most
FIRST_GAP = 0.05  # seconds between the first two dumps of a stall; doubles each time, up to MAX_GAP
MAX_GAP = 1.0
PROBE = 0.01  # seconds between two reads of the threads' CPU clocks during a stall
LATE_PROBES = 5.0  # seconds into a stall after which they are read every SLOW_PROBE only
SLOW_PROBE = 0.5
RUNNING = 0.1  # the share of a CPU a thread used since the stall was seen, at least, to be asked
LEADING = 0.5  # ... and at least this part of the top thread's share
STEADY = 3  # probes in a row with no voluntary context switch before a thread is asked
DUMP_WAIT = 0.1  # seconds to wait for a signalled thread's stack
TERM_POLL = 0.2  # seconds between looks at the SIGTERM disposition while enforcing it
MAX_MESSAGE = 16_384  # bytes of stack text in one message


class Loop:
    """One watched loop: its thread, its alarm, and the stall the sentinel is seeing, if any."""

    def __init__(self, key: int, tid: int, alarm: int) -> None:
        self.key = key
        self.tid = tid
        self.alarm = alarm
        self.since: float | None = None  # when its alarm was first seen unread
        self.marks: dict[int, int] = {}  # thread -> CPU nanoseconds at the last probe
        self.first = 0.0  # when the first probe of the stall was taken
        self.asleep = 0  # probes in a row that found the watchdog asleep
        self.switches: dict[int, tuple[int, int]] = {}  # thread -> (voluntary switches, steady)
        self.marked = 0.0
        self.cpu: dict[int, int] = {}  # thread -> CPU nanoseconds used since the stall was seen
        self.dumps = 0
        self.next_dump = 0.0
        self.gap = FIRST_GAP
        self.last_stack = ""

    def reset(self) -> None:
        self.since = None
        self.marks, self.cpu = {}, {}
        self.first = 0.0
        self.asleep = 0
        self.switches = {}
        self.dumps = 0
        self.gap = FIRST_GAP
        self.last_stack = ""


class Sentinel:
    """The whole program's state; :meth:`run` is its loop."""

    def __init__(
        self, pid: int, signum: int, control: int, reports: int, dump: int, starve: float
    ) -> None:
        self.pid = pid
        self.signum = signum
        self.control = socket.socket(fileno=control)
        self.control.setblocking(False)
        self.reports = socket.socket(fileno=reports)
        self.reports.setblocking(False)
        self._lines = b""
        self._fds: list[int] = []  # received descriptors, for the next ``loop`` lines
        self.dump = dump
        os.set_blocking(dump, False)
        self.starve = starve
        self.loops: dict[int, Loop] = {}
        self.watchdog = 0
        self.term_bound: float | None = None  # enforcing SIGTERM: seconds the program gets
        self.term_seen: float | None = None
        self._tgkill = _tgkill()

    # ---- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        self._send({"op": "ready"})
        while True:
            now = time.monotonic()
            quiet = [lp.alarm for lp in self.loops.values() if lp.since is None]
            ready = _poll([self.control.fileno(), self.dump, *quiet], self._timeout(now))
            if self.control.fileno() in ready and not self._read_control():
                return
            if self.dump in ready:
                _drain(self.dump)  # a stray dump (a late one): not any thread's answer now
            now = time.monotonic()
            unread = _poll([lp.alarm for lp in self.loops.values()], 0.0)
            for lp in list(self.loops.values()):
                if lp.alarm in unread:
                    if lp.since is None:
                        lp.since = now
                    if now - lp.since >= self.starve:
                        self._watch_stall(lp, now)
                elif lp.since is not None:
                    lp.reset()
            if self.term_bound is not None:
                self._enforce_term(now)

    def _timeout(self, now: float) -> float | None:
        waits = [
            max(0.0, max(lp.since + self.starve, lp.marked + _probe(lp)) - now)
            for lp in self.loops.values()
            if lp.since is not None
        ]
        if self.term_bound is not None:
            waits.append(TERM_POLL)
        return min(waits) if waits else None

    # ---- the control socket ---------------------------------------------------------------------
    def _read_control(self) -> bool:
        """Apply every waiting message; ``False`` once the socket closed (time to exit)."""
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.control, 65536, 16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            self._fds.extend(fds)
            if not data:
                return False
            *lines, self._lines = (self._lines + data).split(b"\n")
            for line in lines:
                try:
                    self._apply(json.loads(line))
                except (ValueError, KeyError, TypeError):  # a message this version does not know
                    continue

    def _apply(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if op == "loop" and self._fds:
            alarm = self._fds.pop(0)
            old = self.loops.pop(message["key"], None)
            if old is not None:
                os.close(old.alarm)
            self.loops[message["key"]] = Loop(message["key"], message["tid"], alarm)
        elif op == "drop":
            old = self.loops.pop(message["key"], None)
            if old is not None:
                os.close(old.alarm)
        elif op == "watchdog":
            self.watchdog = message["tid"]
        elif op == "term":
            self.term_bound = float(message["bound"])
            self.term_seen = None
        elif op == "term-off":
            self.term_bound = None

    def _send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # the watched process is not reading: drop it
            self.reports.send(json.dumps(message).encode())

    # ---- a stall the watchdog cannot see ----------------------------------------------------------
    def _watch_stall(self, lp: Loop, now: float) -> None:
        if now < lp.marked + _probe(lp):
            return
        marks = _cpu_clocks(self.pid)
        first = not lp.marks
        for tid, ns in marks.items():
            used = ns - lp.marks.get(tid, ns)
            if used > 0:
                lp.cpu[tid] = lp.cpu.get(tid, 0) + used
        lp.marks, lp.marked = marks, now
        if first:
            lp.first = now
        if self.watchdog:
            # asleep: waiting for the GIL, having asked for it (it wakes every 5 ms to ask again);
            # runnable: waiting for a core, so it may not have asked yet
            lp.asleep = lp.asleep + 1 if _state(self.pid, self.watchdog) in ("S", "D") else 0
        if now - lp.first < 2 * PROBE:
            return
        candidates = _holders(lp, now - lp.first, self.watchdog)
        for tid in candidates:
            count = _voluntary_switches(self.pid, tid)
            last, steady = lp.switches.get(tid, (-1, 0))
            lp.switches[tid] = (count, steady + 1 if count == last and count >= 0 else 0)
        if now < lp.next_dump or lp.dumps >= MAX_DUMPS:
            return
        if self.watchdog and lp.asleep < 2:
            return  # not asleep lately: it waits for a core, and may not have asked for the GIL
        # only a thread that has not blocked at all lately: one that runs Python code gives the
        # GIL up to the waiting watchdog every 5 ms, blocking to do so
        targets = [t for t in candidates if lp.switches[t][1] >= STEADY]
        for tid in targets:
            stack = self._ask(tid)
            if stack:
                lp.last_stack = stack
                self._send(
                    {
                        "op": "dump",
                        "key": lp.key,
                        "t": time.monotonic(),
                        "since": lp.since,
                        "tid": tid,
                        "stack": stack[:MAX_MESSAGE],
                        "cpu": {str(t): ns / 1e9 for t, ns in lp.cpu.items()},
                    }
                )
        if targets:
            lp.dumps += 1
            lp.next_dump = now + lp.gap
            lp.gap = min(MAX_GAP, lp.gap * 2)

    def _ask(self, tid: int) -> str:
        """Signal thread ``tid`` to write its own stack, and read what it wrote ("" if nothing)."""
        if self._tgkill is None or not _catches(self.pid, self.signum):
            return ""  # no handler of ours there now: the signal's default action would kill it
        _drain(self.dump)
        if self._tgkill(self.pid, tid, self.signum) != 0:
            return ""  # the thread ended
        chunks: list[bytes] = []
        deadline = time.monotonic() + DUMP_WAIT
        wait = DUMP_WAIT
        while wait > 0 and _poll([self.dump], wait):
            data = _drain(self.dump)
            if not data:
                break
            chunks.append(data)
            wait = min(0.005, deadline - time.monotonic())  # the rest follows at once
        return b"".join(chunks).decode("ascii", "replace")

    # ---- SIGTERM ----------------------------------------------------------------------------------
    def _enforce_term(self, now: float) -> None:
        caught, ignored = _signal_masks(self.pid)
        bit = 1 << (signal.SIGTERM - 1)
        if caught & bit or ignored & bit or self.term_bound is None:
            self.term_seen = None
            return
        if self.term_seen is None:
            self.term_seen = now  # delivered: the handler was reset to the default
            return
        if now - self.term_seen < self.term_bound:
            return
        self._note_term()
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGTERM)  # the default action now: it ends the process
        self.term_bound = None

    def _note_term(self) -> None:
        where = ""
        for lp in self.loops.values():
            if lp.since is not None and lp.last_stack:
                seconds = time.monotonic() - lp.since
                where = (
                    f" (a stall in progress for {seconds:.1f} s, at {_innermost(lp.last_stack)})"
                )
        text = (
            f"unstall run: the program did not end within {self.term_bound:g} s of SIGTERM: C code "
            f"held the GIL{where}, so the report could not be written; ended it by SIGTERM.\n"
        )
        with contextlib.suppress(OSError):
            os.write(2, text.encode("utf-8", "replace"))


def _holders(lp: Loop, span: float, watchdog: int) -> list[int]:
    """The thread(s) to ask for a stack: the one that used the most CPU over ``span`` seconds
    (and any close to it, two at most), the loop's own thread alone when it is among them."""
    shares = {t: ns / 1e9 / span for t, ns in lp.cpu.items() if t != watchdog}
    if not shares:
        return []
    top = max(shares.values())
    leading = sorted(
        (t for t, share in shares.items() if share >= max(RUNNING, LEADING * top)),
        key=lambda t: -shares[t],
    )
    return [lp.tid] if lp.tid in leading else leading[:2]


def _probe(lp: Loop) -> float:
    """Seconds between two reads of the CPU clocks: often while there is a stack to take, then
    seldom (a watchdog stuck for good must not keep this process busy)."""
    if lp.dumps < MAX_DUMPS and lp.since is not None and lp.marked - lp.since < LATE_PROBES:
        return PROBE
    return SLOW_PROBE


# ---- reading the watched process from outside ----------------------------------------------------


def _poll(fds: list[int], timeout: float | None) -> set[int]:
    """The descriptors of ``fds`` that are readable (or closed) within ``timeout`` seconds."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    try:
        events = poller.poll(None if timeout is None else max(0, int(timeout * 1000)))
    except InterruptedError:
        return set()
    return {fd for fd, _ in events}


def _drain(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(fd, 65536)
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def _cpu_clocks(pid: int) -> dict[int, int]:
    """Every thread's CPU time so far, in nanoseconds, by native thread id."""
    clocks: dict[int, int] = {}
    folder = f"/proc/{pid}/task"
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            try:
                fd = os.open(f"{folder}/{name}/schedstat", os.O_RDONLY)
            except OSError:  # the thread ended
                continue
            try:
                clocks[int(name)] = int(os.read(fd, 128).split()[0])
            except (OSError, ValueError, IndexError):
                pass
            finally:
                os.close(fd)
    return clocks


def _state(pid: int, tid: int) -> str:
    """The scheduler state of thread ``tid`` (``R`` running or runnable, ``S`` sleeping...)."""
    try:
        with open(f"/proc/{pid}/task/{tid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0].decode()
    except (OSError, IndexError, UnicodeDecodeError):
        return ""


def _voluntary_switches(pid: int, tid: int) -> int:
    """How many times thread ``tid`` has blocked (given up a CPU of its own accord); -1 unknown."""
    try:
        with open(f"/proc/{pid}/task/{tid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"voluntary_ctxt_switches:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return -1


def _signal_masks(pid: int) -> tuple[int, int]:
    """``(caught, ignored)`` signal masks of the process (bit ``n - 1`` for signal ``n``)."""
    caught = ignored = 0
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/status", "rb") as status:
        for line in status:
            if line.startswith(b"SigCgt:"):
                caught = int(line.split()[1], 16)
            elif line.startswith(b"SigIgn:"):
                ignored = int(line.split()[1], 16)
    return caught, ignored


def _catches(pid: int, signum: int) -> bool:
    return bool(_signal_masks(pid)[0] & (1 << (signum - 1)))


def _innermost(stack: str) -> str:
    """``file:line in function`` of the innermost frame of a ``faulthandler`` stack."""
    for line in stack.splitlines():
        line = line.strip()
        if line.startswith("File "):
            return line[len("File ") :].replace('", line ', ":").strip('"')
    return "an unknown place"


def _tgkill() -> Any:
    """``tgkill(pid, tid, signum)`` through the C library (glibc 2.30+ names it), or ``None``."""
    try:
        import ctypes  # only here: the rest of the program does without

        libc = ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        return None
    call = getattr(libc, "tgkill", None)
    if call is not None:
        return call
    number = {"x86_64": 234, "aarch64": 131, "riscv64": 131, "ppc64le": 250, "s390x": 241}
    machine = os.uname().machine
    syscall = getattr(libc, "syscall", None)
    if syscall is None or machine not in number:
        return None
    return lambda pid, tid, signum: syscall(number[machine], pid, tid, signum)


def main(argv: list[str]) -> int:
    pid, signum, control, reports, dump = (int(a) for a in argv[:5])
    starve = float(argv[5])
    # terminal signals go to the watched program, not here (own session); die quietly otherwise
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    try:
        Sentinel(pid, signum, control, reports, dump, starve).run()
    except Exception:  # a sentinel that fails ends quietly; the watched process goes on without it
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
