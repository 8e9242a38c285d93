"""The process-wide half of the tripwire: one audit hook, a few thin wrappers, and call timing.

The hook dispatches every caught call to the active tripwires through the hooks of the
:class:`~unstall.watch._tripwire_subscriber.Subscriber` protocol, and knows nothing else of them.
An audit hook cannot be removed, so exactly one is installed, the first time a tripwire
starts; it returns at once while no tripwire is active, for events no active tripwire wants,
and on threads with no running event loop (executor threads, plain threads). Calls whose
innermost frames belong to the loop's own machinery (asyncio, selectors, uvloop, imports,
linecache, unstall) are skipped, as are calls on non-blocking sockets.

A caught call that is allowed to run is timed: a profile function is set on that thread only
until control comes back to the frame that made the call, so the cost is paid only while a
blocking call runs.

SQLite statements raise no audit event and ``sqlite3.Connection`` methods cannot be wrapped
(a C type), but every new connection is announced (``sqlite3.connect/handle``): while a
tripwire is active, each connection made gets a trace callback (set as the ``connect`` call
returns: the connection is not initialised yet when the event is raised), which SQLite calls as
each statement starts, whatever method ran it (``execute``, ``executemany``, ``commit``, a cursor's
``fetchall`` stepping a query...). A raise policy cannot raise from there (SQLite swallows a
callback's exception, and no later point is the call's own): such a statement is recorded,
with the action ``raise``, and runs.
"""

from __future__ import annotations

import functools
import importlib
import os
import socket
import sys
import sysconfig
import threading
import time
from asyncio.events import _get_running_loop
from collections.abc import Callable
from types import FrameType
from typing import Any, NamedTuple

from unstall.errors import BlockingCallError, BlockingCallWarning
from unstall.watch._frames import is_user_file
from unstall.watch._tripwire_subscriber import Subscriber
from unstall.watch._tripwire_targets import TARGETS, Predicate, blocking_socket

__all__ = ("activate", "deactivate", "wrapped_names")

# modules whose frames, met before any user frame, mean the event loop's own machinery did the call
_SKIP = (
    "_pytest",
    "anyio._backends",
    "anyio.pytest_plugin",
    "asyncio",
    "importlib",
    "linecache",
    "pluggy",
    "pytest_asyncio",
    "selectors",
    "threading",
    "tokenize",
    "traceback",
    "unstall",
    "uvloop",
    "warnings",
    "zipimport",
)
# events reported only when user code raised them itself: an import statement in user code is a
# run-time import, but an import a library or the interpreter does lazily (codecs) is not the user's
_DIRECT_ONLY = frozenset({"import"})
_MAX_WALK = 64
# what a policy raises on purpose (a warning is raised when the warnings filter says "error")
_POLICY_ERRORS = (BlockingCallError, BlockingCallWarning)
_MAX_INTEREST = 4096

_lock = threading.RLock()
_tripwires: tuple[Subscriber[Any], ...] = ()  # the active subscribers
# audit event name -> whether an active tripwire wants it (learned lazily)
_interest: dict[str, bool] = {}
_hook_installed = False
_local = threading.local()
_skip_cache: dict[object, bool] = {}
_perf = time.perf_counter


def _skipped_module(module: object) -> bool:
    known = _skip_cache.get(module)
    if known is None:
        known = isinstance(module, str) and any(
            module == p or module.startswith(p + ".") for p in _SKIP
        )
        if len(_skip_cache) < _MAX_INTEREST:
            _skip_cache[module] = known
    return known


_STDLIB_DIRS = tuple(
    os.path.normcase(os.path.realpath(p)) + os.sep
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
)


@functools.lru_cache(maxsize=4096)
def _is_stdlib(filename: str) -> bool:
    if filename.startswith("<"):
        return filename.startswith("<frozen ")
    path = os.path.normcase(os.path.realpath(filename))
    return path.startswith(_STDLIB_DIRS) and "site-packages" not in path


