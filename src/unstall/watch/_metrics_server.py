"""``/metrics`` over HTTP, in the Prometheus text format, from a small thread of its own.

The server is the standard library's ``http.server``, one request at a time on one daemon
thread that sleeps in ``select`` between scrapes: nothing runs on a watched loop's thread, and
the only cost between scrapes is that idle thread. A scrape renders the watcher's
:meth:`~unstall.watch.Watcher.metrics`; a failure to render is a ``500`` for that scrape, never
an exception in the host. :meth:`MetricsServer.close` wakes the thread through a pipe, joins it
and closes the socket.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from unstall._watch_config import Address, parse_address
from unstall.watch._metrics import MetricsSnapshot, prometheus_text

__all__ = ("CONTENT_TYPE", "MetricsServer")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
logger = logging.getLogger("unstall")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5  # seconds a slow or silent client may hold the one serving thread
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] not in ("/metrics", "/metrics/"):
            self._reply(404, b"Not found: the metrics are at /metrics\n")
            return
        try:
            body = prometheus_text(self.server.snapshot()).encode()
        except Exception:
            self.server.errors += 1
            logger.debug("unstall: could not render the metrics", exc_info=True)
            self._reply(500, b"unstall could not render its metrics\n")
            return
        self._reply(200, body, CONTENT_TYPE)

    def _reply(self, status: int, body: bytes, kind: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged (the default writes a line to stderr for each)."""


class _Server(HTTPServer):
    def __init__(self, address: Address, snapshot: Callable[[], MetricsSnapshot]) -> None:
        family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
        self.address_family = family
        self.snapshot = snapshot
        self.errors = 0
        super().__init__((address.host, address.port), _Handler)
        # a client that connects and resets before the accept must not leave accept() waiting
        self.socket.setblocking(False)

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS lookup of the host (it can take seconds)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-scrape: nothing to report (the default prints a traceback)."""
        self.errors += 1


def _not_started() -> MetricsSnapshot:
    raise RuntimeError("the metrics server was started without a snapshot to serve")


class MetricsServer:
    """Serves ``snapshot()`` at ``http://HOST:PORT/metrics`` until :meth:`close`.

    ``address`` is ``"HOST:PORT"`` (see :func:`unstall._watch_config.parse_address`; port 0
    picks a free one, then read :attr:`port`); ``snapshot`` may also be given to :meth:`start`,
    so the port can be bound before the watcher starts. The socket is bound in the constructor, which
    raises ``OSError`` when it cannot be (the port is taken) and ``ValueError`` for an
    address that is not one; after that nothing raises.
    """

    def __init__(self, address: str, snapshot: Callable[[], MetricsSnapshot] | None = None) -> None:
        self._server = _Server(parse_address(address), snapshot or _not_started)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="unstall-metrics", daemon=True)
        self._closed = False

    @property
    def host(self) -> str:
        """The address the socket is bound to."""
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        """The port the socket is bound to."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port/metrics`` (a host bound to every interface is shown as 127.0.0.1)."""
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/metrics"

    @property
    def errors(self) -> int:
        """Scrapes that failed (rendering errors, clients that went away)."""
        return self._server.errors

    def start(self, snapshot: Callable[[], MetricsSnapshot] | None = None) -> MetricsServer:
        """Start serving on the thread (``snapshot``: what to serve, if not given before); returns ``self``."""
        if snapshot is not None:
            self._server.snapshot = snapshot
        self._thread.start()
        return self

    def _serve(self) -> None:
        listening = self._server.socket.fileno()
        try:
            while True:
                ready, _, _ = select.select([listening, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
                self._server.handle_request()
        except Exception:  # the socket closed under us: nothing more to serve
            logger.debug("unstall: the metrics server stopped", exc_info=True)

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving: wake the thread, join it, close the socket. Idempotent; never raises."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout)
        with contextlib.suppress(Exception):
            self._server.server_close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
