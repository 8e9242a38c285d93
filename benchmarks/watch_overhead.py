"""Overhead of ``unstall.watch()`` on real workloads, side by side, each run in a fresh process.

Usage: python benchmarks/watch_overhead.py [--repeat 5] [--scale 1.0] [--loops asyncio,uvloop]
                                           [--configs bare,watch,...] [--cpu 1] [--json]

Workloads: (a) ``steps``: 100k short task steps (``await asyncio.sleep(0)``, 4 tasks),
(b) ``echo``: 20k loopback round trips over asyncio streams to an echo server in another
process (timed from the first round trip; server start-up excluded), (c) ``http``: an aiohttp
server on 127.0.0.1 under an aiohttp load client with 32 requests in flight (4,000 requests).
``--scale`` multiplies every size.

Configurations: ``bare``; ``watch`` (``unstall.watch()`` as shipped: heartbeat, sampled
iteration timing and the sentinel process, timed once the sentinel is up: starting it costs
about 20 ms of CPU once, in its own process); ``watch_nosentinel`` (the same without the
sentinel); ``watch_always`` (every iteration timed); ``watch_heartbeat`` (iteration timing
off); ``watch_no_hygiene`` (``hygiene=False``: no run-time checks of asyncio mistakes);
``tripwire`` (``unstall.watch(tripwire=True)``);
``debug`` (asyncio debug mode); and the peer tools ``blockbuster``, ``aiocop``, ``pyleak`` and
``aiodebug`` when they are importable (install them into the environment that runs this
script; a missing one is skipped with a note). Each cell is the median wall time of the
workload alone (process start-up excluded) over ``--repeat`` runs, configurations interleaved,
and its ratio to bare, in wall time and in process CPU time (all threads; less sensitive to a
loaded machine); a ratio is the median over rounds of that round's ratio to its own bare run.
``imported`` loads the package and builds a watcher without starting it: what merely importing
costs (memory layout, garbage). ``thread`` is bare plus one idle thread blocked in a read, as
in any process that has used an executor (``asyncio.to_thread``, ``getaddrinfo``): while a
process has a second thread, Linux takes a reference on the file for every system call on a
descriptor (``epoll_wait``, ``recv``, ``send``) instead of its single-threaded fast path, so a
loop that does little but such calls runs about 2% slower. The watchdog is such a thread; in a
process that already has one, that part of its cost is already paid. ``--cpu`` pins every child to a CPU set. Every configuration runs ``gc.collect()`` just before the timed part, so the
one-time cost of importing a tool is not charged as a collection during the workload. A
configuration that fails prints ``error``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

CONFIGS = (
    "bare",
    "imported",
    "thread",
    "watch",
    "watch_nosentinel",
    "watch_always",
    "watch_heartbeat",
    "watch_no_hygiene",
    "tripwire",
    "debug",
    "blockbuster",
    "aiocop",
    "pyleak",
    "aiodebug",
)
WORKLOADS = ("steps", "echo", "http")
PEERS = ("blockbuster", "aiocop", "pyleak", "aiodebug")


def _available(config: str, loop: str) -> str | None:
    """``None`` when the configuration can run, else the reason it cannot."""
    if config == "tripwire" and importlib.util.find_spec("unstall.watch._tripwire") is None:
        return "the tripwire is not in this tree"
    if config in PEERS and importlib.util.find_spec(config) is None:
        return f"{config} is not installed in this environment"
    if loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        return "uvloop is not installed"
    return None


CHILD = r"""
# glibc's malloc raises its mmap threshold the first time it frees a large mapped block, and
# asyncio reads a socket into a fresh 256 KiB buffer: in a process that has not yet freed a
# big block, every read is an mmap/mremap/munmap (measured: 1.7x on the echo workload, in
# whichever configuration happened to import less). Every configuration starts from the same
# allocator state.
bytes(1 << 20)
import asyncio, contextlib, gc, sys, time
workload, config, loop_kind, scale = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])

async def steps():
    async def worker(n):
        for _ in range(n):
            await asyncio.sleep(0)
    await asyncio.gather(*(worker(int(25_000 * scale)) for _ in range(4)))

MARKS = []