def _walk(frame: FrameType | None) -> tuple[bool, FrameType | None, FrameType | None]:
    """``(skip, user frame, the frame the user frame called)`` walking out from ``frame``.

    Standard-library frames are see-through (``pathlib`` opening a file for its caller); the
    first frame outside it (the user's code, or an installed package) owns the call, unless
    the loop's own machinery (asyncio, selectors, imports, unstall) is met first.
    """
    under: FrameType | None = None
    owned = False
    depth = 0
    while frame is not None and depth < _MAX_WALK:
        if not owned and _skipped_module(frame.f_globals.get("__name__")):
            return True, None, None
        filename = frame.f_code.co_filename
        if is_user_file(filename):
            return False, frame, under
        owned = owned or not _is_stdlib(filename)
        under = frame
        frame = frame.f_back
        depth += 1
    return False, None, under


class _Caught(NamedTuple):
    """A call one subscriber reports: the subscriber and its own record of the call."""

    subscriber: Subscriber[Any]
    hit: Any


class _Pending:
    """Calls caught and reported, waiting to return so that their duration is known.

    ``target`` is the user's frame that made the call; ``under`` the library function it
    called (``None`` when it called a C function directly); ``lasti`` the target's
    instruction at the call, which moves once the call has returned.
    """

    __slots__ = ("connections", "hits", "lasti", "start", "target", "under")

    def __init__(
        self,
        hits: list[_Caught],
        target: FrameType | None,
        start: float,
        under: FrameType | None = None,
    ) -> None:
        self.hits = hits
        self.target = target
        self.under = under
        self.lasti = target.f_lasti if target is not None else -1
        self.start = start
        self.connections: list[Any] = []  # SQLite connections to trace once the call returns

    def done(self, frame: FrameType, event: str) -> bool:
        """Whether this profile event shows that control is back in the caller."""
        target = self.target
        if frame is target:
            return True
        if self.under is not None:
            return frame is self.under and event == "return"
        # a C function called from the target may call back into Python (an import runs the
        # module's code): only a call made after the target moved on is a new call
        return frame.f_back is target and target is not None and target.f_lasti != self.lasti


def _finish(pending: _Pending, duration: float | None) -> None:
    pending.target = pending.under = None
    _local.busy = True
    try:
        for subscriber, hit in pending.hits:
            subscriber.after_call(hit, duration)
    finally:
        _local.busy = False


def _profile(frame: FrameType, event: str, arg: object) -> None:
    """Ends the pending measurement when control is back in the frame that made the call."""
    try:
        pending: _Pending | None = getattr(_local, "pending", None)
        if pending is None:
            sys.setprofile(None)
            return
        if pending.done(frame, event):
            duration = _perf() - pending.start
            _local.pending = None
            sys.setprofile(None)
            _trace(pending.connections)
            _finish(pending, duration)
    except Exception:  # a profile function that raises would be removed and the error raised
        _local.pending = None
        sys.setprofile(None)


def _flush_stale() -> bool:
    """Whether a measurement is still running on this thread (a nested event of the same call)."""
    pending: _Pending | None = getattr(_local, "pending", None)
    if pending is None:
        return False
    if sys.getprofile() is _profile:
        return True
    # someone replaced our profile function: give up timing that call
    _local.pending = None
    _finish(pending, None)
    return False


