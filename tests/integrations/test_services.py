"""Real services under ``unstall run``: uvicorn + Starlette and aiohttp, under load, with one blocking
route. The text report, ``/metrics`` and the HTML page each name that route with its stall count."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.integrations.servers import get
from tests.waiting import wait_until

BLOCKING = 4  # requests to the blocking route: exactly that many stalls there

STARLETTE_APP = """
import asyncio, time
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from unstall.integrations.asgi import UnstallMiddleware

async def invoice(request):
    time.sleep(0.3)  # THE BLOCKING ROUTE
    return PlainTextResponse("invoice")

async def health(request):
    await asyncio.sleep(0.001)
    return PlainTextResponse("ok")

app = UnstallMiddleware(Starlette(routes=[
    Route("/invoices/{invoice_id}", invoice), Route("/health/{n}", health),
]))
"""

AIOHTTP_APP = """
import asyncio, sys, time
from aiohttp import web
from unstall.integrations.aiohttp import unstall_middleware

async def invoice(request):
    time.sleep(0.3)  # THE BLOCKING ROUTE
    return web.Response(text="invoice")

async def health(request):
    await asyncio.sleep(0.001)
    return web.Response(text="ok")

app = web.Application(middlewares=[unstall_middleware])
app.router.add_get("/invoices/{invoice_id}", invoice)
app.router.add_get("/health/{n}", health)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(base: str) -> None:
    """Health checks from 4 clients while the blocking route is called BLOCKING times, one after another."""
    stop = threading.Event()
    errors: list[str] = []

    def client(n: int) -> None:
        i = 0
        while not stop.is_set() and i < 400:  # bounded
            status, _ = get(f"{base}/health/{n}-{i}")
            if status != 200:
                errors.append(f"health {status}")
            i += 1

    clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in clients:
        t.start()
    try:
        for i in range(BLOCKING):
            assert get(f"{base}/invoices/inv-{1000 + i}")[0] == 200
            time.sleep(0.15)
    finally:
        stop.set()
        for t in clients:
            t.join(30)
    assert not errors


def serve(tmp_path: Path, args: list[str], port: int) -> tuple[str, str, str]:
    """Run the service under ``unstall run``, load it, scrape it, stop it: (report, metrics, html)."""
    metrics_port = free_port()
    report, page = tmp_path / "report.json", tmp_path / "report.html"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "UNSTALL_LOG": "off"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unstall",
            "run",
            "--threshold-ms",
            "100",
            "--format",
            "json",
            "--output",
            str(report),
            "--html",
            str(page),
            "--metrics",
            f"127.0.0.1:{metrics_port}",
            *args,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: get_or_none(f"{base}/health/up") == 200, timeout=30)
        # the server's loop is watched once its heartbeats show (a uvloop loop that started
        # before the watcher saw uvloop imported is found within a second)
        assert wait_until(lambda: watched(metrics_port), timeout=10)
        load(base)
        # the last stall is counted once the watchdog next looks: scrape until the counts settle
        metrics, counts, settled = "", "", 0.0

        def scraped() -> bool:
            nonlocal metrics, counts, settled
            metrics = get(f"http://127.0.0.1:{metrics_port}/metrics")[1]
            now = "".join(
                line for line in metrics.splitlines() if line.startswith("unstall_stalls")
            )
            if now != counts:
                counts, settled = now, time.monotonic()
            return time.monotonic() - settled > 1.5

        wait_until(scraped, timeout=15)
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGINT, 130), stderr
    return report.read_text(), metrics, page.read_text()


def watched(metrics_port: int) -> bool:
    body = get(f"http://127.0.0.1:{metrics_port}/metrics")[1]
    found = re.search(r"^unstall_loop_lag_seconds_count (\d+)", body, re.MULTILINE)
    return found is not None and int(found.group(1)) > 0


def get_or_none(url: str) -> int | None:
    try:
        return get(url, timeout=2)[0]
    except OSError:
        return None


def check(report_text: str, metrics: str, page: str) -> None:
    report = json.loads(report_text)
    routes = {(r["method"], r["route"]): r for r in report["routes"]}
    invoice = routes[("GET", "/invoices/{invoice_id}")]
    recent = [(e["route"], round(e["duration"], 3), e["samples"]) for e in report["recent"]]
    # A stall is put down to a request by its samples: one the watchdog could not sample even
    # once (a machine so loaded that the thread got no CPU for 300 ms) has no stack and no
    # route. Every other stall of the blocking route is counted in all three views.
    unsampled = sum(1 for e in report["recent"] if e["samples"] == 0 and e["duration"] >= 0.29)
    expected = BLOCKING - unsampled
    assert expected >= BLOCKING // 2, recent
    assert invoice["stalls"] == expected, recent
    assert report["routes"][0]["route"] == "/invoices/{invoice_id}"  # ranked first
    assert "inv-1000" not in report_text  # never the path

    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    counted = sum(
        s.value
        for s in families["unstall_stalls"].samples
        if s.labels["route"] == "/invoices/{invoice_id}"
    )
    assert counted == expected

    assert "inv-1000" not in page
    row = re.search(r"<code>/invoices/\{invoice_id\}</code></td><td class=\"n\">(\d+)</td>", page)
    assert row is not None, "the routes table has no row for the blocking route"
    assert int(row.group(1)) == expected
    assert html.escape("time.sleep(0.3)  # THE BLOCKING ROUTE") in page  # the source excerpt


@pytest.mark.slow
def test_uvicorn_starlette_service_names_its_blocking_route(tmp_path: Path) -> None:
    (tmp_path / "service.py").write_text(STARLETTE_APP)
    port = free_port()
    args = ["-m", "uvicorn", "service:app", "--port", str(port), "--log-level", "warning"]
    check(*serve(tmp_path, args, port))


@pytest.mark.slow
def test_aiohttp_service_names_its_blocking_route(tmp_path: Path) -> None:
    (tmp_path / "service.py").write_text(AIOHTTP_APP)
    port = free_port()
    check(*serve(tmp_path, ["service.py", str(port)], port))
