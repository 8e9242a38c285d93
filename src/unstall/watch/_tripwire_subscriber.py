"""What the tripwire's process-wide hook dispatches to: the subscriber protocol a Tripwire implements.

The hook (``unstall.watch._tripwire_hook``) catches blocking calls on a running loop's thread
(audit events, a few wrapped callables, SQLite statements) and knows nothing of catalogs,
policies or events: it asks each active subscriber whether it wants an audit event or a
wrapper, whether a caught call is one it reports (:meth:`Subscriber.judge`), lets each that
does act before the call runs, and tells it when the call has returned. (Model: trio's
``abc.Instrument`` and its ``_core/_instrumentation.py``.)
"""

from __future__ import annotations

from types import FrameType
from typing import Any, Protocol, TypeVar

__all__ = ("Subscriber",)

H = TypeVar("H")


class Subscriber(Protocol[H]):
    """One active tripwire, as the hook sees it.

    ``H`` is the subscriber's own record of a call it reports: :meth:`judge` returns it and
    the hook hands it back, untouched, to :meth:`before_call` and :meth:`after_call`. These
    three run on the thread that made the call, with the hook's reentry guard set (blocking
    calls the subscriber makes in them are not caught). No hook may raise, except
    :meth:`before_call`: a :class:`~unstall.errors.BlockingCallError` (or a
    :class:`~unstall.errors.BlockingCallWarning` the warnings filter turned into an error)
    stops the call; anything else :meth:`judge` or :meth:`before_call` raises is swallowed.
    """

    def wants_event(self, event: str) -> bool:
        """Whether audit event ``event`` names a blocking call this subscriber knows.

        Asked once per event name while the set of subscribers stays the same.
        """
        ...

    def wants_wrapper(self, name: str) -> bool:
        """Whether calls to ``name`` (a qualified name no audit event covers) are to be caught.

        The hook then wraps that callable (for ``sqlite3.Connection.execute``: traces the
        statements of every new connection).
        """
        ...

    def judge(
        self,
        event: str | None,
        name: str | None,
        args: tuple[Any, ...],
        frame: FrameType,
        user: FrameType | None,
        under: FrameType | None,
    ) -> H | None:
        """A blocking call caught on a running loop's thread: what to report, or ``None``.

        The call is audit event ``event`` or wrapped callable ``name``, with its ``args``;
        ``frame`` made it, ``user`` is the innermost frame of the user's own code (``None``
        when there is none) and ``under`` the frame it called into (``None`` when it called
        a C function directly).
        """
        ...

    def before_call(self, hit: H) -> None:
        """Act on a reported call before it runs: warn, or raise ``BlockingCallError`` to stop it."""
        ...

    def after_call(self, hit: H, duration: float | None) -> None:
        """The reported call returned after ``duration`` seconds (``None``: not timed)."""
        ...
