"""The worker process side of the process engine: read a call, run it, write the outcome.

Wire format (both directions): an 8-byte little-endian length, then a pickle. Requests are
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
import struct
import sys
import threading
import traceback
from typing import Any

__all__ = ("ERROR", "HEADER", "LOG", "READY", "RESULT", "frame", "worker_main")

HEADER = struct.Struct("<Q")
RESULT, ERROR, LOG, READY = 0, 1, 2, 3


def frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length."""
    return HEADER.pack(len(payload)) + payload


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class _Writer:
    """Writes whole frames to the reply pipe; a lock keeps frames from logging threads whole."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, payload: bytes) -> None:
        data = memoryview(frame(payload))
        with self.lock:
            while data:
                written = os.write(self.fd, data)
                data = data[written:]


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
            self._writer.send(pickle.dumps((LOG, state), protocol=pickle.HIGHEST_PROTOCOL))
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


def _outcome(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:
        text = "".join(traceback.format_exception(exc))
        try:
            return pickle.dumps((ERROR, exc, text), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return pickle.dumps(
                (ERROR, None, text, type(exc).__qualname__, str(exc)),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
    try:
        return pickle.dumps((RESULT, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return pickle.dumps(
            (ERROR, None, "", "NotPicklable", reason, type(value).__qualname__),
            protocol=pickle.HIGHEST_PROTOCOL,
        )


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
    writer.send(pickle.dumps((READY,)))
    loads = pickle.loads
    while True:
        header = _read_exact(request_fd, HEADER.size)
        if header is None:
            break
        (size,) = HEADER.unpack(header)
        payload = _read_exact(request_fd, size)
        if payload is None:
            break
        try:
            fn, args, kwargs = loads(payload)
        except BaseException as exc:
            text = "".join(traceback.format_exception(exc))
            reason = f"{type(exc).__name__}: {exc}"
            writer.send(pickle.dumps((ERROR, None, text, "Unpickling", reason)))
            continue
        del payload
        result = _outcome(fn, args, kwargs)
        del fn, args, kwargs
        writer.send(result)
        del result
    sys.stdout.flush()
    sys.stderr.flush()