def _caught(
    event: str | None, name: str | None, args: tuple[Any, ...], frame: FrameType
) -> _Pending | None:
    """Judge one blocking call on a running loop's thread; raise or warn as the policies say.

    Returns the hits to record once the call is done, in a :class:`_Pending` that knows
    when it is done, or ``None`` when nothing was caught.
    """
    if args and isinstance(args[0], socket.socket):
        try:
            if args[0].gettimeout() == 0.0:  # non-blocking: the loop's own socket I/O
                return None
        except OSError:
            return None
    skip, user, under = _walk(frame)
    if skip or (event in _DIRECT_ONLY and user is not frame):
        return None
    hits: list[_Caught] = []
    _local.busy = True  # judging and warning read source files: those are not the user's calls
    try:
        for subscriber in _tripwires:
            hit = subscriber.judge(event, name, args, frame, user, under)
            if hit is not None:
                hits.append(_Caught(subscriber, hit))
        for subscriber, hit in hits:
            subscriber.before_call(hit)  # raises for the raise policy, warns for warn
    finally:
        _local.busy = False
    if not hits:
        return None
    if user is None:
        return _Pending(hits, frame, _perf())
    return _Pending(hits, user, _perf(), under)


def _until_return(pending: _Pending) -> None:
    """Let ``_profile`` finish ``pending`` once control is back in its caller; at once, without
    a duration, when another profiler runs on this thread."""
    if sys.getprofile() is not None:
        _finish(pending, None)
        return
    _local.pending = pending
    sys.setprofile(_profile)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _tripwires:
        return
    if event == "sqlite3.connect/handle":  # on any thread: the connection may be used on a loop
        _trace_after_connect(args, sys._getframe(1))
        return
    interesting = _interest.get(event)
    if interesting is None:
        interesting = _learn(event)
    if not interesting or _get_running_loop() is None or getattr(_local, "busy", False):
        return
    try:
        if _flush_stale():
            return
        pending = _caught(event, None, args, sys._getframe(1))
        if pending is not None:
            _until_return(pending)
    except _POLICY_ERRORS:
        raise
    except Exception:  # a bug here must never break the host's call
        _local.busy = False
        return


# the statement's first word -> the catalog entry that names it; anything else is ``execute``
_SQLITE_VERBS = {
    "COMMIT": "sqlite3.Connection.commit",
    "END": "sqlite3.Connection.commit",
    "ROLLBACK": "sqlite3.Connection.rollback",
}
_SQLITE_EXECUTE = "sqlite3.Connection.execute"


def _trace_after_connect(args: tuple[Any, ...], frame: FrameType) -> None:
    """Arrange for a connection being made to get the statement trace once ``connect`` returns."""
    try:
        if not args or not any(tw.wants_wrapper(_SQLITE_EXECUTE) for tw in _tripwires):
            return
        if _flush_stale():  # the connect itself is being timed
            pending: _Pending = _local.pending
        else:  # an empty measurement just waits for ``connect`` to return (under someone
            # else's profiler it ends at once, and the connection goes untraced)
            pending = _Pending([], frame, _perf())
            _until_return(pending)
        pending.connections.append(args[0])
    except Exception:  # a bug here must never break the host's call
        return


def _trace(connections: list[Any]) -> None:
    for conn in connections:
        try:
            conn.set_trace_callback(_statement)
        except Exception:  # a connection whose initialisation failed: nothing to trace
            continue
    connections.clear()


def _statement(sql: str) -> None:
    """SQLite's trace callback: a statement starts on this connection."""
    if not _tripwires or _get_running_loop() is None or getattr(_local, "busy", False):
        return
    try:
        if _flush_stale():  # the same call's next statement (an implicit BEGIN, a script)
            return
        words = sql.split(None, 1)
        name = _SQLITE_VERBS.get(words[0].upper() if words else "", _SQLITE_EXECUTE)
        frame = sys._getframe(1)
        try:
            pending = _caught(None, name, (), frame)
        except _POLICY_ERRORS:  # recorded already, and SQLite would swallow the error: an
            # empty measurement keeps the same call's next statements from being caught again
            pending = _Pending([], frame, _perf())
        if pending is not None:
            _until_return(pending)
    except Exception:  # a bug here must never break the host's call
        _local.busy = False
        return


def _learn(event: str) -> bool:
    _seen.add(event)
    interesting = any(tw.wants_event(event) for tw in _tripwires)
    if len(_interest) < _MAX_INTEREST:
        _interest[event] = interesting
    return interesting


