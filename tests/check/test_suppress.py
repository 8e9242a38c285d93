"""Suppression comments, found with tokenize."""

from __future__ import annotations

from pathlib import Path

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


def test_flake8_async_and_ruff_noqa_codes_suppress_the_same_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unstall.check import Config, check

    (tmp_path / "app.py").write_text(
        "import subprocess\nimport time\n\nimport requests\n\n\n"
        "async def handler(url):\n"
        "    time.sleep(1)  # noqa: ASYNC251\n"
        "    requests.get(url)  # noqa: ASYNC210\n"
        "    subprocess.run(['ls'])  # noqa: ASYNC221\n"
        "    await requests.get(url)  # noqa: ASYNC210\n"
        "    time.sleep(1)  # noqa: ASYNC210\n"
        "    open('x')  # noqa: ASYNC230\n"
        "    requests.get(url)  # noqa: ASYNC230\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = check(["."], config=Config(root=tmp_path), jobs=1, use_cache=False)
    # A code for another problem suppresses nothing.
    assert [(f.location.line, f.code) for f in result.findings] == [(12, "UNS101"), (14, "UNS103")]
    assert result.suppressed == 5


def test_every_kind_equivalent_is_an_async2xx_code() -> None:
    from unstall.catalog import default_catalog

    catalog = default_catalog()
    codes = {code for info in catalog.kinds.values() for code in info.equivalents}
    assert codes
    assert all(code.startswith("ASYNC2") for code in codes)
    assert catalog.equivalents("UNS201", "requests.get") == catalog.equivalents("UNS103", None)
