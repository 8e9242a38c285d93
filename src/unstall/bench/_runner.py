"""Run the benchmark: start the server processes, drive every variant at every concurrency level."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

from unstall import __version__
from unstall.bench._client import HTTPConnection
from unstall.bench._load import LoadResult, run_load
from unstall.bench._scenarios import SCENARIOS, Scenario, Variant
from unstall.bench._work import calibrate_cpu, cpu_work, create_database

__all__ = ("BenchConfig", "BenchResult", "Load", "Row", "ServerProcess", "run_bench", "run_url")

Progress = Callable[[str], None]


class Load(NamedTuple):
    """The :func:`run_load` settings of one measurement: ``concurrency`` clients (or connections,
    with a ``rate`` in requests per second)."""

    concurrency: int
    rate: float | None


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What to run: scenario names, load levels, seconds per measurement and its request cap.

    Without ``rates`` the load is a closed loop at each of the ``concurrency`` levels. With
    ``rates`` (requests per second) it is an open loop at each rate: requests start on schedule
    on at most ``max(concurrency)`` connections, and latency counts from each scheduled start.
    ``loop`` is the service's event loop (``"asyncio"`` or ``"uvloop"``); ``cpu_ms`` the size of
    the CPU work unit, ``sleep_ms`` the wait and the upstream's delay.
    """

    scenarios: tuple[str, ...] = tuple(s.name for s in SCENARIOS)
    concurrency: tuple[int, ...] = (1, 16, 64)
    rates: tuple[float, ...] = ()
    duration: float = 3.0
    max_requests: int = 100_000
    request_timeout: float = 10.0
    warmup: bool = True
    loop: str = "asyncio"
    cpu_ms: float = 5.0
    sleep_ms: float = 20.0

    @property
    def mode(self) -> str:
        """``"open loop"`` with ``rates``, else ``"closed loop"``."""
        return "open loop" if self.rates else "closed loop"

    def levels(self) -> tuple[float, ...]:
        """The load levels measured, in order: the rates of an open loop, else the concurrency levels."""
        return self.rates or self.concurrency

    def load(self, level: float) -> Load:
        """How to drive one measurement at ``level``."""
        if self.rates:
            return Load(max(self.concurrency), level)
        return Load(int(level), None)


@dataclass(frozen=True, slots=True)
class Row:
    """One measurement: a variant of a scenario at one load level.

    ``rate`` is the open loop's schedule in requests per second (``None`` for a closed loop,
    whose level is ``concurrency``; in an open loop ``concurrency`` caps the connections).
    Latencies and loop lag are in milliseconds; an open loop's latency counts from each
    request's scheduled start. The lag fields are ``None`` for the sync server (it has no event
    loop) and for external targets. ``stalls`` counts loop iterations the service's watcher saw
    run past its 40 ms threshold; ``max_in_flight`` is the most requests outstanding at once.
    """

    scenario: str
    variant: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    lag_p99_ms: float | None
    lag_max_ms: float | None
    max_in_flight: int
    blocks_loop: bool = False
    stalls: int | None = None
    rate: float | None = None

    @property
    def level(self) -> float:
        """The load level: ``rate`` in an open loop, else ``concurrency``."""
        return self.concurrency if self.rate is None else self.rate

    @property
    def level_label(self) -> str:
        """The load level for people: ``"16 concurrent"`` or ``"200 req/s"``."""
        if self.rate is None:
            return f"{self.concurrency} concurrent"
        return f"{self.rate:g} req/s"


@dataclass(frozen=True, slots=True)
class BenchResult:
    """Every row of one run, the configuration and where it ran (``environment``: name -> value)."""

    config: BenchConfig
    rows: tuple[Row, ...]
    environment: dict[str, str] = field(default_factory=dict)


