"""Helpers for the process-engine tests: reach the engine, tell when a process is gone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.waiting import wait_until

from unstall.offload import Offloader
from unstall.offload._process import ProcessEngine


def process_engine(off: Offloader) -> ProcessEngine:
    engine = off.engine("process")
    assert isinstance(engine, ProcessEngine)
    return engine


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie has exited; only its parent's bookkeeping is left


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    """Whether process ``pid`` is gone within ``seconds``."""
    return wait_until(lambda: gone(pid), seconds)


def open_fds() -> set[int]:
    """The file descriptors this process has open."""
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def parent_of(pid: int) -> int:
    """The process id of ``pid``'s parent."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@contextlib.contextmanager
def exit_status_held(worker_pid: int) -> Iterator[Callable[[], None]]:
    """Keep a forkserver worker's exit status from this process until ``release()`` is called.

    The forkserver reaps the workers it forked and writes each one's exit status to the
    process that asked for it. Stopped, it reports nothing: a worker killed meanwhile has
    closed its pipes while this process cannot learn how it ended. Released on the way out
    in any case.
    """
    server = parent_of(worker_pid)
    assert server != os.getpid(), "the worker was not started by a forkserver"
    os.kill(server, signal.SIGSTOP)
    stopped = True

    def release() -> None:
        nonlocal stopped
        if stopped:
            stopped = False
            os.kill(server, signal.SIGCONT)

    try:
        yield release
    finally:
        release()


def loop_errors(loop: asyncio.AbstractEventLoop) -> list[dict[str, Any]]:
    """What the loop's callbacks raise from now on, as the contexts the loop reports them with.

    Installs an exception handler on ``loop`` that records instead of logging: an exception
    escaping a loop callback is what a host would see in its logs.
    """
    raised: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: raised.append(context))
    return raised
