"""An aiohttp middleware that names each request's method and route template to the watcher.

``web.Application(middlewares=[unstall_middleware])``: every stall and tripwire hit in a
handler then carries the request's method and the canonical route of its resource
(``/items/{item_id}``); a request that matched no route is labelled ``"<unmatched>"``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from unstall.watch._request import Request as _Request
from unstall.watch._request import enter as _enter
from unstall.watch._request import leave as _leave

__all__ = ("unstall_middleware",)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _template(request: web.Request) -> str:
    """The canonical route of the resource ``request`` matched, or ``""``."""
    try:
        resource = request.match_info.route.resource
    except Exception:  # no match info: a request aiohttp did not route
        return ""
    if resource is None:
        return ""
    canonical = resource.canonical
    return canonical if isinstance(canonical, str) else ""


@web.middleware
async def unstall_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp middleware: the watcher labels what stalls in a handler with its method and route.

    aiohttp has routed the request before middlewares run, so the route is read here; the
    cost per request is one small object and a context variable set and reset.
    """
    labelled = _Request(request.method, _template(request))
    _enter(labelled)
    try:
        return await handler(request)
    finally:
        _leave(labelled)
