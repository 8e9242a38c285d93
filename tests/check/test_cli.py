"""``unstall check`` end to end: paths, options, exit codes, stdin, and one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from unstall.check import Config, check

Project = Callable[[Mapping[str, str | bytes]], Path]
Cli = Callable[..., "subprocess.CompletedProcess[str]"]
BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def test_clean_project_exits_0(project: Project, cli: Cli) -> None:
    project({"app.py": "async def f():\n    return 1\n"})
    result = cli()
    assert result.returncode == 0
    assert result.stdout.startswith("All checks passed.")
    assert result.stderr == ""


def test_finding_exits_1_with_location_source_and_summary(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING})
    result = cli(".")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("app.py:5:5: UNS101 ")
    assert "5 |     time.sleep(1)" in lines
    assert "  |     ^^^^^^^^^^^^^" in lines
    assert lines[-1].startswith("Found 1 problem in 1 file")


def test_cross_module_chain_is_reported_at_the_async_call(project: Project, cli: Cli) -> None:
    project(
        {
            "app/__init__.py": "",
            "app/config.py": "def load_config():\n    with open('c.toml') as f:\n        return f.read()\n",
            "app/handlers.py": "from app.config import load_config\n\n\nasync def handler():\n    return load_config()\n",
        }
    )
    result = cli("--format", "json")
    document = json.loads(result.stdout)
    chained = [f for f in document["findings"] if f["path"] == "app/handlers.py"]
    assert chained, document
    assert chained[0]["code"] == "UNS102"
    assert chained[0]["line"] == 5
    assert any(step["path"] == "app/config.py" for step in chained[0]["chain"])


def test_select_ignore_and_per_file_ignores(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING, "tests/test_x.py": BLOCKING})
    assert cli("--ignore", "UNS1").returncode == 0
    assert cli("--select", "UNS2").returncode == 0
    assert cli("--select", "UNS101", "--ignore", "UNS1").returncode == 1
    (Path("pyproject.toml")).write_text(
        '[tool.unstall.per-file-ignores]\n"tests/**" = ["UNS101"]\n', encoding="utf-8"
    )
    document = json.loads(cli("--format", "json").stdout)
    assert [f["path"] for f in document["findings"]] == ["app.py"]


def test_exclude_option_and_config(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING, "gen/x.py": BLOCKING})
    assert json.loads(cli("--exclude", "gen", "--format", "json").stdout)["summary"]["files"] == 1
    Path("pyproject.toml").write_text(
        '[tool.unstall]\nextend-exclude = ["app.py"]\n', encoding="utf-8"
    )
    assert json.loads(cli("--format", "json").stdout)["summary"]["files"] == 1


def test_config_option_and_config_errors_exit_2_with_one_line(project: Project, cli: Cli) -> None:
    project(
        {"app.py": BLOCKING, "strict.toml": "", "bad.toml": "[tool.unstall]\nselct = ['UNS1']\n"}
    )
    Path("strict.toml").write_text('[tool.unstall]\nignore = ["UNS101"]\n', encoding="utf-8")
    assert cli("--config", "strict.toml").returncode == 0
    bad = cli("--config", "bad.toml")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.count("\n") == 1
    assert "tool.unstall.selct" in bad.stderr
    assert "Did you mean 'select'?" in bad.stderr
    Path("broken.toml").write_text("[tool.unstall\n", encoding="utf-8")
    broken = cli("--config", "broken.toml")
    assert broken.returncode == 2
    assert "broken.toml" in broken.stderr
    assert "line 1" in broken.stderr


def test_bad_select_on_the_command_line(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING})
    result = cli("--select", "UNS77")
    assert result.returncode == 2
    assert "'UNS77'" in result.stderr


def test_missing_path_exits_2(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING})
    result = cli("nope.py")
    assert result.returncode == 2
    assert "'nope.py' does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_jobs_exits_2(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING})
    assert cli("--jobs", "0").returncode == 2


def test_stdin(project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    project({"other.py": "x = 1\n"})
    monkeypatch.setattr(sys, "stdin", io.StringIO(BLOCKING))
    result = cli("-", "--stdin-filename", "pkg/handler.py", "--no-show-source")
    assert result.returncode == 1
    assert result.stdout.startswith("pkg/handler.py:5:5: UNS101")


def test_statistics(project: Project, cli: Cli) -> None:
    project({"a.py": BLOCKING, "b.py": BLOCKING, "c.py": "def (:\n"})
    result = cli("--statistics")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("2  UNS101")
    assert result.stdout.splitlines()[1].startswith("1  UNS901")


def test_sarif_and_github_formats_from_the_cli(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING})
    sarif = json.loads(cli("--format", "sarif").stdout)
    assert sarif["runs"][0]["results"][0]["ruleId"] == "UNS101"
    github = cli("--format", "github").stdout
    assert github.startswith("::error file=app.py,line=5,col=5,")


def test_help_documents_exit_codes(cli: Cli) -> None:
    result = cli("--help")
    assert result.returncode == 0
    assert "Exit codes: 0 no problems found, 1 problems found" in result.stdout


def test_public_api(project: Project) -> None:
    root = project({"app.py": BLOCKING, "ok.py": "x = 1\n"})
    result = check([root], config=Config(root=root), use_cache=False)
    assert [f.code for f in result.findings] == ["UNS101"]
    assert result.stats.files == 2
    assert result.files == ("app.py", "ok.py")


def test_python_m_unstall_check_subprocess(project: Project) -> None:
    root = project({"app.py": BLOCKING})
    completed = subprocess.run(
        [sys.executable, "-m", "unstall", "check", "--no-cache", "--format", "json", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 1, completed.stderr
    assert json.loads(completed.stdout)["findings"][0]["code"] == "UNS101"
    helped = subprocess.run(
        [sys.executable, "-m", "unstall", "check", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "Exit codes: 0" in helped.stdout
