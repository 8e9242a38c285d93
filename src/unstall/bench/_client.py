"""A minimal HTTP/1.1 keep-alive GET client on asyncio streams, for loopback load generation.

It costs a fraction of a full client library per request, so on a small machine the load
generator measures the service rather than itself. It understands ``Content-Length``,
``Transfer-Encoding: chunked`` and read-to-close bodies; anything else is a protocol error.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ("HTTPConnection", "ProtocolError")

_MAX_LINE = 64 * 1024


class ProtocolError(Exception):
    """The server sent something that is not a valid HTTP/1.x response."""


class HTTPConnection:
    """One keep-alive connection to ``host:port``, reopened on demand after an error or a close."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.connects = 0

    async def get(self, path: str) -> tuple[int, bytes]:
        """Send ``GET path`` and return ``(status, body)``; the connection stays open when allowed.

        Raises ``OSError`` (connection refused/reset), ``asyncio.IncompleteReadError`` or
        :class:`ProtocolError`; the connection is closed first, so the next call reconnects.
        """
        try:
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
                self.connects += 1
            assert self._reader is not None
            self._writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "User-Agent: unstall-bench\r\nAccept: */*\r\n\r\n".encode("latin-1")
            )
            await self._writer.drain()
            return await self._read_response(self._reader)
        except BaseException:
            self.close()
            raise

    async def _read_response(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        line = await reader.readuntil(b"\r\n")
        parts = line.decode("latin-1").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"bad status line {line[:80]!r}")
        version, status = parts[0], int(parts[1])
        headers: dict[str, str] = {}
        while True:
            raw = await reader.readuntil(b"\r\n")
            if raw == b"\r\n":
                break
            if len(raw) > _MAX_LINE:
                raise ProtocolError("a response header line is too long")
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                raise ProtocolError(f"bad header line {raw[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        keep_alive = headers.get("connection", "").lower() != "close" and (
            version != "HTTP/1.0" or headers.get("connection", "").lower() == "keep-alive"
        )
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked(reader)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise ProtocolError("bad Content-Length") from None
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            keep_alive = False
        if not keep_alive:
            self.close()
        return status, body

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {size_line[:40]!r}") from None
            if size == 0:
                # trailers end with an empty line
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)

    def close(self) -> None:
        """Close the socket (idempotent, never raises)."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
