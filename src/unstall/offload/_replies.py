"""Turning what a worker process sends back into exceptions and log records in the caller."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import traceback
from typing import Any

from unstall.errors import NotPicklable, OffloadError

__all__ = ("emit_log", "exit_text", "rebuild_error")


def emit_log(state: dict[str, Any]) -> None:
    """Hand a worker's log record to this process's logger of the same name; never raises.

    A filter or handler of the host that fails is reported as :mod:`logging` reports a failing
    handler (on stderr, unless ``logging.raiseExceptions`` is false), and the record dropped:
    raised here, it would escape into the host's loop and lose the replies read with it.
    """
    try:
        record = logging.makeLogRecord(state)
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)
    except Exception:
        if logging.raiseExceptions and sys.stderr is not None:
            with contextlib.suppress(OSError):  # stderr is gone: as logging does
                sys.stderr.write("--- Logging error in a record from a worker process ---\n")
                traceback.print_exc(file=sys.stderr)


def exit_text(code: int | None) -> str:
    """``"exit code 3"``, ``"signal SIGKILL"``: how a worker process ended, in words."""
    if code is None:
        return "an unknown exit status"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def rebuild_error(message: tuple[Any, ...], pid: int, name: str) -> BaseException:
    """The exception an ``ERROR`` reply stands for, with the worker's traceback as a note."""
    _, sent, text, *rest = message
    exc: BaseException
    if sent is not None:
        exc = sent
    else:
        typename, reason = rest[0], rest[1]
        if typename == "NotPicklable":
            exc = NotPicklable(
                f"The result of {name}() (a {rest[2]} object) cannot be pickled to come back from "
                f"the worker process ({reason}). Return picklable data, or use engine='thread'.",
                what="result",
                reason=reason,
            )
        elif typename == "Unpickling":
            exc = OffloadError(
                f"The worker process could not unpickle the call to {name}() ({reason}). Make "
                "sure the function's module is importable in a fresh interpreter."
            )
        else:
            exc = OffloadError(
                f"{name}() raised {typename}: {reason} in the worker process; the exception "
                "itself could not be pickled, so it is re-raised as OffloadError."
            )
    if text:
        exc.add_note(f"Traceback in worker process {pid}:\n{text.rstrip()}")
    return exc
