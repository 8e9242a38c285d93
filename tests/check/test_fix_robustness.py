"""``--fix`` never breaks a file: where the import goes, a shadowed ``asyncio``, ``with`` sites,
and a file saved again while it was being checked."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from unstall.check._apply import FileFix, write_fixes

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


# -- a name ``asyncio`` that is not the module ------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "import time\n\nimport trio as asyncio\n\n\nasync def handler():\n    time.sleep(1)\n",
            "import time\n\nimport trio as asyncio\nimport asyncio as _asyncio\n\n\n"
            "async def handler():\n    await _asyncio.sleep(1)\n",
        ),
        (
            "import time\n\nasyncio = None\n\n\nasync def handler():\n    time.sleep(1)\n",
            "import time\nimport asyncio as _asyncio\n\nasyncio = None\n\n\n"
            "async def handler():\n    await _asyncio.sleep(1)\n",
        ),
        (
            "import asyncio\nimport time\n\n\nasync def handler(asyncio):\n    time.sleep(1)\n",
            "import asyncio\nimport time\nimport asyncio as _asyncio\n\n\n"
            "async def handler(asyncio):\n    await _asyncio.sleep(1)\n",
        ),
        (
            "import time\n\n\nasync def handler():\n    asyncio = 1\n    time.sleep(asyncio)\n",
            "import time\nimport asyncio as _asyncio\n\n\n"
            "async def handler():\n    asyncio = 1\n    await _asyncio.sleep(asyncio)\n",
        ),
    ],
    ids=["import-as", "module-assignment", "parameter", "local-assignment"],
)
def test_a_shadowed_asyncio_gets_an_alias_import(
    project: Project, cli: Cli, before: str, after: str
) -> None:
    root = project({"app.py": before})
    assert fixed(cli, root, "app.py").decode() == after


def test_the_offload_fix_uses_the_alias_too(project: Project, cli: Cli) -> None:
    before = "import requests\n\n\nasync def handler(url, asyncio):\n    return requests.get(url)\n"
    root = project({"app.py": before})
    assert fixed(cli, root, "app.py", "--unsafe-fixes").decode() == (
        "import requests\nimport asyncio as _asyncio\n\n\nasync def handler(url, asyncio):\n"
        "    return await _asyncio.to_thread(requests.get, url)\n"
    )


def test_no_fix_when_the_alias_is_taken_too(project: Project, cli: Cli) -> None:
    before = (
        "import time\n\n_asyncio = asyncio = None\n\n\nasync def handler():\n    time.sleep(1)\n"
    )
    root = project({"app.py": before})
    assert fixed(cli, root, "app.py").decode() == before
    finding = json.loads(cli("--no-cache", "--format", "json", "app.py").stdout)["findings"][0]
    assert (finding["code"], finding["edits"]) == ("UNS101", [])
    assert "asyncio.sleep(1)" in finding["fix"]


# -- context-manager sites ------------------------------------------------------------------

SLOW_CONTEXT = """\
import time
from contextlib import contextmanager


@contextmanager
def slow():
    time.sleep(1)
    yield


async def handler():
    with slow():
        pass
"""
OPEN_IN_WITH = "async def handler(path):\n    with open(path):\n        pass\n"


@pytest.mark.parametrize("before", [SLOW_CONTEXT, OPEN_IN_WITH], ids=["contextmanager", "open"])
def test_a_context_manager_is_never_built_in_a_thread(
    project: Project, cli: Cli, before: str
) -> None:
    root = project({"app.py": before})
    assert fixed(cli, root, "app.py", "--unsafe-fixes").decode() == before
    found = json.loads(cli("--no-cache", "--format", "json", "app.py").stdout)["findings"]
    with_line = before.splitlines().index(next(x for x in before.splitlines() if "with " in x))
    at_with = [f for f in found if f["line"] == with_line + 1]
    assert at_with
    assert all(f["edits"] == [] and f["fix"] for f in at_with)


def test_a_context_managers_generator_is_entered_in_a_thread_not_called_in_one(
    project: Project, cli: Cli
) -> None:
    project({"app.py": SLOW_CONTEXT})
    found = json.loads(cli("--no-cache", "--format", "json", "app.py").stdout)["findings"]
    (finding,) = found
    # Calling ``slow`` in a thread only builds the context manager: ``with`` still runs it here.
    assert "to_thread(slow)" not in finding["fix"]
    assert finding["fix"].startswith("enter `slow` in a thread: move the `with` block")
    assert "@asynccontextmanager" in finding["fix"]


# -- a file saved again between the check and the write ---------------------------------------

SLEEPY = "import asyncio\nimport time\n\n\nasync def handler():\n    time.sleep(1)\n"
SAVED_MEANWHILE = SLEEPY + "\n\nasync def other():\n    time.sleep(2)\n"


def test_a_file_saved_after_the_check_is_left_alone(
    project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project({"app.py": SLEEPY, "other.py": SLEEPY})
    real = write_fixes

    def save_then_write(
        plans: Sequence[FileFix], digests: Mapping[str, str]
    ) -> tuple[int, list[str]]:
        # The user saves app.py in the editor while the run is between its check and its write.
        (root / "app.py").write_text(SAVED_MEANWHILE, encoding="utf-8")
        return real(plans, digests)

    monkeypatch.setattr("unstall.check._command.write_fixes", save_then_write)
    result = cli("--no-cache", "--fix", ".")
    assert result.returncode == 1
    assert "app.py changed while it was being checked; not fixed." in result.stderr
    assert (root / "app.py").read_text(encoding="utf-8") == SAVED_MEANWHILE
    assert "await asyncio.sleep(1)" in (root / "other.py").read_text(encoding="utf-8")


def test_a_file_saved_during_the_write_is_left_alone(
    project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last look at the file is after the new text is ready, right before it replaces the file."""
    root = project({"app.py": SLEEPY})
    real = tempfile.mkstemp

    def save_then_make(**kwargs: Any) -> tuple[int, str]:
        # A second writer saves app.py just as the fixed content is being written beside it.
        (root / "app.py").write_text(SAVED_MEANWHILE, encoding="utf-8")
        return real(**kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", save_then_make)
    result = cli("--no-cache", "--fix", "app.py")
    assert result.returncode == 1
    assert "app.py changed while it was being checked; not fixed." in result.stderr
    assert (root / "app.py").read_text(encoding="utf-8") == SAVED_MEANWHILE
    assert [p.name for p in root.iterdir()] == ["app.py"]
