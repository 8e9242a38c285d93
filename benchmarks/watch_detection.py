"""Does the watchdog catch known stalls, measure them, blame the right line and label the cause?

Usage: python benchmarks/watch_detection.py

Each program runs in a fresh process under ``unstall.watch(threshold_ms=20)``; the table shows
caught or not, reported vs true duration, whether the blamed line is the stalling line, and
the cause label against the expected one. Peer tools print "n/a" when not installed.
"""

from __future__ import annotations

import importlib.util
import json
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
}

CHILD = r"""
import asyncio, gc, json, os, re, socket, subprocess, sys, tempfile, threading, time
import unstall
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

if case == "socket read":
    ADDR = slow_server()
if case == "2000 file reads":
    fd, path = tempfile.mkstemp(); os.write(fd, b"x" * 65536); os.close(fd)
if case == "json.loads":
    blob = json.dumps([{"k": i, "v": [str(i)] * 5} for i in range(400_000)])
if case == "gc pause":
    class N:
        pass
    keep = []
    for i in range(500_000):
        a = N(); a.s = a; keep.append(a)
    gc.disable(); del keep

async def main():
    w = unstall.watch(threshold_ms=20, log=False)
    await asyncio.sleep(0.05)
    t = time.perf_counter()
    stall()
    true = time.perf_counter() - t
    for _ in range(30):
        await asyncio.sleep(0.02)
    ev = max(w.events, key=lambda e: e.duration, default=None)
    print(json.dumps({"true": true, "caught": ev is not None,
        "reported": ev.duration if ev else None,
        "line": ev.blamed.source if ev and ev.blamed else "",
        "cause": ev.cause.value if ev else ""}))

asyncio.run(main())
"""


def main() -> int:
    """Run every case and print the table."""
    peers = ("blockbuster", "aiocop", "pyleak", "aiodebug")
    print(
        f"{'program':<17} {'tool':<8} {'caught':>6} {'true':>8} {'reported':>9} {'line':>5} {'cause':>14}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp, "stall_program.py")
        program.write_text(CHILD)  # a real file, so the blamed frame is user code with source text
        for name, (expected, mark) in CASES.items():
            _case(program, name, expected, mark, peers)
    return 0


def _case(program: Path, name: str, expected: str, mark: str, peers: tuple[str, ...]) -> None:
    if True:
        out = subprocess.run(
            [sys.executable, str(program), name], capture_output=True, text=True, timeout=120
        )
        try:
            r = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            print(f"{name:<17} unstall  error: {out.stderr.strip().splitlines()[-1:]}")
            return
        line_ok = "yes" if "# MARK" in r["line"] or r["line"] in mark else "no"
        rep = f"{r['reported'] * 1e3:7.0f}ms" if r["reported"] else "-"
        cause = f"{r['cause'] or '-'}/{expected}"
        print(
            f"{name:<17} {'unstall':<8} {'yes' if r['caught'] else 'no':>6} {r['true'] * 1e3:6.0f}ms {rep:>9} "
            f"{line_ok:>5} {cause:>14}"
        )
        for peer in peers:
            if importlib.util.find_spec(peer) is None:
                print(f"{'':<17} {peer:<8} n/a (not installed in this environment)")


if __name__ == "__main__":
    sys.exit(main())
