"""The tripwire: blocking calls on a running loop's thread are caught, mapped to the catalog, and judged."""

from __future__ import annotations

import asyncio
import mimetypes
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.loops import RunLoop
from tests.watch.tripwire_support import code_of, line_of, only

from unstall.catalog import Kind, default_catalog
from unstall.watch import Tripwire
from unstall.watch import _tripwire_hook as hook

HERE = str(Path(__file__))


# ---- what is caught -----------------------------------------------------------------------------


def test_sleep_on_the_loop_is_caught_with_duration_line_and_task(
    run_loop: RunLoop, tripwire: Tripwire
) -> None:
    async def main() -> None:
        time.sleep(0.05)  # SLEEP

    run_loop(main())
    event = only(tripwire.events, "time.sleep")
    assert event.code == code_of(Kind.SLEEP) == "UNS101"
    assert event.kind == "sleep"
    assert event.detail == "float"  # what the argument is, never its value
    assert event.duration is not None
    assert event.duration >= 0.045
    assert event.blamed is not None
    assert (event.blamed.filename, event.blamed.lineno) == (HERE, line_of(HERE, "SLEEP"))
    assert event.blamed.function.endswith("main")
    assert event.blamed.source == "time.sleep(0.05)  # SLEEP"
    assert event.stack[-1] == event.blamed
    # the whole stack is kept, out to the test that started the loop
    assert any(f.function.startswith("test_sleep_on_the_loop") for f in event.stack)
    assert event.thread_id == threading.get_ident()
    assert event.task is not None
    assert event.task.coroutine.endswith("main")
    assert event.fix is not None
    assert "asyncio.sleep" in event.fix
    assert event.action == "record"


def test_file_dns_subprocess_and_database_calls_get_their_rule_codes(
    run_loop: RunLoop, tripwire: Tripwire, tmp_path: Path
) -> None:
    target = tmp_path / "data.txt"
    target.write_text("x")

    async def main() -> None:
        target.read_text()  # FILE
        socket.getaddrinfo("127.0.0.1", 80)  # DNS
        subprocess.run([sys.executable, "-c", "pass"], check=True)  # SUBPROCESS
        sqlite3.connect(":memory:").close()  # DATABASE

    run_loop(main())
    by_line = {e.blamed.lineno: e for e in tripwire.events if e.blamed is not None}
    file_event = by_line[line_of(HERE, "FILE")]
    assert file_event.code == code_of(Kind.FILE)
    assert str(target) not in file_event.detail
    assert file_event.detail == f"str[{len(str(target))}], str[1], int"  # path, mode, flags
    dns = by_line[line_of(HERE, "DNS")]
    assert (dns.code, dns.detail) == (code_of(Kind.DNS), "str[9], int, int, int")
    proc = by_line[line_of(HERE, "SUBPROCESS")]
    assert proc.code == code_of(Kind.SUBPROCESS)
    assert proc.name.startswith("subprocess.")
    # timed until subprocess.run returned, so the child's whole life is in it
    assert proc.duration is not None
    assert proc.duration > 0.005
    database = by_line[line_of(HERE, "DATABASE")]
    assert (database.code, database.name) == (code_of(Kind.DATABASE), "sqlite3.connect")
    assert len(tripwire.events) == 4, [(e.name, e.detail) for e in tripwire.events]


def test_blocking_socket_recv_is_caught_but_the_loops_own_socket_io_is_not(
    run_loop: RunLoop, tripwire: Tripwire
) -> None:
    async def main() -> None:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(await reader.read(100))
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping")
        assert await reader.read(100) == b"ping"
        writer.close()
        assert not tripwire.events, [(e.name, e.detail) for e in tripwire.events]

        left, right = socket.socketpair()
        with left, right:
            right.sendall(b"x")
            assert left.recv(1) == b"x"  # RECV
        server.close()
        await server.wait_closed()

    run_loop(main())
    recv = only(tripwire.events, "socket.socket.recv")
    assert recv.code == code_of(Kind.NETWORK)
    assert recv.blamed is not None
    assert recv.blamed.lineno == line_of(HERE, "RECV")


