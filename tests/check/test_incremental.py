"""Re-checks after edits give what a cold run gives, and reuse the analysis when no summary changed."""

from __future__ import annotations

import itertools
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from unstall.check import Config, _runner, check
from unstall.check._runner import CheckResult, Memory, StdinText, run_check

PROJECT = {
    "app/__init__.py": "",
    "app/handlers.py": """
        from app import helpers
        from app.helpers import load


        async def handler():
            return load()


        async def listing():
            return helpers.names()  # a helper that does not block


        async def quiet():
            return 1
    """,
    "app/helpers.py": """
        '''Helpers of the handlers.'''
        import os


        def load():
            return _read("data.txt")


        def _read(name):
            with open(name) as handle:  # blocks
                return handle.read()


        def names():
            return ["a", "b"]
    """,
    "app/tasks.py": """
        import asyncio


        async def spawn():
            asyncio.create_task(asyncio.sleep(1))
    """,
}

_clock = itertools.count(1_700_000_000_000_000_000, 1_000_000_000)


def write(path: Path, text: str) -> None:
    """Write ``text`` and give the file a later mtime than any before (same-size edits count)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    later = next(_clock)
    os.utime(path, ns=(later, later))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    write(path, text.replace(old, new, 1))


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNSTALL_CACHE_DIR", raising=False)
    for name, text in PROJECT.items():
        write(tmp_path / name, text)
    return tmp_path


@pytest.fixture
def analyses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the analysis really ran (not reused), as a one-item counter."""
    ran = [0]
    analyze = _runner._analyze_summaries

    def counting(*args: Any) -> Any:
        ran[0] += 1
        return analyze(*args)

    monkeypatch.setattr(_runner, "_analyze_summaries", counting)
    return ran


def outcome(result: CheckResult) -> tuple[object, ...]:
    return (result.findings, result.files, result.suppressed, dict(result.hidden))


def cold(root: Path) -> tuple[object, ...]:
    return outcome(check([root], config=Config(root=root), jobs=1, use_cache=False))


def warm(root: Path) -> tuple[object, ...]:
    return outcome(check([root], config=Config(root=root), jobs=1))


Edit = Callable[[Path], None]

EDITS: dict[str, Edit] = {
    "a blocking call added to an async def": lambda root: edit(
        root / "app/handlers.py", "    return 1\n", "    open('x').read()\n    return 1\n"
    ),
    "a helper in another module stops blocking": lambda root: edit(
        root / "app/helpers.py",
        "    with open(name) as handle:  # blocks\n        return handle.read()\n",
        "    return name\n",
    ),
    "a helper in another module starts blocking": lambda root: edit(
        root / "app/helpers.py",
        '    return ["a", "b"]\n',
        '    return os.listdir(".")\n',
    ),
    "a blocking call removed from an async def": lambda root: edit(
        root / "app/handlers.py", "    open('x').read()\n", ""
    ),
    "a function renamed": lambda root: edit(root / "app/helpers.py", "def load():", "def fetch():"),
    "the caller follows the rename": lambda root: edit(
        root / "app/handlers.py",
        "from app.helpers import load\n",
        "from app.helpers import fetch as load\n",
    ),
    "a function removed": lambda root: edit(
        root / "app/helpers.py", 'def names():\n    return os.listdir(".")\n', ""
    ),
    "a new import": lambda root: edit(
        root / "app/tasks.py",
        "import asyncio\n",
        "import asyncio\nfrom time import sleep as pause\n",
    ),
    "the new import called": lambda root: edit(
        root / "app/tasks.py", "    asyncio.create_task", "    pause(1)\n    asyncio.create_task"
    ),
    "a new file": lambda root: write(
        root / "app/extra.py",
        """
        import subprocess


        def run():
            subprocess.run(["true"])


        async def job():
            run()
        """,
    ),
    "a new file used elsewhere": lambda root: edit(
        root / "app/handlers.py",
        "async def quiet():\n",
        "async def uses_extra():\n    from app.extra import run\n    run()\n\n\nasync def quiet():\n",
    ),
    "a file deleted": lambda root: (root / "app/extra.py").unlink(),
    "a module the others import deleted": lambda root: (root / "app/helpers.py").unlink(),
    "the module back": lambda root: write(root / "app/helpers.py", PROJECT["app/helpers.py"]),
}


