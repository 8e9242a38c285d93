"""Suppression comments, found with tokenize."""

from __future__ import annotations

import pytest

from unstall.check._suppress import ALL_CODES, is_suppressed, suppressions


@pytest.mark.parametrize(
    ("comment", "code", "suppressed"),
    [
        ("# noqa", "UNS101", True),
        ("#noqa", "UNS999", True),
        ("# NOQA", "UNS101", True),
        ("# noqa: UNS101", "UNS101", True),
        ("# noqa: UNS101", "UNS102", False),
        ("# noqa: UNS101,UNS102", "UNS102", True),
        ("# noqa: UNS101, UNS103", "UNS103", True),
        ("# noqa:E501", "UNS101", False),
        ("# unstall: ignore", "UNS107", True),
        ("# unstall: ignore[UNS101, UNS103]", "UNS103", True),
        ("# unstall: ignore[UNS101, UNS103]", "UNS102", False),
        ("# type: ignore  # noqa: UNS106", "UNS106", True),
        ("# a comment that mentions nothing", "UNS101", False),
    ],
)
def test_comment_forms(comment: str, code: str, suppressed: bool) -> None:
    table = suppressions(f"import time\ntime.sleep(1)  {comment}\n")
    assert is_suppressed(code, 2, table) is suppressed
    assert not is_suppressed(code, 1, table)


def test_noqa_inside_a_string_is_not_a_comment() -> None:
    source = 'x = "# noqa"\ny = """\n# noqa\n"""\nz = 1  # unstall: ignore\n'
    assert suppressions(source) == {5: ALL_CODES}


def test_broken_source_never_raises() -> None:
    assert suppressions("x = (  # noqa\n") == {1: ALL_CODES}
    assert suppressions('x = """never closed # noqa\n') == {}
