"""Every way a file can fail to be checked is one UNS9xx finding, and the run goes on."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

Project = Callable[[Mapping[str, str | bytes]], Path]
Cli = Callable[..., "subprocess.CompletedProcess[str]"]
BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def findings(cli: Cli, *args: str) -> dict[str, list[dict[str, Any]]]:
    result = cli("--format", "json", "--no-cache", *args)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    by_path: dict[str, list[dict[str, Any]]] = {}
    for finding in json.loads(result.stdout)["findings"]:
        by_path.setdefault(finding["path"], []).append(finding)
    return by_path


def only(cli: Cli, name: str, *args: str) -> dict[str, Any]:
    """The single finding for ``name``, checking that the good file next to it was still checked."""
    by_path = findings(cli, *args)
    assert [f["code"] for f in by_path["good.py"]] == ["UNS101"]
    assert len(by_path[name]) == 1, by_path[name]
    return by_path[name][0]


def test_syntax_error_has_message_and_position(project: Project, cli: Cli) -> None:
    project({"good.py": BLOCKING, "bad.py": "x = 1\ndef broken(:\n    pass\n"})
    finding = only(cli, "bad.py")
    assert finding["code"] == "UNS901"
    assert finding["line"] == 2
    assert "Syntax error" in finding["message"]


def test_latin1_with_a_coding_cookie_is_read(project: Project, cli: Cli) -> None:
    project(
        {
            "good.py": BLOCKING,
            "latin.py": b"# -*- coding: latin-1 -*-\nimport time\nasync def f():\n    time.sleep(1)  # caf\xe9\n",
        }
    )
    finding = only(cli, "latin.py")
    assert finding["code"] == "UNS101"
    assert finding["line"] == 4


def test_latin1_without_a_cookie_is_undecodable(project: Project, cli: Cli) -> None:
    project({"good.py": BLOCKING, "latin.py": b"x = 1\ny = 'caf\xe9'\n"})
    finding = only(cli, "latin.py")
    assert finding["code"] == "UNS902"
    assert "coding" in finding["message"]


def test_unknown_coding_cookie(project: Project, cli: Cli) -> None:
    project({"good.py": BLOCKING, "odd.py": b"# -*- coding: klingon -*-\nx = 1\n"})
    assert only(cli, "odd.py")["code"] == "UNS902"


def test_utf8_bom_is_fine(project: Project, cli: Cli) -> None:
    project({"good.py": BLOCKING, "bom.py": b"\xef\xbb\xbf" + BLOCKING.encode()})
    finding = only(cli, "bom.py")
    assert (finding["code"], finding["line"], finding["col"]) == ("UNS101", 5, 4)


def test_nul_bytes_mean_binary(project: Project, cli: Cli) -> None:
    project({"good.py": BLOCKING, "blob.py": b"x = 1\n\x00\x01\x02"})
    finding = only(cli, "blob.py")
    assert finding["code"] == "UNS903"
    assert finding["line"] == 2


def test_huge_file_is_skipped_with_a_finding(project: Project, cli: Cli) -> None:
    project(
        {
            "good.py": BLOCKING,
            "huge.py": "x = 1\n" * 2000,
            "pyproject.toml": "[tool.unstall]\nmax-file-size = 5000\n",
        }
    )
    finding = only(cli, "huge.py")
    assert finding["code"] == "UNS904"
    assert "5000" in finding["message"]


def test_broken_symlink(project: Project, cli: Cli) -> None:
    root = project({"good.py": BLOCKING})
    (root / "link.py").symlink_to(root / "gone.py")
    finding = only(cli, "link.py")
    assert finding["code"] == "UNS905"
    assert "symbolic link" in finding["message"]


def test_folder_named_like_a_module_and_a_fifo(project: Project, cli: Cli) -> None:
    root = project({"good.py": BLOCKING})
    (root / "folder.py").mkdir()
    os.mkfifo(root / "pipe.py")
    by_path = findings(cli)
    assert [f["code"] for f in by_path["folder.py"]] == ["UNS905"]
    assert [f["code"] for f in by_path["pipe.py"]] == ["UNS905"]
    assert [f["code"] for f in by_path["good.py"]] == ["UNS101"]


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 300 + ")" * 300 + "\n",
        "x = " + "[" * 5000 + "]" * 5000 + "\n",
        "x = " + " + ".join(["1"] * 100_000) + "\n",
        "def f():\n"
        + "".join("    " * depth + "if x:\n" for depth in range(1, 120))
        + "    " * 120
        + "pass\n",
        "x = 1 if y else " * 2000 + "0\n",
        "async def f():\n    " + "await " * 3000 + "g()\n",
    ],
    ids=[
        "nested-parens",
        "deep-brackets",
        "long-expression",
        "deep-blocks",
        "long-ternary",
        "await-chain",
    ],
)
def test_pathological_sources_never_crash(project: Project, cli: Cli, source: str) -> None:
    project({"good.py": BLOCKING, "odd.py": source})
    by_path = findings(cli)
    assert [f["code"] for f in by_path["good.py"]] == ["UNS101"]
    assert all(f["code"] == "UNS901" for f in by_path.get("odd.py", []))


def test_errors_are_not_suppressed_by_noqa_but_by_ignore(project: Project, cli: Cli) -> None:
    project({"good.py": BLOCKING, "bad.py": "def f(:  # noqa\n"})
    assert only(cli, "bad.py")["code"] == "UNS901"
    assert "bad.py" not in findings(cli, "--ignore", "UNS9")


@pytest.mark.parametrize("given", [(), ("loop.py", "one.py", "two.py", "good.py")])
def test_symlink_loops(project: Project, cli: Cli, given: tuple[str, ...]) -> None:
    root = project({"good.py": BLOCKING})
    (root / "loop.py").symlink_to("loop.py")
    (root / "one.py").symlink_to("two.py")
    (root / "two.py").symlink_to("one.py")
    by_path = findings(cli, *given)
    assert [f["code"] for f in by_path["good.py"]] == ["UNS101"]
    for name in ("loop.py", "one.py", "two.py"):
        [finding] = by_path[name]
        assert finding["code"] == "UNS905"
        assert "symbolic link loop" in finding["message"], finding["message"]


def test_symlink_loop_with_per_file_ignores_and_fix(project: Project, cli: Cli) -> None:
    root = project(
        {
            "good.py": BLOCKING,
            "pyproject.toml": '[tool.unstall]\nper-file-ignores = { "loop.py" = ["UNS905"] }\n',
        }
    )
    (root / "loop.py").symlink_to("loop.py")
    assert "loop.py" not in findings(cli)
    result = cli("--no-cache", "--fix", ".")
    assert (result.returncode, result.stderr) == (0, "Fixed 1 problem.\n")
    assert "await asyncio.sleep(1)" in (root / "good.py").read_text(encoding="utf-8")
