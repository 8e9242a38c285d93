"""Standard input as a file of its project: chains through other modules, --fix - and --diff -,
and bytes that are not UTF-8, through the real command line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import unstall

Project = Callable[[Mapping[str, str | bytes]], Path]
Cli = Callable[..., "subprocess.CompletedProcess[str]"]
Stdin = Callable[[bytes | str], None]

SETTINGS = "def load():\n    with open('c.toml') as f:\n        return f.read()\n"
VIEWS_CLEAN = "from app.settings import load\n\n\nasync def view():\n    return 1\n"
VIEWS_CHAINED = "from app.settings import load\n\n\nasync def view():\n    return load()\n"
SLEEPY = "import time\n\n\nasync def view():\n    time.sleep(1)\n"
PROJECT = {
    "pyproject.toml": "[project]\nname = 'shop'\n",
    "app/__init__.py": "",
    "app/settings.py": SETTINGS,
    "app/views.py": VIEWS_CLEAN,
    "app/other.py": SLEEPY,  # a finding elsewhere: never reported for the piped file
}


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Stdin:
    """Replace standard input with these bytes (text is encoded as UTF-8)."""

    def feed(data: bytes | str) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="surrogateescape")
        monkeypatch.setattr(sys, "stdin", stream)

    return feed


def test_a_chain_through_another_module_is_kept(project: Project, cli: Cli, stdin: Stdin) -> None:
    project(PROJECT)
    stdin(VIEWS_CHAINED)
    result = cli("--output-format", "json", "--stdin-filename", "app/views.py", "-")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert [f["path"] for f in document["findings"]] == ["app/views.py"]
    finding = document["findings"][0]
    assert finding["code"] == "UNS102"
    assert [step["path"] for step in finding["chain"]] == ["app/settings.py", "app/settings.py"]
    assert document["summary"]["files"] == 1


def test_the_piped_text_replaces_the_file_on_disk(project: Project, cli: Cli, stdin: Stdin) -> None:
    project({**PROJECT, "app/views.py": VIEWS_CHAINED})
    stdin(VIEWS_CLEAN)
    result = cli("--stdin-filename", "app/views.py", "-")
    assert result.returncode == 0
    assert result.stdout.startswith("All checks passed. (1 file checked)")


def test_a_new_file_not_yet_saved_is_a_module_of_its_package(
    project: Project, cli: Cli, stdin: Stdin
) -> None:
    project(PROJECT)
    stdin("from .settings import load\n\n\nasync def fresh():\n    return load()\n")
    result = cli("--no-show-source", "--stdin-filename", "app/new.py")
    assert result.returncode == 1
    assert result.stdout.startswith("app/new.py:5:12: UNS102")
    assert "load (app/settings.py:1)" in result.stdout


def test_without_a_file_name_the_text_is_checked_alone(
    project: Project, cli: Cli, stdin: Stdin
) -> None:
    project(PROJECT)
    stdin(VIEWS_CHAINED)
    assert cli("-").returncode == 0
    stdin(SLEEPY)
    alone = cli("-", "--no-show-source")
    assert alone.stdout.startswith("stdin.py:5:5: UNS101")


def test_settings_and_project_come_from_the_named_file(
    project: Project, cli: Cli, stdin: Stdin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(
        {
            **PROJECT,
            "pyproject.toml": '[tool.unstall]\nper-file-ignores = { "app/views.py" = ["UNS101"] }\n',
        }
    )
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    named = str(root / "app" / "views.py")
    stdin(VIEWS_CHAINED)
    chained = cli("--output-format", "json", "--stdin-filename", named, "-")
    assert [f["code"] for f in json.loads(chained.stdout)["findings"]] == ["UNS102"]
    stdin(SLEEPY)
    assert cli("--stdin-filename", named, "-").returncode == 0  # per-file-ignores applies


def test_extra_paths_are_the_project(project: Project, cli: Cli, stdin: Stdin) -> None:
    project(PROJECT)
    stdin(VIEWS_CHAINED)
    assert cli("--stdin-filename", "app/views.py", "-", "app/views.py").returncode == 0
    stdin(VIEWS_CHAINED)
    assert cli("--stdin-filename", "app/views.py", "-", "app").returncode == 1


LATIN = b"x = '\xe9t\xe9'\n"


def test_bytes_that_are_not_utf8_give_the_files_finding(
    project: Project, cli: Cli, stdin: Stdin
) -> None:
    project({**PROJECT, "app/latin.py": LATIN})
    on_disk = json.loads(cli("--output-format", "json", "app/latin.py").stdout)["findings"]
    stdin(LATIN)
    piped = cli("--output-format", "json", "--stdin-filename", "app/latin.py", "-")
    assert piped.returncode == 1
    assert json.loads(piped.stdout)["findings"] == on_disk
    assert on_disk[0]["code"] == "UNS902"
    stdin(LATIN)
    text = cli("-")
    assert text.returncode == 1
    assert text.stdout.startswith("stdin.py:1:1: UNS902 The file cannot be decoded")


def test_a_coding_cookie_and_a_bom_are_honoured(project: Project, cli: Cli, stdin: Stdin) -> None:
    project(PROJECT)
    stdin(
        b"# -*- coding: latin-1 -*-\nimport time\nasync def f():\n    x = '\xe9'; time.sleep(1)\n"
    )
    cookie = cli("--no-show-source", "--stdin-filename", "app/l.py")
    # columns count UTF-8 bytes, as for a file on disk: "é" is two
    assert cookie.stdout.startswith("app/l.py:4:15: UNS101"), cookie.stdout
    stdin(b"\xef\xbb\xbf" + SLEEPY.encode())
    assert cli("--no-show-source", "-").stdout.startswith("stdin.py:5:5: UNS101")


def test_fix_prints_the_fixed_source(project: Project, cli: Cli, stdin: Stdin) -> None:
    project(PROJECT)
    stdin(SLEEPY)
    result = cli("--fix", "--stdin-filename", "app/views.py", "-")
    assert result.returncode == 0
    assert result.stdout == (
        "import time\nimport asyncio\n\n\nasync def view():\n    await asyncio.sleep(1)\n"
    )
    assert "Fixed 1 problem." in result.stderr
    assert Path("app/views.py").read_text(encoding="utf-8") == VIEWS_CLEAN


def test_fix_reports_what_remains_on_stderr(project: Project, cli: Cli, stdin: Stdin) -> None:
    project(PROJECT)
    stdin(VIEWS_CHAINED)
    result = cli("--fix", "--stdin-filename", "app/views.py", "-")
    assert result.returncode == 1
    assert result.stdout == VIEWS_CHAINED
    assert "app/views.py:5:12: UNS102" in result.stderr
    stdin(VIEWS_CHAINED)
    assert cli("--fix", "--exit-zero", "--stdin-filename", "app/views.py", "-").returncode == 0
    stdin(VIEWS_CHAINED)
    assert cli("--fix", "--silent", "--stdin-filename", "app/views.py", "-").stderr == ""


def test_fix_with_an_output_file_puts_the_report_there(
    project: Project, cli: Cli, stdin: Stdin
) -> None:
    project(PROJECT)
    stdin(VIEWS_CHAINED)
    result = cli(
        "--fix", "-o", "report.json", "--output-format", "json", "--stdin-filename", "app/views.py"
    )
    assert (result.returncode, result.stdout) == (1, VIEWS_CHAINED)
    assert "UNS102" not in result.stderr
    report = json.loads(Path("report.json").read_text(encoding="utf-8"))
    assert [f["code"] for f in report["findings"]] == ["UNS102"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=200))
def test_any_bytes_on_stdin_give_a_report_never_a_crash(
    project: Project, cli: Cli, stdin: Stdin, data: bytes
) -> None:
    project(PROJECT)
    stdin(b"# -*- coding: latin-1 -*-\n" + data if data[:1] == b"#" else data)
    result = cli("--no-cache", "--output-format", "json", "--stdin-filename", "app/views.py")
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["summary"]["files"] == 1


def test_fix_keeps_the_encoding_and_passes_undecodable_input_through(
    project: Project, stdin: Stdin, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    project(PROJECT)
    latin = (
        b"# -*- coding: latin-1 -*-\nimport time\nasync def f():\n    x = '\xe9'; time.sleep(1)\n"
    )
    stdin(latin)
    capsysbinary.readouterr()
    from unstall._cli import main

    assert main(["check", "--fix", "-"]) == 0
    out = capsysbinary.readouterr().out
    assert b"x = '\xe9'; await asyncio.sleep(1)" in out
    stdin(LATIN)
    assert main(["check", "--fix", "-"]) == 1
    captured = capsysbinary.readouterr()
    assert captured.out == LATIN
    assert b"UNS902" in captured.err


def test_diff_of_standard_input(project: Project, cli: Cli, stdin: Stdin) -> None:
    project(PROJECT)
    stdin(SLEEPY)
    shown = cli("--diff", "--stdin-filename", "app/views.py", "-")
    assert shown.returncode == 1
    assert shown.stdout.startswith("--- a/app/views.py\n+++ b/app/views.py\n")
    assert "+    await asyncio.sleep(1)" in shown.stdout
    stdin(VIEWS_CHAINED)
    nothing = cli("--diff", "--stdin-filename", "app/views.py", "-")
    assert (nothing.returncode, nothing.stdout) == (0, "")


def test_latin1_bytes_through_a_real_pipe(project: Project) -> None:
    root = project(PROJECT)
    done = subprocess.run(
        [sys.executable, "-m", "unstall", "check", "--no-cache", "-"],
        cwd=root,
        input=b"# a comment\nx = '\xe9'\n",
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert b"Traceback" not in done.stderr
    assert done.stdout.startswith(b"stdin.py:1:1: UNS902 The file cannot be decoded")


@pytest.mark.parametrize(
    "data",
    [
        b"x = '\xe9t\xe9'\n",  # on the lines a coding cookie may be on
        b"import time\n\n\nasync def view():\n    time.sleep(1)  # caf\xe9\n",  # further down
        b"# -*- coding: ascii -*-\nx = '\xff'\n",  # not valid in the declared encoding
    ],
    ids=["first-line", "later-line", "declared-ascii"],
)
def test_undecodable_stdin_is_the_finding_of_the_same_file_on_disk(
    project: Project, cli: Cli, stdin: Stdin, data: bytes
) -> None:
    project({**PROJECT, "app/bad.py": data, "stdin.py": data})
    for on_disk_args, piped_args in (
        (("app/bad.py",), ("--stdin-filename", "app/bad.py", "-")),
        (("stdin.py",), ("-",)),
    ):
        on_disk = cli("--no-cache", "--output-format", "json", *on_disk_args)
        stdin(data)
        piped = cli("--no-cache", "--output-format", "json", *piped_args)
        assert "Traceback" not in piped.stderr
        assert (piped.returncode, on_disk.returncode) == (1, 1)
        assert json.loads(piped.stdout)["findings"] == json.loads(on_disk.stdout)["findings"]
        assert json.loads(piped.stdout)["findings"][0]["code"] == "UNS902"


def test_undecodable_stdin_through_a_real_pipe(project: Project) -> None:
    root = project(PROJECT)
    data = b"import time\n\n\nasync def view():\n    time.sleep(1)  # caf\xe9\n"
    command = [sys.executable, "-m", "unstall", "check", "--no-cache"]
    # The child imports the unstall under test, wherever the tests import it from.
    env = {**os.environ, "PYTHONPATH": str(Path(unstall.__file__).parents[1])}
    for extra in ((), ("--stdin-filename", "app/views.py")):
        checked = subprocess.run(
            [*command, *extra, "-"], input=data, capture_output=True, cwd=root, env=env, check=False
        )
        assert checked.returncode == 1, checked.stderr
        assert b"UNS902" in checked.stdout
        assert b"Traceback" not in checked.stderr
        fixed = subprocess.run(
            [*command, "--fix", *extra, "-"],
            input=data,
            capture_output=True,
            cwd=root,
            env=env,
            check=False,
        )
        # --fix - gives the bytes back untouched and reports the problem on standard error.
        assert (fixed.returncode, fixed.stdout) == (1, data)
        assert b"UNS902" in fixed.stderr
