"""Does the watchdog catch known stalls, measure them, blame the right line and label the cause?

Usage: python benchmarks/watch_detection.py

Each program runs in a fresh process under each tool: ``unstall.watch(threshold_ms=20)``,
blockbuster (activated), aiocop (audit hooks + slow tasks at 20 ms), pyleak
(``no_event_loop_blocking(threshold=0.02)``) and aiodebug (slow callbacks at 20 ms). The
table shows caught or not, reported vs true duration, whether the report names the stalling
line (file and line number), and the cause label against the expected one (``-`` when the
tool gives none). A peer that is not installed prints "n/a".

The GIL cases: C code on the loop's thread that holds the GIL (a catastrophic regex, a big
``json.loads``; ``zlib.compress`` for contrast, which lets the GIL go), a large module
imported on the loop (its compile holds the GIL), and work handed to a thread with
``asyncio.to_thread`` whose C code holds the GIL while the loop waits for it: there the right
line is the ``to_thread`` call, and the right cause ``gil`` (a process is the fix).
``--cases`` picks some by name; ``--tools`` some tools.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = {
    "time.sleep": ("blocked", "time.sleep(0.2)  # MARK"),
    "cpu 2 deep": ("cpu", "n += sum(range(50))  # MARK"),
    "socket read": ("blocked", "sock.recv(10)  # MARK"),
    "2000 file reads": ("blocked", "open(path, 'rb').read()  # MARK"),
    "subprocess.run": (
        "blocked",
        "subprocess.run([sys.executable, '-c', 'import time; time.sleep(0.2)'])  # MARK",
    ),
    "regex backtrack": ("cpu", "re.match(r'(a+)+$', 'a' * 23 + 'b')  # MARK"),
    "json.loads": ("cpu", "json.loads(blob)  # MARK"),
    "gc pause": ("gc", "gc.collect()  # MARK"),
    "zlib.compress": ("cpu", "zlib.compress(data, 9)  # MARK"),
    "large import": ("cpu", "import big_module  # MARK"),
    "regex in thread": (
        "gil",
        "await asyncio.to_thread(re.match, r'(a+)+$', 'a' * 23 + 'b')  # MARK",
    ),
    "json in thread": ("gil", "await asyncio.to_thread(json.loads, blob)  # MARK"),
}

CHILD = r"""
import asyncio, gc, json, os, re, socket, subprocess, sys, tempfile, threading, time, zlib
case = sys.argv[1]

def inner():
    n = 0
    end = time.perf_counter() + 0.2
    while time.perf_counter() < end:
        n += sum(range(50))  # MARK
    return n

def outer():
    return inner()

def slow_server():
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
    def serve():
        conn, _ = srv.accept(); time.sleep(0.2); conn.sendall(b"x"); conn.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()

async def stall_async():
    if case == "regex in thread":
        await asyncio.to_thread(re.match, r'(a+)+$', 'a' * 23 + 'b')  # MARK
    elif case == "json in thread":
        await asyncio.to_thread(json.loads, blob)  # MARK

def stall():
    if case == "time.sleep":
        time.sleep(0.2)  # MARK
    elif case == "cpu 2 deep":
        outer()
    elif case == "socket read":
        sock = socket.create_connection(ADDR)
        sock.recv(10)  # MARK
    elif case == "2000 file reads":
        for _ in range(2000):
            open(path, 'rb').read()  # MARK
    elif case == "subprocess.run":
        subprocess.run([sys.executable, '-c', 'import time; time.sleep(0.2)'])  # MARK
    elif case == "regex backtrack":
        re.match(r'(a+)+$', 'a' * 23 + 'b')  # MARK
    elif case == "json.loads":
        json.loads(blob)  # MARK
    elif case == "gc pause":
        gc.collect()  # MARK
    elif case == "zlib.compress":
        zlib.compress(data, 9)  # MARK
    elif case == "large import":
        import big_module  # MARK

if case == "socket read":
    ADDR = slow_server()
if case == "2000 file reads":
    fd, path = tempfile.mkstemp(); os.write(fd, b"x" * 65536); os.close(fd)
if case in ("json.loads", "json in thread"):
    blob = json.dumps([{"k": i, "v": [str(i)] * 5} for i in range(400_000)])
if case == "zlib.compress":
    data = os.urandom(1 << 16) * 300
if case == "large import":
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "big_module.py"), "w") as f:
        for i in range(30_000):
            f.write(f"def f{i}(x):\n    return x * {i} + (x if x > {i} else -{i})\n")
    sys.path.insert(0, folder)
    sys.dont_write_bytecode = True  # compiled on import, as on a first run
if case == "gc pause":
    class N:
        pass
    keep = []
    for i in range(500_000):
        a = N(); a.s = a; keep.append(a)
    gc.disable(); del keep

TOOL = sys.argv[2]

