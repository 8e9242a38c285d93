"""A pure ASGI middleware that names each request's method and route template to the watcher.

``app = UnstallMiddleware(app)`` or ``app.add_middleware(UnstallMiddleware)`` (Starlette,
FastAPI, Litestar's ``DefineMiddleware``, Quart's ``app.asgi_app``, Django's ASGI handler).
Every stall and tripwire hit in a request then carries its method and route template, read
after routing: Starlette's and FastAPI's matched route (mounted apps included), Litestar's
``path_template``; elsewhere call :func:`unstall.integrations.set_route` with the framework's
rule, or the request is labelled ``"<unmatched>"`` (never with its path).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from unstall.watch._request import Request as _Request
from unstall.watch._request import enter as _enter
from unstall.watch._request import leave as _leave

__all__ = ("UnstallMiddleware",)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Templates:
    """The full template of each route of one app, mounted apps' prefixes included (built lazily)."""

    __slots__ = ("_by_route", "_size")

    def __init__(self) -> None:
        self._by_route: dict[int, str] = {}
        self._size = -1

    def of(self, root: object, route: object) -> str:
        routes = getattr(root, "routes", None)
        if isinstance(routes, list) and len(routes) != self._size:
            found: dict[int, str] = {}
            _walk(routes, "", found, 0)
            self._by_route, self._size = found, len(routes)
        full = self._by_route.get(id(route))
        if full is not None:
            return full
        own = getattr(route, "path_format", None) or getattr(route, "path", None)
        return own if isinstance(own, str) else ""


def _walk(routes: list[Any], prefix: str, found: dict[int, str], depth: int) -> None:
    """Record ``prefix`` + each route's template in ``found``, into mounted apps (8 deep at most)."""
    for route in routes:
        path = getattr(route, "path", None)
        path = path if isinstance(path, str) else ""
        own = getattr(route, "path_format", None)
        found[id(route)] = prefix + (own if isinstance(own, str) else path)
        inner = getattr(route, "routes", None)
        if depth < 8 and isinstance(inner, list) and inner:
            _walk(inner, prefix + path, found, depth + 1)


class _AsgiRequest(_Request):
    """A request read from its ASGI scope, which the app's router updates once it matched a route."""

    __slots__ = ("root", "scope", "templates")

    def __init__(self, method: str, scope: Scope, root: object, templates: _Templates) -> None:
        # every slot set here, without super().__init__: this runs once per request
        self.method = method
        self.route = ""
        self._token = None
        self._task = 0
        self.scope = scope
        self.root = root
        self.templates = templates

    def find_route(self) -> str:
        scope = self.scope
        template = scope.get("path_template")  # Litestar
        if isinstance(template, str) and template:
            return template
        route = scope.get("route")  # Starlette, FastAPI: the route the router matched
        if route is not None:
            return self.templates.of(self.root, route)
        return ""


class UnstallMiddleware:
    """ASGI middleware: the watcher labels what stalls in a request with its method and route template.

    HTTP and WebSocket requests are labelled; lifespan and other scopes pass through untouched.
    The cost per request is one small object and a context variable set and reset; the route
    is read only when something stalls. Never raises anything of its own into the app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates = _Templates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "http":
            method = scope.get("method", "")
        elif kind == "websocket":
            method = "WEBSOCKET"
        else:
            await self.app(scope, receive, send)
            return
        request = _AsgiRequest(method, scope, scope.get("app", self.app), self._templates)
        _enter(request)
        try:
            await self.app(scope, receive, send)
        finally:
            _leave(request)
