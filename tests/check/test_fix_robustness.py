"""``--fix`` never breaks a file: where the import goes."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

Project = Callable[[Mapping[str, str | bytes]], Path]
Cli = Callable[..., "subprocess.CompletedProcess[str]"]


def fixed(cli: Cli, root: Path, name: str, *args: str) -> bytes:
    """The bytes of ``name`` after ``unstall check --fix ARGS name``."""
    result = cli("--no-cache", "--fix", *args, name)
    assert "Traceback" not in result.stderr, result.stderr
    return (root / name).read_bytes()


# -- where the import goes ------------------------------------------------------------------

SLEEPY_BODY = b"async def handler():\n    import time\n    time.sleep(1)  # caf\xe9\n"


@pytest.mark.parametrize(
    ("header", "lines_kept"),
    [
        (b"# -*- coding: latin-1 -*-\n", 1),
        (b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\n", 2),
        (b"#!/usr/bin/env python\n# vim: set fileencoding=latin-1 :\n# Caf\xe9 licence.\n", 3),
        (b'# -*- coding: latin-1 -*-\n"""Caf\xe9."""\n', 2),
        (b'# -*- coding: latin-1 -*-\n"""Caf\xe9."""\nfrom __future__ import annotations\n', 3),
    ],
    ids=["cookie", "shebang-and-cookie", "header-comments", "docstring", "future-import"],
)
def test_the_import_goes_below_shebang_cookie_docstring_and_future(
    project: Project, cli: Cli, header: bytes, lines_kept: int
) -> None:
    root = project({"latin.py": header + SLEEPY_BODY})
    after = fixed(cli, root, "latin.py")
    compile(after, "latin.py", "exec")
    lines = after.splitlines(keepends=True)
    assert b"".join(lines[:lines_kept]) == header
    assert lines[lines_kept] == b"import asyncio\n"
    assert b"".join(lines[lines_kept + 1 :]) == SLEEPY_BODY.replace(
        b"time.sleep(1)", b"await asyncio.sleep(1)"
    )