def begin():  # start (or restart) the clock: a workload calls it again once set up
    MARKS.append((time.perf_counter(), time.process_time()))

ECHO_SERVER = '''
import socket
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen()
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while data := conn.recv(64):
    conn.sendall(data)
'''

# the echo server is another process, started before any tool is on: the timed loop serves
# one client socket, so the order in which a shared loop would see two sockets' events
# cannot change the work done
SERVER = None
if workload == "echo":
    import subprocess
    SERVER = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    ECHO_PORT = int(SERVER.stdout.readline())

async def echo():
    r, w = await asyncio.open_connection("127.0.0.1", ECHO_PORT)
    begin()
    for _ in range(int(20_000 * scale)):
        w.write(b"ping")
        await r.readexactly(4)
    w.close()
    await w.wait_closed()

if workload == "http":  # imported before the clock: an import on the loop is a stall of its own
    import aiohttp
    from aiohttp import web

async def http():
    async def hello(request):
        return web.Response(text="ok")
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    total = int(4000 * scale)
    async with aiohttp.ClientSession() as session:
        sem = asyncio.Semaphore(32)
        async def one():
            async with sem:
                async with session.get(f"http://127.0.0.1:{port}/") as resp:
                    await resp.read()
        await asyncio.gather(*(one() for _ in range(total)))
    await runner.cleanup()

class _Statsd:
    def timing(self, metric, value):
        pass

async def main():
    scope = contextlib.nullcontext()
    if config == "imported":  # the package loaded and a watcher built, never started
        import unstall
        unstall.watch.Watcher(threshold_ms=100, log=False)
    elif config == "thread":  # one idle thread, as an executor leaves behind
        import os, threading
        idle_r, idle_w = os.pipe()
        threading.Thread(target=os.read, args=(idle_r, 1), daemon=True).start()
    elif config.startswith("watch") or config == "tripwire":
        import unstall
        from unstall.watch import _sentinel
        timing = {"watch": "sampled", "watch_nosentinel": "sampled", "watch_always": True, "watch_heartbeat": False, "watch_no_hygiene": "sampled", "tripwire": "sampled"}[config]
        sentinel = config != "watch_nosentinel"
        unstall.watch(threshold_ms=100, iteration_timing=timing, tripwire=config == "tripwire", hygiene=config != "watch_no_hygiene", log=False, sentinel=sentinel)
        for _ in range(500):  # the sentinel's process starting up is not the workload's cost
            if not sentinel or _sentinel._shared.ready:
                break
            await asyncio.sleep(0.01)
    elif config == "blockbuster":
        from blockbuster import BlockBuster
        BlockBuster().activate()
    elif config == "aiocop":
        import aiocop
        aiocop.patch_audit_functions()
        aiocop.start_blocking_io_detection()
        aiocop.detect_slow_tasks(threshold_ms=100, on_slow_task=lambda event: None)
        aiocop.activate()
    elif config == "pyleak":
        from pyleak import no_event_loop_blocking
        scope = no_event_loop_blocking(action="log", threshold=0.1)
    elif config == "aiodebug":
        import aiodebug.log_slow_callbacks, aiodebug.monitor_loop_lag
        aiodebug.log_slow_callbacks.enable(0.1)
        aiodebug.monitor_loop_lag.enable(_Statsd(), loop=asyncio.get_running_loop())
    gc.collect()  # every configuration starts the workload with the same garbage: none
    async with scope:
        begin()
        await {"steps": steps, "echo": echo, "http": http}[workload]()
        start, cpu = MARKS[-1]
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(elapsed, cpu)

if loop_kind == "uvloop":
    import uvloop
    with asyncio.Runner(loop_factory=uvloop.new_event_loop, debug=config == "debug") as r:
        r.run(main())
else:
    asyncio.run(main(), debug=config == "debug")
if SERVER is not None:
    SERVER.wait(timeout=30)
