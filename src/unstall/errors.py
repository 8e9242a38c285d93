"""Exceptions raised by unstall.

Every exception unstall raises derives from :class:`UnstallError`::

    UnstallError
    ├── ConfigError              bad ``[tool.unstall]`` table, bad CLI value
    ├── CatalogError             a catalog entry (built-in or user-supplied) is malformed
    └── OffloadError             work handed to ``unstall.offload`` could not be done
        ├── WorkerCrashed        the worker process died while running the call
        ├── NotPicklable         the function or an argument cannot be sent to a process
        ├── EngineUnavailable    the engine cannot run here (Python version, missing extra)
        └── OffloaderClosed      the offloader was shut down before the call could run

``TimeoutError`` (the builtin) is raised for offload timeouts, and
``BlockingCallError`` (a subclass of both ``UnstallError`` and ``RuntimeError``)
is raised by the runtime tripwire when its policy says to raise; ``BlockingCallWarning``
(a ``RuntimeWarning``) is what it issues when its policy says to warn.
"""

from __future__ import annotations

__all__ = (
    "BlockingCallError",
    "BlockingCallWarning",
    "CatalogError",
    "ConfigError",
    "EngineUnavailable",
    "NotPicklable",
    "OffloadError",
    "OffloaderClosed",
    "UnstallError",
    "WorkerCrashed",
)


class UnstallError(Exception):
    """Root of every exception raised by unstall."""


class ConfigError(UnstallError):
    """A configuration value is invalid.

    ``key`` names the offending setting (e.g. ``"tool.unstall.select"``), ``source`` the file
    or ``"command line"`` it came from.
    """

    def __init__(self, message: str, *, key: str | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.source = source


class CatalogError(UnstallError):
    """A catalog entry is malformed. ``entry`` names it when known."""

    def __init__(self, message: str, *, entry: str | None = None) -> None:
        super().__init__(message)
        self.entry = entry


class OffloadError(UnstallError):
    """Work handed to an offload engine could not be completed."""


class WorkerCrashed(OffloadError):
    """The worker running the call died (``os._exit``, a signal, the OOM killer).

    Only the call that was running on that worker fails; the pool replaces the worker.
    ``exitcode`` is the worker's exit code (negative: killed by that signal), ``function``
    the qualified name of the function that was running.
    """

    def __init__(
        self, message: str, *, exitcode: int | None = None, function: str | None = None
    ) -> None:
        super().__init__(message)
        self.exitcode = exitcode
        self.function = function


class NotPicklable(OffloadError, TypeError):
    """The function or an argument cannot be pickled for a worker process.

    ``what`` names the culprit (``"function"``, ``"argument 0"``, ``"keyword 'key'"``, or
    ``"result"`` when the worker's return value cannot come back), ``reason`` is the pickling
    error's text.
    """

    def __init__(self, message: str, *, what: str, reason: str) -> None:
        super().__init__(message)
        self.what = what
        self.reason = reason


class EngineUnavailable(OffloadError):
    """The requested engine cannot run here; ``engine`` names it, the message says why and what to install."""

    def __init__(self, message: str, *, engine: str) -> None:
        super().__init__(message)
        self.engine = engine


class OffloaderClosed(OffloadError):
    """The offloader was closed before the call could run."""


class BlockingCallError(UnstallError, RuntimeError):
    """A blocking call was made on a thread whose event loop is running (tripwire, ``raise`` policy).

    ``code`` is the catalog rule code, ``name`` the blocking callable's qualified name,
    ``event`` the :class:`unstall.watch.TripwireEvent` (blamed frame, stack), when known.
    """

    def __init__(self, message: str, *, code: str, name: str, event: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.name = name
        self.event = event


class BlockingCallWarning(RuntimeWarning):
    """Issued by the runtime tripwire (``warn`` policy) for a blocking call on a running loop's thread."""
