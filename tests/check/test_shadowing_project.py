"""A checked project whose own modules shadow the standard library must not break the workers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

Project = Callable[[Mapping[str, str | bytes]], Path]

# Enough files for `unstall check` to use its process pool.
FILES = 120
BLOCKING = """\
import time


async def handler():
    time.sleep(1)
"""


def test_project_with_a_collections_module_is_checked_in_parallel(project: Project) -> None:
    # The shape of distributed/collections.py: a module named like the standard library one
    # that imports from it. Worker processes started with the project folder first on sys.path
    # used to die importing it.
    files = {f"m{index:03}.py": BLOCKING for index in range(FILES)}
    files["collections.py"] = "from collections import OrderedDict, UserDict\n"
    files["types.py"] = "raise ImportError('a project module, not the standard library')\n"
    root = project(files)
    script = Path(sys.executable).with_name("unstall")
    completed = subprocess.run(
        [str(script), "check", "--no-cache", "--jobs", "2", "--format", "json", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    findings = json.loads(completed.stdout)["findings"]
    assert sorted({finding["path"] for finding in findings}) == sorted(
        f"m{index:03}.py" for index in range(FILES)
    )
