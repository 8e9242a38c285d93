"""The worker process side of the process engine: read a call, run it, write the outcome.

Frames (both directions) are described in :mod:`unstall.offload._wire`. Requests are
``(fn, args, kwargs)`` pickled by the caller; replies are ``(kind, ...)`` tuples where
``kind`` is :data:`RESULT`, :data:`ERROR`, :data:`LOG` or :data:`READY` (sent once,
when the worker has started). Kept free of heavy imports: this
module is what every worker imports first.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import threading
import traceback
from typing import Any

from unstall.offload._wire import HEADER, decode, encode

__all__ = ("ERROR", "LOG", "READY", "RESULT", "worker_main", "write_all")

RESULT, ERROR, LOG, READY = 0, 1, 2, 3
Segments = list[bytes | memoryview]


def _read_exact(fd: int, size: int) -> bytearray | None:
    buf = bytearray(size)
    view = memoryview(buf)
    done = 0
    while done < size:
        count = os.readv(fd, [view[done:]])
        if not count:
            return None
        done += count
    return buf


def write_all(fd: int, segments: Segments) -> None:
    """Write every segment to a blocking ``fd``, resuming after partial writes."""
    if len(segments) == 1:  # the common case: usually one system call
        written = os.write(fd, segments[0])
        if written == len(segments[0]):
            return
        segments = [memoryview(segments[0]).cast("B")[written:]]
    views = [memoryview(segment).cast("B") for segment in segments if len(segment)]
    while views:
        written = os.writev(fd, views)
        while views and written >= views[0].nbytes:
            written -= views[0].nbytes
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


class _Writer:
    """Writes whole frames to the reply pipe; a lock keeps frames from logging threads whole."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, segments: Segments) -> None:
        with self.lock:
            write_all(self.fd, segments)


class _PipeLogHandler(logging.Handler):
    """Sends each record to the parent, where its own handlers emit it."""

    def __init__(self, writer: _Writer) -> None:
        super().__init__()
        self._writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            state = dict(record.__dict__)
            state["msg"] = record.getMessage()
            state["args"] = None
            if record.exc_info:
                state["exc_text"] = logging.Formatter().formatException(record.exc_info)
            state["exc_info"] = None
            state["process"] = os.getpid()
            self._writer.send(encode((LOG, state)))
        except Exception:
            self.handleError(record)


def _watch_parent(lifeline_fd: int) -> None:
    # The parent holds the only write end and never writes: EOF means the parent is gone,
    # so this worker must go too, even in the middle of a call.
    try:
        while os.read(lifeline_fd, 1):
            pass
    except OSError:
        pass
    os._exit(1)


def _outcome(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Segments:
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:
        text = "".join(traceback.format_exception(exc))
        try:
            # An exception that pickles but cannot be rebuilt (a custom __init__ with
            # several required arguments) would be lost on the way: check both ways here.
            frame = encode((ERROR, exc, text))
            pickle.loads(pickle.dumps(exc, protocol=5))
        except Exception:
            return encode((ERROR, None, text, type(exc).__qualname__, str(exc)))
        return frame
    try:
        return encode((RESULT, value))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return encode((ERROR, None, "", "NotPicklable", reason, type(value).__qualname__))


def worker_main(request: Any, reply: Any, lifeline: Any, log_level: int) -> None:
    """Serve calls until the request pipe closes (the engine shut down or the parent died).

    ``request``, ``reply`` and ``lifeline`` are :mod:`multiprocessing` connections whose file
    descriptors are used directly.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    request_fd, lifeline_fd = request.fileno(), lifeline.fileno()
    writer = _Writer(reply.fileno())
    threading.Thread(
        target=_watch_parent, args=(lifeline_fd,), name="unstall-lifeline", daemon=True
    ).start()
    root = logging.getLogger()
    root.handlers[:] = [_PipeLogHandler(writer)]
    root.setLevel(log_level)
    writer.send(encode((READY,)))
    while True:
        header = _read_exact(request_fd, HEADER.size)
        if header is None:
            break
        (size,) = HEADER.unpack(header)
        payload = _read_exact(request_fd, size)
        if payload is None:
            break
        try:
            fn, args, kwargs = decode(memoryview(payload))
        except BaseException as exc:
            text = "".join(traceback.format_exception(exc))
            reason = f"{type(exc).__name__}: {exc}"
            writer.send(encode((ERROR, None, text, "Unpickling", reason)))
            continue
        del payload
        result = _outcome(fn, args, kwargs)
        del fn, args, kwargs
        writer.send(result)
        del result
    sys.stdout.flush()
    sys.stderr.flush()
