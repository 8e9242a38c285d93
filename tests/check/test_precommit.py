"""The pre-commit hook (.pre-commit-hooks.yaml), tried from a fresh clone of this repository:
its entry run the way pre-commit runs it, then pre-commit itself with a config naming the clone.

Both use what is committed (a clone sees no uncommitted change), as a user's pre-commit would.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
FIXED = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs git and a git checkout of unstall",
)


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone of this repository (its committed HEAD)."""
    target = tmp_path / "unstall-clone"
    _git("clone", "--quiet", str(ROOT), str(target), cwd=tmp_path)
    return target


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A user's repository with one staged file that blocks its loop."""
    repo = tmp_path / "sample"
    repo.mkdir()
    _git("init", "--quiet", cwd=repo)
    (repo / "app.py").write_text(BLOCKING, encoding="utf-8")
    _git("add", "app.py", cwd=repo)
    return repo


def _hook(clone: Path) -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((clone / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [hook for hook in hooks if hook["id"] == "unstall-check"]
    assert isinstance(hook, dict)
    return hook


def test_the_hooks_entry_from_a_fresh_clone(clone: Path, sample: Path) -> None:
    hook = _hook(clone)
    assert hook["language"] == "python"
    assert "python" in hook["types"]
    command = [*shlex.split(hook["entry"]), *hook.get("args", [])]
    if hook.get("pass_filenames", True):
        command.append("app.py")
    assert command[0] == "unstall"
    # pre-commit runs the console script installed from the clone; the clone's own source
    # (on the path before anything installed) is the same code.
    program = "import sys; from unstall._cli import main; sys.argv[0] = 'unstall'; raise SystemExit(main())"
    env = {**os.environ, "PYTHONPATH": str(clone / "src"), "NO_COLOR": "1"}
    run = [sys.executable, "-c", program, *command[1:]]
    done = subprocess.run(
        run, cwd=sample, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert "app.py:5:5: UNS101" in done.stdout
    (sample / "app.py").write_text(FIXED, encoding="utf-8")
    done = subprocess.run(
        run, cwd=sample, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_pre_commit_runs_the_hook_from_a_local_clone(
    clone: Path, sample: Path, tmp_path: Path
) -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install 'unstall[test]')")
    rev = _git("rev-parse", "HEAD", cwd=clone)
    (sample / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {clone}\n    rev: {rev}\n    hooks:\n      - id: unstall-check\n",
        encoding="utf-8",
    )
    _git("add", ".pre-commit-config.yaml", cwd=sample)
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "NO_COLOR": "1",
        "PRE_COMMIT_COLOR": "never",
    }
    env.pop("VIRTUAL_ENV", None)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit, "run", "--all-files", "--color", "never"],
            cwd=sample,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    failed = run()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "unstall check" in failed.stdout
    assert "Failed" in failed.stdout
    assert "app.py:5:5: UNS101" in failed.stdout
    (sample / "app.py").write_text(FIXED, encoding="utf-8")
    _git("add", "app.py", cwd=sample)
    passed = run()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