class ServerProcess:
    """A benchmark server in a child process (``python -m unstall.bench._serve KIND``).

    It exits when its stdin closes, so it cannot outlive this process by more than a moment.
    """

    def __init__(
        self, kind: str, proc: asyncio.subprocess.Process, port: int, log: IO[bytes]
    ) -> None:
        self.kind = kind
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = log

    @classmethod
    async def start(
        cls, kind: str, *args: str, log_dir: Path, ready_within: float = 60.0
    ) -> ServerProcess:
        """Start the server and wait (up to ``ready_within`` s) for its port; ``RuntimeError`` if it fails."""
        log = (log_dir / f"{kind}.log").open("w+b")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-X",
            "faulthandler",  # a crash in the server shows its Python stack in the error
            "-m",
            "unstall.bench._serve",
            kind,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        assert proc.stdout is not None
        line = b""
        with contextlib.suppress(TimeoutError):
            line = await asyncio.wait_for(proc.stdout.readline(), ready_within)
        try:
            port = int(json.loads(line)["port"])
        except (ValueError, KeyError, TypeError):
            server = cls(kind, proc, 0, log)
            tail = server.log_tail()
            await server.stop()
            raise RuntimeError(
                f"The benchmark's {kind!r} server did not start (it printed {line[:200]!r}); "
                f"its output ends with:\n{tail}"
            ) from None
        return cls(kind, proc, port, log)

    def log_tail(self, size: int = 3000) -> str:
        """The last ``size`` characters the server wrote to stderr."""
        try:
            self._log.flush()
            self._log.seek(0)
            return self._log.read().decode(errors="replace")[-size:]
        except (OSError, ValueError):
            return "(no output)"

    def check_alive(self) -> None:
        """Raise ``RuntimeError`` with the server's last output if its process has exited."""
        if self.proc.returncode is not None:
            raise RuntimeError(
                f"The benchmark's {self.kind!r} server exited with code {self.proc.returncode}; "
                f"its output ends with:\n{self.log_tail()}"
            )

    async def stop(self, grace: float = 5.0) -> None:
        """Close its stdin and wait; terminate, then kill, if it does not exit in time."""
        proc = self.proc
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        for action in (None, proc.terminate, proc.kill):
            if action is not None:
                with contextlib.suppress(ProcessLookupError):
                    action()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), grace)
                break
        self._log.close()


async def get_json(base_url: str, path: str) -> Any:
    """``GET base_url + path`` on a fresh connection and decode the JSON body (loopback only)."""
    from unstall.bench._load import check_loopback_url

    host, port, prefix = check_loopback_url(base_url)
    conn = HTTPConnection(host, port)
    try:
        async with asyncio.timeout(10):
            status, body = await conn.get(prefix.rstrip("/") + path)
    finally:
        conn.close()
    if status != 200:
        raise RuntimeError(f"GET {base_url}{path} answered HTTP {status}.")
    text = body.decode()
    return json.loads(text) if text.lstrip().startswith(("{", "[")) else text.strip()


def _row(scenario: str, variant: Variant | str, result: LoadResult, lag: Any) -> Row:
    name = variant if isinstance(variant, str) else variant.name
    blocks = False if isinstance(variant, str) else variant.blocks_loop
    has_lag = isinstance(lag, dict) and lag.get("samples", 0) > 0
    return Row(
        scenario=scenario,
        variant=name,
        concurrency=result.concurrency,
        rps=result.rps,
        p50_ms=result.latency.p50 * 1e3,
        p99_ms=result.latency.p99 * 1e3,
        requests=result.requests,
        errors=result.errors,
        lag_p99_ms=float(lag["p99_ms"]) if has_lag else None,
        lag_max_ms=float(lag["max_ms"]) if has_lag else None,
        max_in_flight=result.max_in_flight,
        blocks_loop=blocks,
        stalls=int(lag["stalls"]) if isinstance(lag, dict) and "stalls" in lag else None,
        rate=result.rate,
    )


def describe_row(row: Row) -> str:
    """A one-line progress summary of ``row``."""
    lag = (
        ""
        if row.lag_max_ms is None
        else f"  lag p99 {row.lag_p99_ms:.1f} ms max {row.lag_max_ms:.1f} ms"
    )
    errors = f"  errors {row.errors}" if row.errors else ""
    return f"{row.rps:8.1f} req/s  p50 {row.p50_ms:7.1f} ms  p99 {row.p99_ms:7.1f} ms{errors}{lag}"


def _environment(config: BenchConfig, cpu_iterations: int) -> dict[str, str]:
    t0 = time.perf_counter()
    cpu_work(cpu_iterations)
    return {
        "unstall": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(terse=True),
        "cpus": str(os.cpu_count() or 0),
        "loop": config.loop,
        "cpu_iterations": str(cpu_iterations),
        "cpu_unit_ms": f"{(time.perf_counter() - t0) * 1e3:.1f}",
    }