"""


_CPUS: set[int] = set()


def _pin() -> None:
    """In the child, before it starts: keep it on the ``--cpu`` set."""
    if _CPUS:
        os.sched_setaffinity(0, _CPUS)


def _once(workload: str, config: str, loop: str, scale: float) -> tuple[float, float] | None:
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, workload, config, loop, str(scale)],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
            preexec_fn=_pin,
        )
        wall, cpu = out.stdout.strip().splitlines()[-1].split()
        return float(wall), float(cpu)
    except (subprocess.SubprocessError, ValueError, IndexError) as exc:
        stderr = getattr(exc, "stderr", "") or ""
        tail = stderr.strip().splitlines()[-1:] if stderr else [type(exc).__name__]
        print(f"  {loop}/{workload}/{config} failed: {tail[0][:160]}", file=sys.stderr)
        return None


def _print_row(name: str, configs: list[str], row: dict[str, object]) -> None:
    bare = row["bare"]
    print(name, flush=True)
    for config in configs:
        value = row[config]
        if not isinstance(value, dict) or not isinstance(bare, dict):
            print(f"    {config:<16} {value}")
            continue
        wall, cpu = value["wall"], value["cpu"]
        print(
            f"    {config:<16} {wall * 1e3:9.1f} ms  x{value['wall_ratio']:6.3f}   "
            f"cpu {cpu * 1e3:9.1f} ms  x{value['cpu_ratio']:6.3f}",
            flush=True,
        )


def main() -> int:
    """Run every workload x configuration x loop and print the table of medians and ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument(
        "--cpu",
        default="",
        help="run every child on these CPUs (e.g. 1 or 0,1): on a small VM a child moved "
        "between CPUs mid-run can take 1.5x as long, which swamps a 1%% difference",
    )
    args = parser.parse_args()
    if args.cpu:
        if not hasattr(os, "sched_setaffinity"):
            parser.error("--cpu needs os.sched_setaffinity (Linux).")
        try:
            _CPUS.update(int(c) for c in args.cpu.split(","))
        except ValueError:
            parser.error(f"--cpu {args.cpu!r} is not a comma-separated list of CPU numbers.")
    configs = [c for c in args.configs.split(",") if c]
    if "bare" not in configs:
        configs.insert(0, "bare")
    results: dict[str, dict[str, object]] = {}
    notes: dict[str, str] = {}
    print(
        f"python {sys.version.split()[0]}, repeat {args.repeat}, scale {args.scale}"
        f"{f', cpu {args.cpu}' if args.cpu else ''}; "
        "median wall ms (ratio to bare) / median process CPU ms (ratio to bare)"
    )
    for loop in args.loops.split(","):
        for workload in args.workloads.split(","):
            runnable = []
            for c in configs:
                reason = _available(c, loop)
                if reason:
                    notes[c] = reason
                else:
                    runnable.append(c)
            times: dict[str, list[tuple[float, float]]] = {c: [] for c in runnable}
            # per round, each configuration's ratio to that round's bare run: slow drift of
            # the machine cancels out of the ratio
            ratios: dict[str, list[tuple[float, float]]] = {c: [] for c in runnable}
            for i in range(args.repeat):
                order = runnable if i % 2 == 0 else list(reversed(runnable))
                round_: dict[str, tuple[float, float]] = {}
                for config in order:
                    value = _once(workload, config, loop, args.scale)
                    if value is not None:
                        times[config].append(value)
                        round_[config] = value
                base = round_.get("bare")
                if base is not None:
                    for config, (wall, cpu) in round_.items():
                        ratios[config].append((wall / base[0], cpu / base[1]))
            row: dict[str, object] = {}
            for config in configs:
                if config in notes:
                    row[config] = "n/a"
                elif not times[config]:
                    row[config] = "error"
                else:
                    paired = ratios[config] or [(float("nan"), float("nan"))]
                    row[config] = {
                        "wall": statistics.median(t[0] for t in times[config]),
                        "cpu": statistics.median(t[1] for t in times[config]),
                        "wall_ratio": statistics.median(r[0] for r in paired),
                        "cpu_ratio": statistics.median(r[1] for r in paired),
                    }
            results[f"{loop}/{workload}"] = row
            _print_row(f"{loop}/{workload}", configs, row)
    for config, reason in notes.items():
        print(f"note: {config} skipped: {reason}")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    began = time.perf_counter()
    code = main()
    print(f"total {time.perf_counter() - began:.0f}s")
    sys.exit(code)
