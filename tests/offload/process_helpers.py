"""Helpers for the process-engine tests: reach the engine, tell when a process is gone."""

from __future__ import annotations

from pathlib import Path

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
