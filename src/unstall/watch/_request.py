"""The HTTP request a task serves: set by framework middlewares, read by the watcher when it needs it.

A middleware of :mod:`unstall.integrations` makes one :class:`Request` per request and
:func:`enter`\\ s it: a context variable holds it for the request's task and every task it
starts, and on Python 3.11, whose C tasks do not expose their context to another thread, a
table keyed by the task holds it too. Nothing else happens per request: the watchdog reads the
request (its method, and its route template, which routing may have found only after the
middleware ran) when a stall is sampled, and the tripwire when it catches a call. Only the
method and the route template are kept, never the path, a header or a value of the request.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from typing import NamedTuple

__all__ = (
    "NO_REQUEST",
    "UNMATCHED",
    "Request",
    "RequestLabel",
    "current",
    "enter",
    "label",
    "leave",
    "method_label",
    "request_of",
    "set_route",
)

UNMATCHED = (
    "<unmatched>"  # in a request that no route matched (a 404, or a framework we cannot read)
)
MAX_TEMPLATE = 200  # characters of a route template that are kept
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "WEBSOCKET"}
)
# 3.11's C Task has no get_context(), so the watchdog finds a task's request by the task
_BY_TASK = sys.version_info < (3, 12)
_by_task: dict[int, Request] = {}
# the running task, read the way 3.11's asyncio.current_task() does, without its Python call
# (this runs once per request; asyncio.current_task is a Python function there)
_running_loop = asyncio.events._get_running_loop
_tasks_by_loop: dict[object, asyncio.Task[object]] = getattr(asyncio.tasks, "_current_tasks", {})

REQUEST: contextvars.ContextVar[Request | None] = contextvars.ContextVar(
    "unstall_request", default=None
)


class RequestLabel(NamedTuple):
    """What a stall or a blocking call is labelled with: the HTTP method and the route template."""

    method: str
    route: str


NO_REQUEST = RequestLabel("", "")


def method_label(method: object) -> str:
    """``method`` as a label: a standard HTTP method as it is, anything else ``"OTHER"``."""
    return method if isinstance(method, str) and method in _METHODS else "OTHER"


class Request:
    """One request being served: its method and, once known, its route template.

    A framework integration subclasses it when the route is found after the middleware ran
    (:meth:`find_route` reads it then, on the watchdog's thread). ``route`` set by
    :func:`set_route` wins over what :meth:`find_route` finds.
    """

    __slots__ = ("_task", "_token", "method", "route")

    def __init__(self, method: str, route: str = "") -> None:
        self.method = method  # as given: label() bounds it
        self.route = route
        self._token: contextvars.Token[Request | None] | None = None
        self._task = 0

    def find_route(self) -> str:
        """The route template the framework matched, or ``""`` when it has not (yet)."""
        return ""

    def template(self) -> str:
        """The route template: the one set, else the one found, else ``"<unmatched>"``. Never raises."""
        route = self.route
        if not route:
            try:
                route = self.find_route()
            except Exception:  # a framework object in a state we do not know: no route
                route = ""
        return route[:MAX_TEMPLATE] if route else UNMATCHED


def enter(request: Request) -> None:
    """Make ``request`` the one the running task (and the tasks it starts) serves; :func:`leave` ends it."""
    request._token = REQUEST.set(request)
    if _BY_TASK:
        task = _tasks_by_loop.get(_running_loop())
        if task is not None:
            request._task = key = id(task)
            _by_task[key] = request


def leave(request: Request) -> None:
    """The task is done with ``request`` (in the task that entered it). Never raises."""
    if request._task:
        if _by_task.get(request._task) is request:
            _by_task.pop(request._task, None)
        request._task = 0
    token, request._token = request._token, None
    if token is not None:
        try:
            REQUEST.reset(token)
        except ValueError:  # left in another context than it entered: forget it here
            REQUEST.set(None)


def current() -> Request | None:
    """The request the running task serves (on the loop's thread), or ``None``."""
    return REQUEST.get()


def set_route(template: str) -> None:
    """Name the route template of the request being served, for frameworks whose routing a middleware
    cannot read (Quart: ``request.url_rule.rule``; Django: ``request.resolver_match.route``).

    Call it from the request's task (a before-request hook, a view decorator). Give the
    template (``/items/<int:item_id>``), never the path with its values. Does nothing outside a
    request served through an unstall middleware.
    """
    request = REQUEST.get()
    if request is not None and isinstance(template, str):
        request.route = template[:MAX_TEMPLATE]


def request_of(loop: asyncio.AbstractEventLoop, ctx: contextvars.Context | None) -> Request | None:
    """The request of the task running on ``loop`` (from another thread, while the loop is stalled).

    ``ctx`` is that task's context when it could be read; without it the task is looked up.
    """
    if ctx is not None:
        found = ctx.get(REQUEST)
        if found is not None:
            return found
    if _by_task:
        task = asyncio.current_task(loop)
        if task is not None:
            return _by_task.get(id(task))
    return None


def label(request: Request | None) -> RequestLabel:
    """The :class:`RequestLabel` of ``request`` (``("", "")`` outside any request). Never raises."""
    if request is None:
        return NO_REQUEST
    method = request.method
    return RequestLabel(method if method in _METHODS else "OTHER", request.template())
