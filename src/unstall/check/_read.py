"""Read one source file safely: every way a file can fail to be read becomes one UNS9xx finding."""

from __future__ import annotations

import codecs
import errno
import hashlib
import io
import os
import stat
import tokenize
from dataclasses import dataclass

from unstall.check._model import Finding, Location

__all__ = (
    "FileStat",
    "Source",
    "decode_source",
    "digest",
    "file_problem",
    "read_source",
    "source_from_bytes",
    "stat_file",
)


@dataclass(frozen=True, slots=True)
class FileStat:
    """What the cache compares to decide that a file is unchanged without reading it."""

    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Source:
    """A file read and decoded: its text, the raw bytes' digest, its encoding and stat."""

    text: str
    digest: str
    encoding: str
    stat: FileStat


def digest(data: bytes) -> str:
    """Content hash used by the cache and by ``--fix`` to detect a file changed since it was read."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_problem(code: str, path: str, message: str, line: int = 1, col: int = 0) -> Finding:
    """A UNS9xx finding for a file that cannot be checked."""
    return Finding(code=code, message=message, location=Location(path=path, line=line, col=col))


def stat_file(path: str, name: str | None = None) -> FileStat | Finding:
    """``os.stat`` of ``path`` (following symlinks), or a UNS905 finding (located at ``name``, default ``path``)
    when it is not a readable regular file."""
    shown = name or path
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return file_problem(
                "UNS905", shown, "The file cannot be read: it is a broken symbolic link."
            )
        return file_problem("UNS905", shown, "The file cannot be read: it does not exist.")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return file_problem(
                "UNS905",
                shown,
                "The file cannot be read: it is a symbolic link loop (the link leads back to "
                "itself); point it at a real file or delete it.",
            )
        return file_problem("UNS905", shown, f"The file cannot be read: {exc.strerror or exc}.")
    if not stat.S_ISREG(info.st_mode):
        what = (
            "a directory"
            if stat.S_ISDIR(info.st_mode)
            else "not a regular file (a fifo, socket or device)"
        )
        return file_problem("UNS905", shown, f"The file cannot be read: it is {what}.")
    return FileStat(size=info.st_size, mtime_ns=info.st_mtime_ns)


def decode_source(data: bytes, path: str) -> tuple[str, str] | Finding:
    """Decode source bytes honouring a BOM and a PEP 263 coding cookie; ``(text, encoding)`` or UNS902/UNS903."""
    if b"\0" in data:
        offset = data.index(b"\0")
        line = data.count(b"\n", 0, offset) + 1
        return file_problem(
            "UNS903",
            path,
            f"The file contains a NUL byte (line {line}): it is binary, not Python source.",
            line,
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return file_problem(
            "UNS902",
            path,
            f"The file cannot be decoded ({exc.msg}); save it as UTF-8 or declare its encoding with a '# -*- coding: ... -*-' comment.",
            exc.lineno or 1,
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return file_problem(
            "UNS902",
            path,
            f"The file is not valid {encoding} (byte {data[exc.start : exc.start + 1]!r} at offset {exc.start}); "
            "save it as UTF-8 or declare its encoding with a '# -*- coding: ... -*-' comment.",
            line,
        )
    except LookupError:
        return file_problem("UNS902", path, f"The file declares the unknown encoding {encoding!r}.")
    if encoding == "utf-8-sig" or text.startswith("\ufeff"):
        text = text.removeprefix("\ufeff")
    return text, codecs.lookup(encoding).name


def read_source(
    path: str, *, max_size: int, known: FileStat | None = None, name: str | None = None
) -> Source | Finding:
    """Read and decode ``path``; a file that cannot be read (UNS905), is too large (UNS904), binary
    (UNS903) or undecodable (UNS902) gives a finding instead. Never raises for a bad file."""
    shown = name or path
    file_stat = known if known is not None else stat_file(path, shown)
    if isinstance(file_stat, Finding):
        return file_stat
    if file_stat.size > max_size:
        return file_problem(
            "UNS904",
            shown,
            f"The file is {file_stat.size} bytes, more than max-file-size ({max_size} bytes); raise max-file-size in [tool.unstall] to check it.",
        )
    try:
        # A fifo or device named *.py would block a plain open(); non-blocking open makes it fail fast.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return file_problem("UNS905", shown, f"The file cannot be read: {exc.strerror or exc}.")
    if len(data) > max_size:
        return file_problem(
            "UNS904",
            shown,
            f"The file is more than max-file-size ({max_size} bytes); raise max-file-size in [tool.unstall] to check it.",
        )
    return _decoded(data, shown, file_stat)


def _decoded(data: bytes, shown: str, file_stat: FileStat) -> Source | Finding:
    decoded = decode_source(data, shown)
    if isinstance(decoded, Finding):
        return decoded
    text, encoding = decoded
    return Source(text=text, digest=digest(data), encoding=encoding, stat=file_stat)


def source_from_bytes(data: bytes, name: str, *, max_size: int) -> Source | Finding:
    """Decode source that is not read from a file (standard input, an editor's buffer) exactly
    as :func:`read_source` decodes a file: too large (UNS904), binary (UNS903) or undecodable
    (UNS902) gives the same finding, located at ``name``. Its stat has a zero mtime."""
    if len(data) > max_size:
        return file_problem(
            "UNS904",
            name,
            f"The file is {len(data)} bytes, more than max-file-size ({max_size} bytes); raise max-file-size in [tool.unstall] to check it.",
        )
    return _decoded(data, name, FileStat(len(data), 0))
