"""Every blocking call the tripwire covers, made with a secret in its arguments.

``blocking_calls(folder, servers)`` returns one call per audit event of the catalog and per
wrapped callable (``tests/watch/test_tripwire_secrets.py`` checks that none is missing). Each
puts :data:`SECRET` (or :data:`SECRET_SECONDS`) where the call takes it: a path, a command
line, an environment, a URL, a protocol command. Nothing leaves the machine: network calls go
to :class:`Servers` on 127.0.0.1, which greet like an FTP, POP3, IMAP, SMTP or HTTP server and
hang up. Calls that fail after the tripwire saw them are fine: :func:`run_all` swallows errors.
One call may raise several audit events: the tripwire reports the call once, by the first.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ftplib
import glob
import hashlib
import http.client
import imaplib
import os
import poplib
import queue
import shutil
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

SECRET = (
    "s3cr3t_Tok3n_1f9a"  # a name, a path part, a host label and an argument: it must show nowhere
)
SECRET_SECONDS = 0.0012345  # a number the program computed

_GREETINGS = {
    "ftp": b"220 ready\r\n",
    "pop": b"+OK ready\r\n",
    "imap": b"* OK ready\r\n",
    "smtp": b"220 ready\r\n",
    "http": b"",
}


class Servers:
    """One listening socket per protocol on 127.0.0.1: each connection gets the greeting, then a
    short wait for the client's first command, then the server hangs up."""

    def __init__(self) -> None:
        self.ports: dict[str, int] = {}
        self._sockets: list[socket.socket] = []
        self._stop = threading.Event()
        for name, greeting in _GREETINGS.items():
            srv = socket.create_server(("127.0.0.1", 0))
            srv.settimeout(0.2)
            self._sockets.append(srv)
            self.ports[name] = srv.getsockname()[1]
            threading.Thread(target=self._serve, args=(srv, greeting), daemon=True).start()

    def _serve(self, srv: socket.socket, greeting: bytes) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.settimeout(1.0)
                conn.sendall(greeting)
                conn.recv(4096)

    def close(self) -> None:
        self._stop.set()
        for srv in self._sockets:
            srv.close()


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    """Running :class:`Servers`, closed afterwards."""
    running = Servers()
    try:
        yield running
    finally:
        running.close()


