"""Entry point of the benchmark's server processes: ``python -m unstall.bench._serve KIND ...``.

``KIND`` is ``service`` (the async service), ``sync`` (the threaded stdlib server) or
``upstream`` (the slow upstream). The process binds 127.0.0.1 on a free port, prints one JSON
line ``{"port": N}`` on stdout, and serves until its stdin closes or it gets SIGTERM/SIGINT —
so it never outlives the benchmark that started it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence

__all__ = ("main",)


def _announce(port: int) -> None:
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()


def _on_stdin_eof(callback: Callable[[], object]) -> None:
    def wait() -> None:
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except (OSError, ValueError):
            pass
        callback()

    threading.Thread(target=wait, name="unstall-bench-stdin", daemon=True).start()


async def _serve_app(kind: str, args: argparse.Namespace) -> None:
    from aiohttp import web

    from unstall.bench._service import ServiceConfig, build_service, build_upstream

    if kind == "upstream":
        app = build_upstream(args.delay_ms / 1000.0)
    else:
        app = build_service(
            ServiceConfig(
                upstream_url=args.upstream,
                db_path=args.db,
                cpu_iterations=args.cpu_iterations,
                sleep_seconds=args.sleep_ms / 1000.0,
                sentinel=not args.no_sentinel,
            )
        )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    _on_stdin_eof(lambda: loop.call_soon_threadsafe(stop.set))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.SockSite(runner, sock, backlog=1024).start()
        _announce(sock.getsockname()[1])
        await stop.wait()
    finally:
        await runner.cleanup()


def _serve_sync(args: argparse.Namespace) -> None:
    from unstall.bench._sync_service import build_sync_server

    server = build_sync_server(
        ("127.0.0.1", args.port),
        upstream_url=args.upstream,
        db_path=args.db,
        cpu_iterations=args.cpu_iterations,
        sleep_seconds=args.sleep_ms / 1000.0,
    )
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: done.set())
    _on_stdin_eof(done.set)
    thread = threading.Thread(target=server.serve_forever, name="unstall-bench-sync", daemon=True)
    thread.start()
    _announce(server.server_address[1])
    while not done.wait(0.5):
        pass
    server.shutdown()
    server.server_close()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and serve until stopped; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m unstall.bench._serve")
    parser.add_argument("kind", choices=("service", "sync", "upstream"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--upstream", default="http://127.0.0.1:9/")
    parser.add_argument("--db", default=":memory:")
    parser.add_argument("--cpu-iterations", type=int, default=100_000)
    parser.add_argument("--sleep-ms", type=float, default=20.0)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument(
        "--no-sentinel", action="store_true", help="run the watcher without its sentinel process"
    )
    args = parser.parse_args(argv)
    if args.kind == "sync":
        _serve_sync(args)
        return 0
    if args.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve_app(args.kind, args))
    else:
        asyncio.run(_serve_app(args.kind, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
