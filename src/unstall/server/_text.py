"""Lines and columns as the Language Server Protocol counts them, and a buffer's text as bytes.

Findings count lines from 1 and columns in UTF-8 bytes (as ``ast`` does); LSP counts lines
from 0 and columns in the code units of the position encoding the client and server agreed
on: UTF-16 by default, UTF-8 or UTF-32 when the client offers them. Lines end at ``\\n``,
``\\r\\n`` or ``\\r`` only (``str.splitlines`` would also split at form feeds and other
separators that Python's tokenizer keeps inside a line).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence

__all__ = (
    "UTF8",
    "UTF16",
    "UTF32",
    "client_column",
    "encoded",
    "end_of",
    "split_lines",
    "utf8_size",
)

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"

_NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their line endings (a final newline starts an empty line)."""
    return _NEWLINE.split(text)


def client_column(line: str, byte_col: int, encoding: str = UTF16) -> int:
    """The column ``byte_col`` (UTF-8 bytes into ``line``) in the client's code units.

    A column past the end of the line is the end of the line; one inside a character
    counts that character as not reached. A lone surrogate (JSON can carry one) is one
    character of three bytes, as Python's ``surrogatepass`` writes it.
    """
    if line.isascii():
        return max(0, min(byte_col, len(line)))
    seen = units = 0
    for char in line:
        code = ord(char)
        size = 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        if seen + size > byte_col:
            break
        seen += size
        if encoding == UTF8:
            units += size
        elif encoding == UTF16 and code >= 0x10000:
            units += 2
        else:
            units += 1
    return units


def utf8_size(text: str) -> int:
    """The length of ``text`` in UTF-8 bytes (a lone surrogate is three)."""
    return len(text.encode("utf-8", errors="surrogatepass"))


def end_of(lines: Sequence[str], encoding: str = UTF16) -> tuple[int, int]:
    """The last position of a text split into ``lines``: (0-based line, column in client units)."""
    last = lines[-1] if lines else ""
    return max(len(lines) - 1, 0), client_column(last, utf8_size(last), encoding)


def encoded(text: str) -> bytes:
    """``text`` as the bytes its file would hold: in the encoding its coding cookie declares, else UTF-8.

    Text that the declared encoding cannot hold comes out as UTF-8, so the check reports the
    buffer as undecodable, as it would the saved file.
    """
    data = text.encode("utf-8", errors="surrogatepass")
    if "coding" not in "".join(text.split("\n", 2)[:2]):  # a cookie is on line 1 or 2
        return data
    try:
        declared, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return data
    if declared in ("utf-8", "utf-8-sig"):
        return data
    try:
        return text.encode(declared)
    except (UnicodeEncodeError, LookupError):
        return data