def blocking_calls(folder: Path, srv: Servers) -> dict[str, Callable[[], object]]:
    """Audit event or wrapped name -> a call that raises it with the secret in its arguments."""
    secret_file = folder / f"{SECRET}.txt"
    secret_file.write_text(SECRET)
    secret_dir = folder / f"{SECRET}.d"
    env = {**os.environ, "UNSTALL_TEST_TOKEN": SECRET}
    exe = sys.executable

    def ftp() -> object:
        client = ftplib.FTP()
        client.connect("127.0.0.1", srv.ports["ftp"], timeout=2)
        return client.login(SECRET, SECRET)

    def pop() -> object:
        return poplib.POP3("127.0.0.1", srv.ports["pop"], timeout=2).user(SECRET)

    def smtp() -> object:
        return smtplib.SMTP("127.0.0.1", srv.ports["smtp"], local_hostname=SECRET, timeout=2).ehlo()

    def http_request() -> object:
        conn = http.client.HTTPConnection("127.0.0.1", srv.ports["http"], timeout=2)
        conn.request("GET", f"/{SECRET}", headers={"Authorization": f"Bearer {SECRET}"})
        conn.close()
        return None

    def running_process() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [exe, "-c", "import sys; sys.stdin.read()", SECRET],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )

    def popen_wait() -> object:
        proc = running_process()
        try:
            return proc.wait(timeout=SECRET_SECONDS)
        finally:
            proc.kill()
            proc.wait()

    def popen_communicate() -> object:
        return running_process().communicate(input=SECRET.encode(), timeout=10)

    def connected_pair() -> tuple[socket.socket, socket.socket]:
        left, right = socket.socketpair()
        right.sendall(SECRET.encode() * 2)
        return left, right

    def socket_call(method: str) -> Callable[[], object]:
        def call() -> object:
            left, right = connected_pair()
            with left, right:
                buffer = bytearray(64)
                args: dict[str, tuple[object, ...]] = {
                    "recv": (len(SECRET),),
                    "recv_into": (buffer,),
                    "recvfrom": (len(SECRET),),
                    "recvfrom_into": (buffer,),
                    "send": (SECRET.encode(),),
                    "sendall": (SECRET.encode(),),
                }
                return getattr(left, method)(*args[method])

        return call

    def udp(method: str) -> Callable[[], object]:
        def call() -> object:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                address = ("127.0.0.1", srv.ports["http"])
                if method == "sendto":
                    return sock.sendto(SECRET.encode(), address)
                return sock.sendmsg([SECRET.encode()], [], 0, address)

        return call

    def accept() -> object:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            listener.settimeout(SECRET_SECONDS)
            with contextlib.suppress(TimeoutError):
                return listener.accept()
        return None

    def connect() -> object:
        with socket.socket() as sock:
            sock.settimeout(2)
            return sock.connect_ex(("127.0.0.1", srv.ports["http"]))

    def sqlite() -> object:
        with contextlib.closing(sqlite3.connect(folder / f"{SECRET}.db")) as db:
            return db.execute(f"select '{SECRET}'").fetchall()

    def thread_join() -> object:
        worker = threading.Thread(target=time.sleep, args=(0.05,))
        worker.start()
        try:
            worker.join(SECRET_SECONDS)
        finally:
            worker.join()
        return None

    def future_result() -> object:
        with contextlib.suppress(concurrent.futures.TimeoutError):
            return concurrent.futures.Future().result(SECRET_SECONDS)
        return None

    def queue_get() -> object:
        with contextlib.suppress(queue.Empty):
            return queue.Queue().get(timeout=SECRET_SECONDS)
        return None

    def ssl_call(method: str) -> Callable[[], object]:
        def call() -> object:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if method in ("load_verify_locations", "load_cert_chain"):
                return getattr(context, method)(str(secret_file))
            return getattr(context, method)()

        return call

    calls: dict[str, Callable[[], object]] = {
        "builtins.input": lambda: input(SECRET),
        "ftplib.connect": ftp,
        "ftplib.sendcmd": ftp,
        "glob.glob": lambda: glob.glob(f"{folder}/{SECRET}*"),
        "http.client.connect": http_request,
        "http.client.send": http_request,
        "imaplib.open": lambda: imaplib.IMAP4("127.0.0.1", srv.ports["imap"], timeout=2),
        "imaplib.send": lambda: imaplib.IMAP4("127.0.0.1", srv.ports["imap"], timeout=2),
        "import": lambda: __import__(f"{SECRET}_module"),
        "open": lambda: secret_file.read_text(),
        "os.chmod": lambda: os.chmod(secret_file, 0o600),
        "os.link": lambda: os.link(secret_file, folder / f"{SECRET}.link"),
        "os.listdir": lambda: os.listdir(folder),
        "os.mkdir": lambda: os.mkdir(secret_dir),
        "os.posix_spawn": lambda: os.waitpid(
            os.posix_spawn(exe, [exe, "-c", "pass", SECRET], env), 0
        ),
        "os.remove": lambda: os.remove(folder / f"{SECRET}.link"),
        "os.rename": lambda: os.rename(secret_file, folder / f"{SECRET}.moved"),
        "os.rmdir": lambda: os.rmdir(secret_dir),
        "os.scandir": lambda: list(os.scandir(folder)),
        "os.symlink": lambda: os.symlink(folder / f"{SECRET}.moved", folder / f"{SECRET}.sym"),
        "os.system": lambda: os.system(f"true {SECRET}"),
        "os.truncate": lambda: os.truncate(folder / f"{SECRET}.moved", len(SECRET)),
        "os.utime": lambda: os.utime(folder / f"{SECRET}.moved"),
        "os.walk": lambda: list(os.walk(folder / SECRET)),
        "poplib.connect": pop,
        "poplib.putline": pop,
        "shutil.copyfile": lambda: shutil.copyfile(
            folder / f"{SECRET}.moved", folder / f"{SECRET}.copy"
        ),
        "shutil.copytree": lambda: shutil.copytree(folder / "tree", folder / f"{SECRET}.tree"),
        "shutil.make_archive": lambda: shutil.make_archive(
            str(folder / SECRET), "tar", folder / "tree"
        ),
        "shutil.move": lambda: shutil.move(folder / f"{SECRET}.copy", folder / f"{SECRET}.mv"),
        "shutil.rmtree": lambda: shutil.rmtree(folder / f"{SECRET}.tree"),
        "shutil.unpack_archive": lambda: shutil.unpack_archive(
            folder / f"{SECRET}.tar", folder / f"{SECRET}.out"
        ),
        "smtplib.connect": smtp,
        "smtplib.send": smtp,
        "socket.connect": connect,
        "socket.getaddrinfo": lambda: socket.getaddrinfo("127.0.0.1", srv.ports["http"]),
        "socket.gethostbyaddr": lambda: socket.gethostbyaddr("127.0.0.1"),
        "socket.gethostbyname": lambda: socket.gethostbyname("127.0.0.1"),
        "socket.getnameinfo": lambda: socket.getnameinfo(("127.0.0.1", 80), 0),
        "socket.sendmsg": udp("sendmsg"),
        "socket.sendto": udp("sendto"),
        "sqlite3.connect": sqlite,
        "sqlite3.Connection.execute": sqlite,
        "subprocess.Popen": lambda: subprocess.run([exe, "-c", "pass", SECRET], env=env),
        "tempfile.mkdtemp": lambda: tempfile.mkdtemp(prefix=SECRET, dir=folder),
        "tempfile.mkstemp": lambda: os.close(tempfile.mkstemp(prefix=SECRET, dir=folder)[0]),
        "time.sleep": lambda: time.sleep(SECRET_SECONDS),
        "urllib.Request": lambda: urllib.request.urlopen(
            f"http://127.0.0.1:{srv.ports['http']}/{SECRET}?token={SECRET}", timeout=2
        ),
        **{
            f"socket.socket.{m}": socket_call(m)
            for m in ("recv", "recv_into", "recvfrom", "recvfrom_into", "send", "sendall")
        },
        "socket.socket.sendto": udp("sendto"),
        "socket.socket.accept": accept,
        "threading.Event.wait": lambda: threading.Event().wait(SECRET_SECONDS),
        "threading.Thread.join": thread_join,
        "concurrent.futures.Future.result": future_result,
        "queue.Queue.get": queue_get,
        "subprocess.Popen.wait": popen_wait,
        "subprocess.Popen.communicate": popen_communicate,
        **{
            f"ssl.SSLContext.{m}": ssl_call(m)
            for m in (
                "load_verify_locations",
                "load_cert_chain",
                "load_default_certs",
                "set_default_verify_paths",
            )
        },
        "hashlib.pbkdf2_hmac": lambda: hashlib.pbkdf2_hmac("sha256", SECRET.encode(), b"s", 1),
        "hashlib.scrypt": lambda: hashlib.scrypt(SECRET.encode(), salt=b"s", n=2, r=1, p=1),
    }
    return calls


def prepare(folder: Path) -> None:
    """The files the calls work on: a module named after the secret, a tree, an archive."""
    (folder / f"{SECRET}_module.py").write_text("VALUE = 1\n")
    tree = folder / "tree"
    tree.mkdir()
    (tree / "leaf.txt").write_text("leaf")
    shutil.make_archive(str(folder / SECRET), "tar", tree)


def run_all(calls: dict[str, Callable[[], object]], caught: Callable[[], int]) -> list[str]:
    """Make every call once (a call shared by two names runs once); the names of the calls the
    tripwire did not catch (``caught()`` counts what it caught so far). Errors are swallowed."""
    missed: list[str] = []
    done: set[int] = set()
    for name, call in calls.items():
        if id(call) in done:
            continue
        done.add(id(call))
        before = caught()
        with contextlib.suppress(Exception):
            call()
        if caught() == before:
            missed.append(name)
    return missed
