"""The caller's side of one worker process: start it, write requests, read whole replies."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import logging
import multiprocessing
import os
import struct
import sys
import termios
from typing import Any

from unstall.errors import OffloadError
from unstall.offload._waiter import Waiter
from unstall.offload._wire import HEADER, decode, segment_count
from unstall.offload._worker import ERROR, worker_main

__all__ = (
    "START_METHODS",
    "Call",
    "WorkerHandle",
    "default_start_method",
    "detach",
    "read_messages",
    "start_worker",
    "unread_bytes",
    "write_request",
    "write_some",
)

START_METHODS = ("forkserver", "spawn", "fork")
JOIN_LIMIT = 1 << 18  # smaller requests are joined and written with a single system call
_READ_SIZE = 1 << 18


class Call:
    """One call sent to a worker: the future its caller awaits."""

    __slots__ = ("fut", "name", "pipelined")

    def __init__(self, fut: Waiter, name: str, pipelined: bool = False) -> None:
        self.fut = fut
        self.name = name
        self.pipelined = pipelined


class WorkerHandle:
    """A worker process, its three pipes, and the calls it runs (one, plus one pipelined)."""

    __slots__ = (
        "buf",
        "call",
        "conns",
        "loop",
        "pid",
        "proc",
        "queued",
        "reading",
        "ready",
        "reply_fd",
        "request_fd",
        "retired",
        "unsent",
    )

    def __init__(self, proc: Any, request: Any, reply: Any, lifeline: Any) -> None:
        self.proc = proc
        self.pid: int = proc.pid
        self.conns = (request, reply, lifeline)
        self.request_fd: int = request.fileno()
        self.reply_fd: int = reply.fileno()
        self.buf = bytearray()
        self.call: Call | None = None  # the call the worker is running
        self.queued: collections.deque[Call] = collections.deque()  # sent, not started
        self.loop: asyncio.AbstractEventLoop | None = None  # where the reply pipe is watched
        self.reading = False  # the reply pipe is registered with ``loop``
        self.retired = False
        self.ready = False
        self.unsent: list[memoryview] | None = None


def default_start_method() -> str:
    """``"forkserver"`` where the platform has it (safe with threads), else ``"spawn"``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux


def _widen(fd: int) -> None:
    # A 1 MiB pipe (the default unprivileged maximum on Linux) instead of 64 KiB: big
    # arguments and results cross in far fewer wake-ups. Best effort elsewhere.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)


def start_worker(start_method: str) -> WorkerHandle:
    """Start one worker process (blocking: call it off the loop)."""
    ctx = multiprocessing.get_context(start_method)
    request_r, request_w = ctx.Pipe(duplex=False)
    reply_r, reply_w = ctx.Pipe(duplex=False)
    lifeline_r, lifeline_w = ctx.Pipe(duplex=False)
    proc = ctx.Process(  # type: ignore[attr-defined]
        target=worker_main,
        args=(request_r, reply_w, lifeline_r, logging.getLogger().getEffectiveLevel()),
        name="unstall-process-worker",
        daemon=True,
    )
    try:
        proc.start()
    except BaseException:
        for conn in (request_r, request_w, reply_r, reply_w, lifeline_r, lifeline_w):
            conn.close()
        raise
    for conn in (request_r, reply_w, lifeline_r):
        conn.close()
    os.set_blocking(reply_r.fileno(), False)
    os.set_blocking(request_w.fileno(), False)
    for conn in (request_w, reply_r):
        _widen(conn.fileno())
    return WorkerHandle(proc, request_w, reply_r, lifeline_w)


def write_some(fd: int, views: list[memoryview]) -> list[memoryview]:
    """Write what a non-blocking ``fd`` takes now; return what is left."""
    try:
        written = os.writev(fd, views) if len(views) > 1 else os.write(fd, views[0])
    except BlockingIOError:
        return views
    while views and written >= views[0].nbytes:
        written -= views[0].nbytes
        views = views[1:]
    if views and written:
        views = [views[0][written:], *views[1:]]
    return views