async def main():
    found = []
    if TOOL == "unstall":
        import unstall
        from unstall.watch import _sentinel
        w = unstall.watch(threshold_ms=20, log=False)
        while not _sentinel._shared.ready:  # its helper process takes a moment to start
            await asyncio.sleep(0.01)
    elif TOOL == "aiocop":
        import aiocop
        aiocop.patch_audit_functions()
        aiocop.start_blocking_io_detection(trace_depth=20)
        aiocop.detect_slow_tasks(threshold_ms=20, on_slow_task=found.append)
        aiocop.activate()
    elif TOOL == "aiodebug":
        import aiodebug.log_slow_callbacks
        aiodebug.log_slow_callbacks.enable(0.02, on_slow_callback=lambda name, d: found.append((name, d)))
    elif TOOL == "blockbuster":
        from blockbuster import BlockBuster
        bb = BlockBuster()
        bb.activate()
    await asyncio.sleep(0.05)
    error = None
    t = time.perf_counter()
    if TOOL == "pyleak":
        from pyleak import no_event_loop_blocking
        try:
            async with no_event_loop_blocking(action="raise", threshold=0.02, check_interval=0.005):
                await asyncio.sleep(0.01)
                t = time.perf_counter()
                stall()
                await stall_async()
                true = time.perf_counter() - t
                await asyncio.sleep(0.1)
        except Exception as exc:
            error = exc
    else:
        try:
            stall()
            await stall_async()
        except Exception as exc:
            error = exc
        true = time.perf_counter() - t
    for _ in range(30):
        await asyncio.sleep(0.02)
    if TOOL == "blockbuster":
        bb.deactivate()
    out = {"true": true, "caught": False, "reported": None, "text": "", "cause": ""}
    if TOOL == "unstall":
        ev = max(w.events, key=lambda e: e.duration, default=None)
        if ev is not None:
            out.update(caught=True, reported=ev.duration, cause=ev.cause.value,
                       text=f"{ev.blamed.filename}:{ev.blamed.lineno}" if ev.blamed else "")
    elif TOOL == "aiocop":
        slow = [e for e in found if e.exceeded_threshold]
        if slow:
            ev = max(slow, key=lambda e: e.elapsed_ms)
            cause = {"io_blocking": "blocked", "cpu_blocking": "cpu"}.get(ev.reason, ev.reason)
            out.update(caught=True, reported=ev.elapsed_ms / 1e3, cause=cause,
                       text=repr(ev.blocking_events) + repr(ev.cpu_stack_samples))
    elif TOOL == "aiodebug":
        if found:
            name, d = max(found, key=lambda x: x[1])
            out.update(caught=True, reported=d, text=str(name))
    elif TOOL == "blockbuster":
        if error is not None:
            import traceback
            out.update(caught=True, cause="blocked", text="".join(traceback.format_exception(error)))
    elif TOOL == "pyleak":
        blocks = getattr(error, "blocking_events", None) or []
        if blocks:
            b = max(blocks, key=lambda b: b.duration)
            out.update(caught=True, reported=b.duration, text=b.format_blocking_stack())
    print(json.dumps(out))

asyncio.run(main())
"""


TOOLS = ("unstall", "blockbuster", "aiocop", "pyleak", "aiodebug")


def main() -> int:
    """Run every program under every tool and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--tools", nargs="*", default=list(TOOLS), choices=list(TOOLS))
    args = parser.parse_args()
    print(
        f"{'program':<17} {'tool':<12} {'caught':>6} {'true':>8} {'reported':>9} {'line':>5} {'cause/expected':>16}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp, "stall_program.py")
        program.write_text(CHILD)  # a real file, so the blamed frame is user code with source text
        lines = CHILD.splitlines()
        for name in args.cases:
            expected, mark = CASES[name]
            lineno = next(i for i, text in enumerate(lines, 1) if text.strip() == mark)
            for tool in args.tools:
                _case(program, name, tool, expected, lineno)
    return 0


def _right_line(text: str, lineno: int) -> bool:
    """Whether a tool's report names ``stall_program.py`` at ``lineno``."""
    return bool(re.search(rf'stall_program\.py"?(?:, line |:){lineno}\b', text))


def _case(program: Path, name: str, tool: str, expected: str, lineno: int) -> None:
    label = "" if tool != "unstall" else name
    if tool != "unstall" and importlib.util.find_spec(tool) is None:
        print(f"{label:<17} {tool:<12} n/a (not installed in this environment)")
        return
    out = subprocess.run(
        [sys.executable, str(program), name, tool],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        r = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = out.stderr.strip().splitlines()[-1:] or ["no output"]
        print(f"{label:<17} {tool:<12} error: {tail[0][:90]}")
        return
    line_ok = "yes" if r["caught"] and _right_line(r["text"], lineno) else "no"
    rep = f"{r['reported'] * 1e3:7.0f}ms" if r["reported"] else "-"
    cause = f"{r['cause'] or '-'}/{expected}"
    print(
        f"{label:<17} {tool:<12} {'yes' if r['caught'] else 'no':>6} {r['true'] * 1e3:6.0f}ms {rep:>9} "
        f"{line_ok:>5} {cause:>16}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