def test_each_edit_rechecks_as_a_cold_run_would(root: Path) -> None:
    assert warm(root) == cold(root)
    for name, change in EDITS.items():
        change(root)
        assert warm(root) == cold(root), name
        assert warm(root) == cold(root), f"{name} (again, nothing changed)"


def test_each_edit_rechecks_as_a_cold_run_would_with_memory(root: Path) -> None:
    memory = Memory()

    def kept() -> tuple[object, ...]:
        return outcome(run_check([root], config=Config(root=root), jobs=1, memory=memory))

    assert kept() == cold(root)
    for name, change in EDITS.items():
        change(root)
        assert kept() == cold(root), name


SAME_SUMMARY: dict[str, Edit] = {
    "a comment's text": lambda root: edit(root / "app/helpers.py", "# blocks", "# blocks the loop"),
    "a comment at a line's end": lambda root: edit(
        root / "app/handlers.py", "    return load()\n", "    return load()  # the data\n"
    ),
    "a docstring": lambda root: edit(
        root / "app/helpers.py", "Helpers of the handlers.", "What the handlers call."
    ),
}


def test_an_edit_no_summary_sees_reuses_the_analysis(root: Path, analyses: list[int]) -> None:
    warm(root)
    assert analyses == [1]
    for name, change in SAME_SUMMARY.items():
        change(root)
        assert warm(root) == cold(root), name
    assert analyses == [1 + len(SAME_SUMMARY)]  # the cold runs only
    EDITS["a blocking call added to an async def"](root)
    assert warm(root) == cold(root)
    assert analyses == [3 + len(SAME_SUMMARY)]


def test_a_suppression_comment_added_by_an_edit_is_honoured(root: Path) -> None:
    before = warm(root)
    handlers = os.path.join("app", "handlers.py")
    assert [f.location.path for f in before[0]].count(handlers) == 1  # type: ignore[attr-defined]
    edit(root / "app/handlers.py", "    return load()\n", "    return load()  # noqa\n")
    after = warm(root)
    assert after == cold(root)
    assert [f.location.path for f in after[0]].count(handlers) == 0  # type: ignore[attr-defined]
    assert after[2] == before[2] + 1  # type: ignore[operator]


def test_a_config_change_is_not_served_the_last_analysis(root: Path, analyses: list[int]) -> None:
    warm(root)
    allowing = check([root], config=Config(root=root, allow=("app.helpers",)), jobs=1)
    assert [f.code for f in allowing.findings] == ["UNS302"]
    assert analyses == [2]


def _buffers(root: Path, text: str) -> Iterator[StdinText]:
    yield StdinText(os.path.join("app", "helpers.py"), text.encode("utf-8"))


def test_buffers_that_no_summary_sees_reuse_the_analysis(root: Path, analyses: list[int]) -> None:
    memory = Memory()
    text = (root / "app/helpers.py").read_text(encoding="utf-8")

    def kept(buffer: str) -> CheckResult:
        return run_check(
            [root],
            config=Config(root=root),
            jobs=1,
            buffers=tuple(_buffers(root, buffer)),
            memory=memory,
        )

    first = kept(text)
    assert analyses == [1]
    typed = kept(text.replace("# blocks", "# blocks, see"))
    assert typed.findings == first.findings
    assert analyses == [1]
    changed = kept(
        text.replace(
            "    with open(name) as handle:  # blocks\n        return handle.read()\n",
            "    return name\n",
        )
    )
    assert analyses == [2]
    assert [f.code for f in changed.findings] == ["UNS302"]
