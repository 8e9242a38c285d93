"""Columns in the client's units, lines as LSP counts them, and a buffer's bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unstall.server._text import UTF8, UTF16, UTF32, client_column, encoded, end_of, split_lines


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [(UTF8, [0, 1, 3, 7, 8]), (UTF16, [0, 1, 2, 4, 5]), (UTF32, [0, 1, 2, 3, 4])],
)
def test_columns_in_each_encoding(encoding: str, expected: list[int]) -> None:
    line = "aé🐍b"  # 1, 2, 4 and 1 UTF-8 bytes
    assert [client_column(line, col, encoding) for col in (0, 1, 3, 7, 8)] == expected


def test_a_column_inside_a_character_or_past_the_end() -> None:
    assert client_column("é", 1) == 0
    assert client_column("aé", 99) == 2
    assert client_column("abc", 99) == 3
    assert client_column("abc", -1) == 0
    assert client_column("a\ud800b", 4) == 2  # a lone surrogate: 3 bytes, 1 unit


@settings(deadline=None)  # a loaded CI machine can stall any single example
@given(st.text(), st.sampled_from([UTF8, UTF16, UTF32]))
def test_the_end_of_a_line_is_its_length_in_the_encoding(line: str, encoding: str) -> None:
    size = len(line.encode("utf-8", errors="surrogatepass"))
    units = {
        UTF8: size,
        UTF16: len(line.encode("utf-16-le", errors="surrogatepass")) // 2,
        UTF32: len(line),
    }[encoding]
    assert client_column(line, size, encoding) == units


def test_lines_end_only_at_newlines() -> None:
    assert split_lines("a\r\nb\rc\nd\x0ce\u2028f") == ["a", "b", "c", "d\x0ce\u2028f"]
    assert split_lines("a\n") == ["a", ""]
    assert end_of(split_lines("a\nbé")) == (1, 2)
    assert end_of([]) == (0, 0)


def test_a_buffer_is_encoded_as_its_cookie_says() -> None:
    latin = "# -*- coding: latin-1 -*-\nname = 'café'\n"
    assert encoded(latin) == latin.encode("latin-1")
    assert encoded("name = 'café'\n") == "name = 'café'\n".encode()
    # What the declared encoding cannot hold stays UTF-8 (the check then reports it).
    cannot = "# coding: ascii\nname = 'café'\n"
    assert encoded(cannot) == cannot.encode()
    assert encoded("# coding: no-such-codec\n") == b"# coding: no-such-codec\n"
    assert encoded("x = '\ud800'\n") == "x = '\ud800'\n".encode("utf-8", errors="surrogatepass")
