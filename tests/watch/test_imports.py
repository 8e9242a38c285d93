"""A module imported after the watcher started is hooked as it is imported: uvloop under unstall run."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.loops import LOOP_KINDS

from unstall.watch._imports import AfterImport


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("hooked_")]:
        del sys.modules[name]


def test_the_callback_runs_once_the_module_has_executed(module_dir: Path) -> None:
    (module_dir / "hooked_mod.py").write_text("VALUE = 41\n")
    seen: list[int] = []
    hook = AfterImport("hooked_mod", lambda m: seen.append(m.VALUE + 1)).install()
    try:
        import hooked_mod  # type: ignore[import-not-found]

        assert hooked_mod.VALUE == 41
    finally:
        hook.remove()
    assert seen == [42]
    assert hook not in sys.meta_path


def test_other_modules_and_a_failing_callback_leave_imports_alone(module_dir: Path) -> None:
    (module_dir / "hooked_other.py").write_text("VALUE = 1\n")
    (module_dir / "hooked_failing.py").write_text("VALUE = 2\n")

    def fail(module: types.ModuleType) -> None:
        raise RuntimeError("the hook broke")

    hooks = [
        AfterImport("hooked_absent", fail).install(),
        AfterImport("hooked_failing", fail).install(),
    ]
    try:
        import hooked_failing  # type: ignore[import-not-found]
        import hooked_other  # type: ignore[import-not-found]
    finally:
        for hook in hooks:
            hook.remove()
            hook.remove()  # idempotent
    assert (hooked_other.VALUE, hooked_failing.VALUE) == (1, 2)
    missing = AfterImport("hooked_missing", fail).install()
    try:
        with pytest.raises(ModuleNotFoundError):
            import hooked_missing  # type: ignore[import-not-found]  # noqa: F401
    finally:
        missing.remove()


_BEFORE_FIRST_AWAIT = """
import sys, time
kind = sys.argv[1]
if {watch_first}:
    import unstall
    watcher = unstall.watch(threshold_ms=100, log=False)
import asyncio
if kind == "uvloop":
    import uvloop  # imported after the watcher started
    run = uvloop.run
else:
    run = asyncio.run

async def main():
    time.sleep(0.3)  # BEFORE THE FIRST AWAIT

run(main())
if {watch_first}:
    watcher.stop()
    print("stalls", watcher.stalls)
"""


@pytest.mark.parametrize("kind", LOOP_KINDS)
def test_a_stall_before_the_first_await_is_caught_whatever_the_import_order(
    tmp_path: Path, kind: str
) -> None:
    pytest.importorskip(kind)
    script = tmp_path / "early.py"
    script.write_text(_BEFORE_FIRST_AWAIT.format(watch_first=True))
    done = subprocess.run(
        [sys.executable, str(script), kind], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "stalls 1" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("kind", LOOP_KINDS)
def test_unstall_run_catches_a_stall_before_the_first_await(tmp_path: Path, kind: str) -> None:
    pytest.importorskip(kind)
    script = tmp_path / "early.py"
    script.write_text(_BEFORE_FIRST_AWAIT.format(watch_first=False))
    done = subprocess.run(
        [sys.executable, "-m", "unstall", "run", str(script), kind],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "1 stall(s)" in done.stderr
    assert "BEFORE THE FIRST AWAIT" in done.stderr
