"""Framework and monitoring integrations: per-request attribution, Prometheus and OpenTelemetry.

* :class:`unstall.integrations.asgi.UnstallMiddleware`: a pure ASGI middleware (Starlette,
  FastAPI, Litestar, Quart, Django's ASGI handler, any ASGI app);
* :func:`unstall.integrations.aiohttp.unstall_middleware`: an aiohttp middleware;
* :class:`unstall.integrations.prometheus.UnstallCollector`: the watcher's metrics for a
  ``prometheus_client`` registry (extra ``unstall[prometheus]``);
* :func:`unstall.integrations.opentelemetry.instrument`: the same metrics as OpenTelemetry
  instruments (extra ``unstall[otel]``).

The middlewares only name the request (its method and route template) on a context the
watcher reads when something stalls; they do nothing else per request. Each submodule
imports its framework, so this package imports none.
"""

from __future__ import annotations

from unstall._exports import publish as _publish
from unstall.watch._request import set_route

__all__ = ("set_route",)

_publish(__name__, globals(), __all__)