async def run_bench(config: BenchConfig, progress: Progress = lambda line: None) -> BenchResult:
    """Run every selected scenario's variants at every concurrency level against real servers."""
    selected: list[Scenario] = [s for s in SCENARIOS if s.name in config.scenarios]
    plan = [(s, v) for s in selected for v in s.variants]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="unstall-bench-") as tmp:
        tmp_path = Path(tmp)
        db = tmp_path / "bench.sqlite"
        progress("preparing: SQLite file, CPU work calibration, server processes")
        await asyncio.to_thread(create_database, db)
        cpu_iterations = await asyncio.to_thread(calibrate_cpu, config.cpu_ms / 1000.0)
        environment = await asyncio.to_thread(_environment, config, cpu_iterations)
        servers: list[ServerProcess] = []
        try:
            upstream = await ServerProcess.start(
                "upstream", "--delay-ms", str(config.sleep_ms), log_dir=tmp_path
            )
            servers.append(upstream)
            common = (
                f"--upstream={upstream.url}/",
                f"--db={db}",
                f"--cpu-iterations={cpu_iterations}",
                f"--sleep-ms={config.sleep_ms}",
            )
            started = await asyncio.gather(
                ServerProcess.start("service", *common, f"--loop={config.loop}", log_dir=tmp_path),
                ServerProcess.start("sync", *common, log_dir=tmp_path),
                return_exceptions=True,
            )
            servers += [s for s in started if isinstance(s, ServerProcess)]
            for outcome in started:
                if isinstance(outcome, BaseException):
                    raise outcome  # the one that did start is stopped below
            service, sync = servers[1], servers[2]
            try:
                await _steps(plan, config, service, sync, rows, progress)
                stats = await get_json(service.url, "/__unstall/offload")
                for decision in stats.get("auto", ()) if isinstance(stats, dict) else ():
                    if str(decision.get("function", "")).endswith("cpu_work"):
                        environment["offload_auto"] = str(decision.get("engine"))
                        environment["offload_auto_reason"] = str(decision.get("reason"))
            except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
                for server in servers:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(server.proc.wait(), 1.0)
                    server.check_alive()
                raise RuntimeError(f"The benchmark's service stopped answering: {exc!r}") from exc
        finally:
            for server in reversed(servers):
                await server.stop()
    return BenchResult(config, tuple(rows), environment)


async def _steps(
    plan: list[tuple[Scenario, Variant]],
    config: BenchConfig,
    service: ServerProcess,
    sync: ServerProcess,
    rows: list[Row],
    progress: Progress,
) -> None:
    levels = config.levels()
    total = len(plan) * len(levels)
    step = 0
    for scenario, variant in plan:
        server = service if variant.server == "async" else sync
        url = server.url + variant.path
        if config.warmup:
            top = max(config.concurrency)
            await run_load(url, concurrency=top, duration=1.0, max_requests=2 * top)
        for level in levels:
            step += 1
            label = f"[{step:>2}/{total}] {scenario.name:<5} {variant.name:<22} {_level_tag(config, level)}"
            if variant.server == "async":
                await get_json(service.url, "/__unstall/reset")
            load = config.load(level)
            result = await run_load(
                url,
                concurrency=load.concurrency,
                rate=load.rate,
                duration=config.duration,
                max_requests=config.max_requests,
                request_timeout=config.request_timeout,
            )
            lag = (
                await get_json(service.url, "/__unstall/lag") if variant.server == "async" else None
            )
            row = _row(scenario.name, variant, result, lag)
            rows.append(row)
            progress(f"{label} {describe_row(row)}")
            for server in (service, sync):
                server.check_alive()


def _level_tag(config: BenchConfig, level: float) -> str:
    return f"rate={level:<6g}" if config.rates else f"c={int(level):<4}"


async def run_url(
    url: str,
    config: BenchConfig,
    progress: Progress = lambda line: None,
    *,
    label: str | None = None,
) -> BenchResult:
    """Drive an already running service at ``url`` (loopback only) at each load level.

    Rows are named ``"url"`` / ``label`` (default: the URL's path); they have no loop lag.
    """
    from unstall.bench._load import check_loopback_url

    _host, _port, path = check_loopback_url(url)
    rows: list[Row] = []
    levels: Sequence[float] = config.levels()
    if config.warmup:
        top = max(config.concurrency)
        await run_load(url, concurrency=top, duration=1.0, max_requests=2 * top)
    for step, level in enumerate(levels, 1):
        load = config.load(level)
        result = await run_load(
            url,
            concurrency=load.concurrency,
            rate=load.rate,
            duration=config.duration,
            max_requests=config.max_requests,
            request_timeout=config.request_timeout,
        )
        row = _row("url", label or path, result, None)
        rows.append(row)
        progress(
            f"[{step:>2}/{len(levels)}] {label or path} {_level_tag(config, level)} {describe_row(row)}"
        )
    environment = {
        "unstall": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(terse=True),
        "cpus": str(os.cpu_count() or 0),
        "target": url,
    }
    return BenchResult(config, tuple(rows), environment)