def test_calls_with_no_audit_event_are_wrapped(run_loop: RunLoop, tripwire: Tripwire) -> None:
    import queue
    import ssl

    async def main() -> None:
        proc = subprocess.Popen([sys.executable, "-c", "pass"])  # POPEN
        proc.wait()  # WAIT
        proc.wait()  # already exited: does not block
        ready: queue.Queue[int] = queue.Queue()
        ready.put(1)
        ready.get()  # an item is there: does not block
        with pytest.raises(queue.Empty):
            ready.get(timeout=0.01)  # QUEUE
        ssl.create_default_context()  # SSL

    run_loop(main())
    seen = [(e.name, e.code, e.blamed.lineno if e.blamed else 0) for e in tripwire.events]
    assert seen == [
        ("subprocess.Popen", code_of(Kind.SUBPROCESS), line_of(HERE, "POPEN")),
        ("subprocess.Popen.wait", code_of(Kind.SUBPROCESS), line_of(HERE, "WAIT")),
        ("queue.Queue.get", code_of(Kind.THREAD), line_of(HERE, "QUEUE")),
        ("ssl.create_default_context", code_of(Kind.SSL), line_of(HERE, "SSL")),
    ]
    assert all(e.duration is not None for e in tripwire.events)


def test_an_import_statement_on_the_loop_is_caught_once_lazy_library_imports_are_not(
    run_loop: RunLoop, tripwire: Tripwire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"fresh_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(f"import {name}_inner\n")
    (tmp_path / f"{name}_inner.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    async def main() -> None:
        __import__(name)  # IMPORT
        socket.getaddrinfo("127.0.0.1", 80)  # may import encodings.idna lazily: not the user's

    try:
        run_loop(main())
    finally:
        sys.modules.pop(name, None)
        sys.modules.pop(f"{name}_inner", None)
    imports = [e for e in tripwire.events if e.code == code_of(Kind.IMPORT)]
    assert [(e.detail.split(",")[0], e.blamed.lineno if e.blamed else 0) for e in imports] == [
        (f"str[{len(name)}]", line_of(HERE, "IMPORT"))
    ]
    assert [e.code for e in tripwire.events if e.code != code_of(Kind.IMPORT)] == [
        code_of(Kind.DNS)
    ]


def test_each_call_is_timed_on_its_own(run_loop: RunLoop, tripwire: Tripwire) -> None:
    async def main() -> None:
        sqlite3.connect(":memory:").close()
        time.sleep(0.3)

    run_loop(main())
    timed = {e.name: e.duration for e in tripwire.events}
    assert set(timed) == {"sqlite3.connect", "time.sleep"}
    connect, sleep = timed["sqlite3.connect"], timed["time.sleep"]
    assert connect is not None
    assert sleep is not None
    assert connect < 0.15 < 0.29 < sleep  # the sleep is not counted in the connect


def test_a_library_call_is_named_by_the_call_the_user_made(
    run_loop: RunLoop, tripwire: Tripwire
) -> None:
    import http.server

    requests = pytest.importorskip("requests")

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:

        async def main() -> None:
            assert requests.get(url, timeout=5).text == "ok"  # REQUESTS

        run_loop(main())
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    event = only(tripwire.events, "requests.get")
    assert event.code == code_of(Kind.NETWORK)
    assert event.blamed is not None
    assert event.blamed.lineno == line_of(HERE, "REQUESTS")
    assert event.duration is not None  # timed until requests.get returned


def test_a_user_catalog_entry_names_the_call_it_covers(run_loop: RunLoop, tmp_path: Path) -> None:
    # mimetypes.read_mime_types opens its file through open(); the built-in catalog has no
    # entry for it, a user's catalog extension does
    assert default_catalog().lookup("mimetypes.read_mime_types") is None
    catalog = default_catalog().extended(
        [
            {
                "name": "mimetypes.read_mime_types",
                "kind": "file",
                "why": "It reads a file.",
                "alternative": "await asyncio.to_thread(mimetypes.read_mime_types, path)",
            }
        ]
    )
    target = tmp_path / "mime.types"
    target.write_text("text/x-unstall uns\n")
    with Tripwire(catalog=catalog) as tw:

        async def main() -> None:
            types = mimetypes.read_mime_types(str(target))
            assert types is not None
            assert types[".uns"] == "text/x-unstall"

        run_loop(main())
    event = only(tw.events, "mimetypes.read_mime_types")
    assert event.code == code_of(Kind.FILE)
    assert dict(event.extra) == {"audit_event": "open"}


def test_a_loop_in_another_thread_is_checked_too(tripwire: Tripwire) -> None:
    idents: list[int] = []

    async def handler() -> None:
        idents.append(threading.get_ident())
        time.sleep(0.001)  # IN THREAD

    thread = threading.Thread(target=asyncio.run, args=(handler(),), name="side-loop")
    thread.start()
    thread.join()
    event = only(tripwire.events, "time.sleep")
    assert event.thread_id == idents[0] != threading.get_ident()
    assert event.blamed is not None
    assert event.blamed.lineno == line_of(HERE, "IN THREAD")


def test_events_hold_no_local_values(run_loop: RunLoop, tripwire: Tripwire) -> None:
    async def main() -> None:
        secret = "hunter2-do-not-log"
        assert secret
        time.sleep(0.001)

    run_loop(main())
    (event,) = tripwire.events
    assert "hunter2" not in repr(event)
    assert all(
        type(value) in (str, int)
        for frame in event.stack
        for value in (frame.filename, frame.lineno, frame.function, frame.module, frame.source)
    )


# ---- what is not caught ------------------------------------------------------------------------------


def test_executor_threads_plain_threads_and_code_without_a_loop_are_not_caught(
    run_loop: RunLoop, tripwire: Tripwire, tmp_path: Path
) -> None:
    target = tmp_path / "f.txt"

    def blocking() -> None:
        time.sleep(0.01)
        target.write_text("x")
        socket.getaddrinfo("127.0.0.1", 80)
        sqlite3.connect(":memory:").close()

    async def main() -> None:
        await asyncio.to_thread(blocking)
        await asyncio.get_running_loop().run_in_executor(None, blocking)
        thread = threading.Thread(target=blocking)
        thread.start()
        await asyncio.to_thread(thread.join)
        # the loop's own subprocess machinery is not the user's blocking call
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
        await proc.wait()
        await asyncio.sleep(0.01)

    run_loop(main())
    blocking()  # no running loop at all
    assert list(tripwire.events) == []


def test_switched_off_at_run_time_then_on_again(run_loop: RunLoop, tripwire: Tripwire) -> None:
    async def main() -> None:
        tripwire.disable()
        time.sleep(0.01)
        tripwire.enable()
        time.sleep(0.01)  # AGAIN

    run_loop(main())
    assert [e.blamed.lineno for e in tripwire.events if e.blamed] == [line_of(HERE, "AGAIN")]


def test_stopped_tripwire_restores_what_it_wrapped() -> None:
    tw = Tripwire().start()
    assert "socket.socket.recv" in hook.wrapped_names()
    assert "recv" in vars(socket.socket)
    tw.stop()
    assert hook.wrapped_names() == ()
    assert "recv" not in vars(socket.socket)
    assert time.sleep.__module__ == "time"

    async def main() -> None:
        time.sleep(0.001)

    asyncio.run(main())
    assert list(tw.events) == []


# ---- SQLite statements: no audit event, a C type; caught through the connection's trace -------------


def test_sqlite_statements_on_the_loop_are_caught_on_a_connection_made_before_the_loop(
    run_loop: RunLoop, tripwire: Tripwire, tmp_path: Path
) -> None:
    conn = sqlite3.connect(tmp_path / "app.db")  # made outside any loop: not itself a hit
    conn.execute("create table t (x)")

    async def main() -> None:
        conn.execute("insert into t values (1)")  # EXECUTE
        conn.commit()  # COMMIT
        conn.executescript("insert into t values (2); insert into t values (3);")  # SCRIPT
        assert conn.execute("select count(*) from t").fetchone() == (3,)  # SELECT

    try:
        run_loop(main())
    finally:
        conn.close()
    rows = [(e.name, e.blamed.lineno if e.blamed else 0) for e in tripwire.events]
    assert rows == [
        ("sqlite3.Connection.execute", line_of(HERE, "EXECUTE")),
        ("sqlite3.Connection.commit", line_of(HERE, "COMMIT")),
        ("sqlite3.Connection.execute", line_of(HERE, "SCRIPT")),  # one event per call
        ("sqlite3.Connection.execute", line_of(HERE, "SELECT")),
    ]
    assert {e.code for e in tripwire.events} == {code_of(Kind.DATABASE)}
    assert all(e.duration is not None for e in tripwire.events)
    assert "aiosqlite" in (tripwire.events[0].fix or "")


def test_sqlite_statements_off_the_loop_or_after_the_tripwire_stopped_are_not_caught(
    run_loop: RunLoop, tmp_path: Path
) -> None:
    with Tripwire() as tw:
        conn = sqlite3.connect(tmp_path / "app.db", check_same_thread=False)

        async def main() -> None:
            await asyncio.to_thread(conn.execute, "create table t (x)")  # an executor thread

        run_loop(main())
    assert not tw.events

    async def after() -> None:
        conn.execute("insert into t values (1)")

    try:
        run_loop(after())  # the trace left on the connection is inert
        assert conn.execute("select x from t").fetchall() == [(1,)]
    finally:
        conn.close()
    assert not tw.events
