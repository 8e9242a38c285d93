"""A small Language Server Protocol client over a subprocess's pipes, for driving ``unstall server``.

Messages are read on a thread into a list; the test waits on conditions over them (a
response by id, a notification that matches), never on fixed sleeps. Requests the server
sends (``client/registerCapability``) are answered with an empty success.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

Message = dict[str, Any]

SERVER = (sys.executable, "-m", "unstall", "server")

# The server's log lines: one check's figures, and a round's (check, then publish) total.
CHECKED_LOG = re.compile(
    r"checked (?P<what>.+?): (?P<files>\d+) files .* in (?P<seconds>[\d.]+) s "
    r"\((?P<cpu>[\d.]+) s CPU\)"
)
ROUND_LOG = re.compile(r"checked and published in (?P<seconds>[\d.]+) s\.")


class ServerError(Exception):
    """The server answered a request with an error."""


class LspClient:
    """One server process and the messages it sent."""

    def __init__(
        self, args: Sequence[str] = (), *, cwd: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.process = subprocess.Popen(
            [*SERVER, *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.messages: list[Message] = []
        self.stderr: list[bytes] = []
        self.server_requests: list[Message] = []
        self._changed = threading.Condition()
        self._next_id = 0
        self._write_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    # -- the wire ---------------------------------------------------------------------------------

    def send(self, message: Message) -> None:
        """Write one message, framed."""
        self.send_raw(json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8"))

    def send_raw(self, body: bytes) -> None:
        """Write ``body`` framed as a message, whatever it holds."""
        stdin = self.process.stdin
        assert stdin is not None
        with self._write_lock:
            stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            stdin.flush()

    def _read(self) -> None:
        # OSError, ValueError: the pipes were closed under it, the test is over
        with contextlib.suppress(OSError, ValueError):
            self._read_messages()
        self._notify()

    def _read_messages(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = None
            while True:
                line = stdout.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            message = json.loads(stdout.read(length))
            if "method" in message and "id" in message:
                self.server_requests.append(message)
                self.send({"id": message["id"], "result": None})
            with self._changed:
                self.messages.append(message)
                self._changed.notify_all()

    def _drain(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        for line in stderr:
            self.stderr.append(line)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_for(
        self, predicate: Callable[[Message], bool], *, after: int = 0, timeout: float = 30.0
    ) -> Message:
        """The first message from index ``after`` on that satisfies ``predicate``; fails after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for message in self.messages[after:]:
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"no message came that matches within {timeout} s; got {self.messages!r}; "
                        f"stderr: {b''.join(self.stderr).decode(errors='replace')}"
                    )
                self._changed.wait(min(left, 0.5))

    # -- requests and notifications ---------------------------------------------------------------

    def request(self, method: str, params: Any = None, *, timeout: float = 30.0) -> Any:
        """Send a request and return its result; raises :class:`ServerError` for an error answer."""
        self._next_id += 1
        number = self._next_id
        self.send({"id": number, "method": method, "params": params})
        answer = self.wait_for(
            lambda message: message.get("id") == number and "method" not in message,
            timeout=timeout,
        )
        if "error" in answer:
            raise ServerError(answer["error"])
        return answer.get("result")

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        self.send({"method": method, "params": params})

    def mark(self) -> int:
        """The index the next message will have: wait for messages ``after`` it."""
        with self._changed:
            return len(self.messages)

    def diagnostics(
        self,
        uri: str,
        *,
        after: int = 0,
        where: Callable[[list[Message]], bool] = lambda diagnostics: True,
        timeout: float = 30.0,
    ) -> list[Message]:
        """The diagnostics of the first ``publishDiagnostics`` for ``uri`` (from ``after`` on) that ``where`` accepts."""
        message = self.wait_for(
            lambda message: (
                message.get("method") == "textDocument/publishDiagnostics"
                and message["params"]["uri"] == uri
                and where(message["params"]["diagnostics"])
            ),
            after=after,
            timeout=timeout,
        )
        diagnostics: list[Message] = message["params"]["diagnostics"]
        return diagnostics

    def logs(self) -> list[str]:
        """Every ``window/logMessage`` text so far."""
        return [
            message["params"]["message"]
            for message in list(self.messages)
            if message.get("method") == "window/logMessage"
        ]

    # -- the session -------------------------------------------------------------------------------

    def initialize(self, root: Path, capabilities: Mapping[str, Any] | None = None) -> Any:
        """``initialize`` then ``initialized``; returns the server's capabilities."""
        default = {
            "workspace": {
                "workspaceEdit": {"documentChanges": True},
                "didChangeWatchedFiles": {"dynamicRegistration": True},
            },
            "textDocument": {"publishDiagnostics": {"relatedInformation": True}},
        }
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": dict(capabilities) if capabilities is not None else default,
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            },
        )
        self.notify("initialized", {})
        return result["capabilities"]

    def open(self, path: Path, text: str, version: int = 1) -> str:
        """``didOpen`` of ``path`` with ``text``; returns its URI."""
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": version,
                    "text": text,
                }
            },
        )
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        """``didChange`` replacing the whole text."""
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    def wait_for_logs(
        self, pattern: re.Pattern[str], *, count: int = 1, since: int = 0, timeout: float = 30.0
    ) -> None:
        """Wait until ``count`` log texts from the ``since``-th on match ``pattern``."""
        self.wait_for(
            lambda _message: (
                sum(1 for text in self.logs()[since:] if pattern.search(text)) >= count
            ),
            timeout=timeout,
        )

    def edit_latencies(
        self, uri: str, texts: Iterable[str], *, version: int = 2, timeout: float = 30.0
    ) -> list[float]:
        """Replace the document with each of ``texts`` in turn (versions from ``version`` on),
        each time waiting for that version's diagnostics; the seconds each took."""
        latencies = []
        for current, text in enumerate(texts, start=version):
            mark = self.mark()
            started = time.perf_counter()
            self.change(uri, text, current)
            self.wait_for(
                functools.partial(_diagnostics_of, uri=uri, version=current),
                after=mark,
                timeout=timeout,
            )
            latencies.append(time.perf_counter() - started)
        return latencies

    def stop(self, *, timeout: float = 30.0) -> int:
        """``shutdown`` and ``exit``, then the exit code once the process ended."""
        self.request("shutdown")
        self.notify("exit")
        return self.wait(timeout=timeout)

    def wait(self, *, timeout: float = 30.0) -> int:
        """Close the server's standard input and wait for the process to end; its exit code."""
        stdin = self.process.stdin
        assert stdin is not None
        with contextlib.suppress(OSError):
            stdin.close()
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout)
        self._drainer.join(timeout)
        return code

    def kill(self) -> None:
        """End the process if it still runs (clean-up after a failed test)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def apply_text_edits(text: str, edits: Sequence[Message]) -> str:
    """``text`` with LSP text edits applied (positions in UTF-16 code units, lines split at ``\\n``)."""
    lines = text.split("\n")

    def offset(position: Message) -> int:
        line, character = position["line"], position["character"]
        before = sum(len(part) + 1 for part in lines[:line])
        units = (
            lines[line].encode("utf-16-le")[: character * 2].decode("utf-16-le")
            if line < len(lines)
            else ""
        )
        return before + len(units)

    spans = sorted(
        (
            (offset(edit["range"]["start"]), offset(edit["range"]["end"]), edit["newText"])
            for edit in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def _diagnostics_of(message: Message, *, uri: str, version: int) -> bool:
    """Whether ``message`` publishes the diagnostics of ``version`` of ``uri``."""
    return bool(
        message.get("method") == "textDocument/publishDiagnostics"
        and message["params"]["uri"] == uri
        and message["params"].get("version") == version
    )
