"""The same work served by a fully synchronous, thread-per-connection stdlib server."""

from __future__ import annotations

import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from unstall.bench._work import cpu_work, db_query, http_get

__all__ = ("build_sync_server",)


def build_sync_server(
    address: tuple[str, int],
    *,
    upstream_url: str,
    db_path: str,
    cpu_iterations: int,
    sleep_seconds: float = 0.02,
) -> ThreadingHTTPServer:
    """A ``ThreadingHTTPServer`` (HTTP/1.1 keep-alive) answering the async service's blocking paths."""
    routes: dict[str, Callable[[], object]] = {
        "/health": lambda: "ok",
        "/sleep/blocking": lambda: time.sleep(sleep_seconds),
        "/http/blocking": lambda: http_get(upstream_url),
        "/db/blocking": lambda: db_query(db_path)[0],
        "/cpu/inline": lambda: cpu_work(cpu_iterations),
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def do_GET(self) -> None:
            work = routes.get(self.path.split("?", 1)[0])
            if work is None:
                status, body = 404, b"not found\n"
            else:
                try:
                    status, body = 200, f"{work()}\n".encode()
                except Exception as exc:
                    status, body = 500, f"{type(exc).__name__}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # a benchmark does not want an access log

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    return Server(address, Handler)
