"""Functions sent to worker threads and processes by the offload tests (importable by workers)."""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class WorkFailed(Exception):
    """A custom exception type that must come back as itself."""


def add(a: int, b: int = 0) -> int:
    return a + b


def whoami() -> tuple[int, int]:
    return os.getpid(), threading.get_ident()


def read_request_id() -> str:
    return request_id.get()


def fail(message: str) -> None:
    raise WorkFailed(message)


def _mark_started(started: str | None) -> None:
    """Create the file ``started``: the test waits for it to know the call is running."""
    if started is not None:
        Path(started).touch()


def sleep_then(seconds: float, value: Any = None, started: str | None = None) -> Any:
    _mark_started(started)
    time.sleep(seconds)
    return value


def sleep_and_touch(seconds: float, path: str, started: str | None = None) -> int:
    _mark_started(started)
    time.sleep(seconds)
    Path(path).write_text("ran")
    return os.getpid()


def touch(path: str) -> None:
    Path(path).write_text("ran")


def exit_now(code: int) -> None:
    os._exit(code)


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def unpicklable_result() -> Any:
    return threading.Lock()


def log_something(message: str) -> int:
    logging.getLogger("offload.worker.test").warning("from worker: %s", message)
    return os.getpid()


def spin(seconds: float) -> int:
    """Pure-Python CPU loop: holds the GIL the whole time."""
    deadline = time.perf_counter() + seconds
    count = 0
    while time.perf_counter() < deadline:
        count += 1
    return count


_BLOB: list[bytes] = []


def hash_blob(rounds: int = 1) -> str:
    """C code that releases the GIL while it hashes a big buffer (16 MiB per round)."""
    if not _BLOB:
        _BLOB.append(b"x" * (16 << 20))
    digest = ""
    for _ in range(rounds):
        digest = hashlib.sha256(_BLOB[0]).hexdigest()
    return digest


def square(x: int) -> int:
    return x * x


def busy_square(x: int) -> int:
    deadline = time.perf_counter() + 0.0001
    while time.perf_counter() < deadline:
        pass
    return x * x


def fail_on(x: int) -> int:
    if x == 7:
        raise WorkFailed(f"item {x}")
    return x


def whoami_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def echo(value: Any) -> Any:
    return value


def crash_after(seconds: float, started: str | None = None) -> None:
    _mark_started(started)
    time.sleep(seconds)
    os._exit(9)


def exit_on_seven(x: int) -> int:
    if x == 7:
        os._exit(7)
    return x


def spin_pid(seconds: float) -> int:
    spin(seconds)
    return os.getpid()


class Unrebuildable(Exception):
    """Pickles, but cannot be rebuilt from its args: two required arguments."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"code {code}: {detail}")
        self.code = code


class HoldsALock(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def raise_unrebuildable() -> None:
    raise Unrebuildable(7, "bad state")


def raise_holds_a_lock() -> None:
    raise HoldsALock("locked")


def log_exception() -> None:
    try:
        raise ValueError("inner problem")
    except ValueError:
        logging.getLogger("offload.worker.test").exception("it failed")