# ---- thin wrappers for blocking calls CPython raises no audit event for -----------------------------

# qualified name -> (owner object, original attribute or None when inherited, our wrapper)
_installed: dict[str, tuple[Any, Any, Any]] = {}
# audit events seen since the hook was installed (to know which targets CPython already audits)
_seen: set[str] = set()
_probed: dict[str, bool] = {}


def _wrap(name: str, original: Callable[..., Any], blocks: Predicate) -> Callable[..., Any]:
    def slow(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            pending = None
            if not _flush_stale() and blocks(args, kwargs):
                pending = _caught(None, name, args, sys._getframe(2))
        except _POLICY_ERRORS:
            raise
        except Exception:  # a bug here must never break the host's call
            _local.busy = False
            pending = None
        if pending is None:
            return original(*args, **kwargs)
        start = _perf()
        try:
            return original(*args, **kwargs)
        finally:
            _finish(pending, _perf() - start)

    if blocks is blocking_socket:
        # socket methods run for every read and write of every asyncio transport (non-blocking
        # sockets): the cheapest test that lets those through comes first
        @functools.wraps(original)
        def socket_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if (
                not _tripwires
                or self.gettimeout() == 0.0
                or _get_running_loop() is None
                or getattr(_local, "busy", False)
            ):
                return original(self, *args, **kwargs)
            return slow((self, *args), kwargs)

        return socket_wrapper

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _tripwires or _get_running_loop() is None or getattr(_local, "busy", False):
            return original(*args, **kwargs)
        return slow(args, kwargs)

    return wrapper


def wrapped_names() -> tuple[str, ...]:
    """Qualified names of the callables the tripwire wraps right now (no audit event covers them)."""
    return tuple(sorted(_installed))


def _audited(event: str) -> bool:
    """Whether CPython raises ``event`` (probed once: ``time.sleep`` is audited from 3.12)."""
    known = _probed.get(event)
    if known is None:
        if event == "time.sleep" and event not in _seen:
            _local.busy = True  # the probe itself is not a blocking call to report
            try:
                time.sleep(0)
            finally:
                _local.busy = False
        known = _probed[event] = event in _seen
    return known


def _sync_wrappers() -> None:
    wanted = {
        name
        for name, target in TARGETS.items()
        if any(tw.wants_wrapper(name) for tw in _tripwires)
        and not (target.audit_event and _audited(target.audit_event))
    }
    for name in list(_installed):
        if name not in wanted:
            patched, original, wrapper = _installed.pop(name)
            attr = TARGETS[name].attr
            # someone patched over us: leave theirs in place (ours is inert without tripwires)
            if vars(patched).get(attr) is wrapper:
                if original is None:
                    delattr(patched, attr)
                else:
                    setattr(patched, attr, original)
    for name in sorted(wanted - set(_installed)):
        target = TARGETS[name]
        try:
            owner: Any = importlib.import_module(target.module)
            if target.owner:
                owner = getattr(owner, target.owner)
            own = vars(owner).get(target.attr)
            wrapper = _wrap(name, getattr(owner, target.attr), target.blocks)
            setattr(owner, target.attr, wrapper)
        except (ImportError, AttributeError, TypeError):
            continue
        _installed[name] = (owner, own, wrapper)


def activate(tripwire: Subscriber[Any]) -> None:
    """Start dispatching to ``tripwire`` (installs the audit hook the first time)."""
    global _tripwires, _hook_installed
    with _lock:
        if tripwire not in _tripwires:
            _tripwires = (*_tripwires, tripwire)
        _interest.clear()
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True
        _sync_wrappers()


def deactivate(tripwire: Subscriber[Any]) -> None:
    """Stop dispatching to ``tripwire``; restores the wrappers no active tripwire needs."""
    global _tripwires
    with _lock:
        _tripwires = tuple(tw for tw in _tripwires if tw is not tripwire)
        _interest.clear()
        _sync_wrappers()