def write_request(
    loop: asyncio.AbstractEventLoop, worker: WorkerHandle, segments: list[bytes | memoryview]
) -> bool:
    """Send an encoded request to ``worker`` without blocking; False if its pipe is broken.

    What the pipe does not take now goes out as the worker drains it (a writer callback on
    ``loop``), after anything still queued, so requests never interleave.
    """
    if worker.unsent is not None:  # an earlier request is still going out: keep order
        worker.unsent.extend(memoryview(s).cast("B") for s in segments if len(s))
        return True
    if len(segments) == 1:  # the common case: one system call writes it all
        data = segments[0]
        try:
            written = os.write(worker.request_fd, data)
        except BlockingIOError:
            written = 0
        except OSError:
            return False
        if written == len(data):
            return True
        segments = [memoryview(data).cast("B")[written:]]
    if sum(len(segment) for segment in segments) <= JOIN_LIMIT:
        views = [memoryview(b"".join(segments))]
    else:  # big: write each buffer from its own memory
        views = [memoryview(s).cast("B") for s in segments if len(s)]
    try:
        views = write_some(worker.request_fd, views)
    except OSError:
        return False
    if views:
        worker.unsent = views
        loop.add_writer(worker.request_fd, _on_writable, worker)
    return True


def _on_writable(worker: WorkerHandle) -> None:
    if worker.unsent is None:
        return
    try:
        worker.unsent = write_some(worker.request_fd, worker.unsent)
    except OSError:
        worker.unsent = []  # the worker is gone; its EOF will fail the call
    if not worker.unsent:
        worker.unsent = None
        if worker.loop is not None:
            worker.loop.remove_writer(worker.request_fd)


def detach(worker: WorkerHandle) -> None:
    """Unregister the worker's pipes from the loop watching them (from any thread)."""
    loop = worker.loop
    reading, writing = worker.reading, worker.unsent is not None
    worker.reading = False
    worker.unsent = None
    if loop is None or loop.is_closed() or not (reading or writing):
        return

    def unregister() -> None:
        # The loop may be shutting down; the fds are closed next anyway.
        with contextlib.suppress(Exception):
            if reading:
                loop.remove_reader(worker.reply_fd)
            if writing:
                loop.remove_writer(worker.request_fd)

    if loop.is_running() and loop is not asyncio._get_running_loop():
        # That loop runs in another thread: it must unregister the pipes itself.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(unregister)
    else:
        unregister()


def unread_bytes(fd: int) -> int:
    """Bytes written to the pipe ``fd`` that its reader has not taken yet (0 if unknown)."""
    try:
        raw = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    except OSError:
        return 0
    (count,) = struct.unpack("i", raw)
    return int(count)


def read_messages(worker: WorkerHandle) -> tuple[list[tuple[Any, ...]], bool]:
    """Read what the reply pipe holds; return the whole messages in it and whether it hit EOF."""
    buf = worker.buf
    eof = False
    while True:
        try:
            chunk = os.read(worker.reply_fd, _READ_SIZE)
        except BlockingIOError:
            break
        except OSError:
            chunk = b""
        if not chunk:
            eof = True
            break
        buf += chunk
        if len(chunk) < _READ_SIZE:
            break
    messages: list[tuple[Any, ...]] = []
    while len(buf) >= HEADER.size:
        (size,) = HEADER.unpack_from(buf)
        end = HEADER.size + size
        if len(buf) < end:
            break
        try:
            with memoryview(buf) as view:
                body = view[HEADER.size : end]
                if segment_count(body) > 1:
                    # Out-of-band buffers may stay referenced (numpy arrays are views):
                    # give them memory of their own, not a slice of the read buffer.
                    body.release()
                    body = memoryview(bytearray(view[HEADER.size : end]))
                messages.append(decode(body))
                body.release()
        except Exception as exc:
            messages.append(
                (ERROR, OffloadError(f"A reply from the worker could not be read: {exc}"), "")
            )
        del buf[:end]
    return messages, eof
