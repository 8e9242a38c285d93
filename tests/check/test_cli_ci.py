"""``unstall check`` flags CI pipelines use, through the real command line: output formats and
files, exit codes, quiet and silent, colors, --diff as a gate, --show-settings and --show-files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from unstall._config import config_from_table

Project = Callable[[Mapping[str, str | bytes]], Path]
Cli = Callable[..., "subprocess.CompletedProcess[str]"]
BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CHAINED = {
    "app/__init__.py": "",
    "app/settings.py": "def load():\n    with open('c.toml') as f:\n        return f.read()\n",
    "app/views.py": "from app.settings import load\n\n\nasync def view():\n    return load()\n",
}
ESC = "\x1b["


def test_output_format_and_its_alias(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING})
    new = json.loads(cli("--output-format", "json").stdout)
    old = json.loads(cli("--format", "json").stdout)
    assert new == old
    assert new["findings"][0]["code"] == "UNS101"
    bad = cli("--output-format", "xml")
    assert bad.returncode == 2
    assert "invalid choice: 'xml'" in bad.stderr  # the message lists the choices
    assert "gitlab" in bad.stderr
    assert "junit" in bad.stderr


def test_output_file_gets_the_report_and_stdout_stays_empty(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING})
    result = cli("--output-format", "sarif", "-o", "reports/results.sarif")
    assert result.returncode == 1
    assert result.stdout == ""
    document = json.loads(Path("reports/results.sarif").read_text(encoding="utf-8"))
    assert document["runs"][0]["results"][0]["ruleId"] == "UNS101"
    assert cli("--output-file", "report.txt").stdout == ""
    assert Path("report.txt").read_text(encoding="utf-8").startswith("app.py:5:5: UNS101")


def test_an_unwritable_output_file_is_a_usage_error(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING, "taken": "a file, not a folder\n"})
    result = cli("-o", "taken/report.txt")
    assert result.returncode == 2
    assert "'taken/report.txt'" in result.stderr
    assert "--output-file" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_usual_code_scanning_step(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING})
    result = cli("--output-format", "sarif", "-o", "results.sarif", "--exit-zero", ".")
    assert (result.returncode, result.stdout) == (0, "")
    assert json.loads(Path("results.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]


def test_exit_zero_keeps_usage_errors(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING})
    assert cli("--exit-zero").returncode == 0
    assert cli("--exit-zero").stdout.startswith("app.py:5:5: UNS101")
    assert cli("--exit-zero", "--select", "UNS77").returncode == 2
    assert cli("--exit-zero", "missing.py").returncode == 2


def test_quiet_prints_findings_without_summary_and_silent_nothing(
    project: Project, cli: Cli
) -> None:
    project({"app.py": BLOCKING, "ok.py": "x = 1\n"})
    quiet = cli("-q")
    assert quiet.returncode == 1
    assert quiet.stdout.startswith("app.py:5:5: UNS101")
    assert "Found" not in quiet.stdout
    silent = cli("--silent")
    assert (silent.returncode, silent.stdout, silent.stderr) == (1, "", "")
    assert cli("-s", "-o", "r.json", "--output-format", "json").stdout == ""
    assert json.loads(Path("r.json").read_text(encoding="utf-8"))["summary"]["findings"] == 1
    assert cli("-q", "ok.py").stdout == ""
    assert cli("-q", "ok.py").returncode == 0
    both = cli("-q", "-s")
    assert both.returncode == 2


def test_diff_exits_1_when_it_shows_changes(project: Project, cli: Cli) -> None:
    project({"app.py": BLOCKING, "clean.py": "async def f():\n    return 1\n"})
    shown = cli("--diff", "app.py")
    assert shown.returncode == 1
    assert "+    await asyncio.sleep(1)" in shown.stdout
    assert "Would fix 1 problem in 1 file." in shown.stderr
    assert Path("app.py").read_text(encoding="utf-8") == BLOCKING
    nothing = cli("--diff", "clean.py")
    assert (nothing.returncode, nothing.stdout) == (0, "")
    assert cli("--diff", "--exit-zero", "app.py").returncode == 0
    assert cli("--diff", "-q", "app.py").stderr == ""


def test_diff_exits_0_when_the_findings_have_no_mechanical_fix(project: Project, cli: Cli) -> None:
    project(CHAINED)
    result = cli("--diff")
    assert (result.returncode, result.stdout) == (0, "")
    assert cli().returncode == 1


@pytest.mark.parametrize(
    ("flag", "env", "colored"),
    [
        (None, {}, False),  # not a terminal
        ("always", {}, True),
        ("never", {"FORCE_COLOR": "1"}, False),
        (None, {"FORCE_COLOR": "1"}, True),
        (None, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        ("always", {"NO_COLOR": "1"}, True),
        (None, {"FORCE_COLOR": ""}, False),
    ],
)
def test_color_flag_and_environment(
    project: Project,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    flag: str | None,
    env: dict[str, str],
    colored: bool,
) -> None:
    project({"app.py": BLOCKING})
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = ["--color", flag] if flag else []
    assert (ESC in cli(*args).stdout) is colored


def test_color_in_a_report_file_only_when_always(
    project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    project({"app.py": BLOCKING})
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    cli("-o", "plain.txt")
    assert ESC not in Path("plain.txt").read_text(encoding="utf-8")
    cli("-o", "colored.txt", "--color", "always")
    assert ESC in Path("colored.txt").read_text(encoding="utf-8")
    assert cli("--color", "sometimes").returncode == 2


def test_show_files_lists_what_would_be_checked(project: Project, cli: Cli) -> None:
    project({"b.py": "x = 1\n", "a/c.py": BLOCKING, "gen/d.py": "", ".venv/e.py": ""})
    result = cli("--show-files", "--exclude", "gen")
    assert (result.returncode, result.stdout) == (0, "a/c.py\nb.py\n")
    assert cli("--show-files", "a").stdout == "a/c.py\n"


def test_show_settings_is_toml_that_reads_back(project: Project, cli: Cli) -> None:
    project(
        {
            "app.py": BLOCKING,
            "pyproject.toml": """\
                [tool.unstall]
                ignore = ["UNS110"]
                per-file-ignores = { "tests/**" = ["UNS101"] }
                offload-helpers = ["myapp.run_blocking"]

                [[tool.unstall.blocking]]
                name = "mycorp.fetch"
                kind = "network"
                why = "A sync HTTP call."
                alternative = "mycorp.afetch"

                [tool.unstall.watch]
                threshold-ms = 50
                log-error-ms = false
                metrics = "127.0.0.1:9464"
                """,
        }
    )
    result = cli("--show-settings", "--extend-select", "UNS2", "--no-respect-gitignore")
    assert result.returncode == 0
    assert "# config file: " in result.stdout
    assert str(Path("pyproject.toml").resolve()) in result.stdout
    document = tomllib.loads(result.stdout)
    table = document["tool"]["unstall"]
    assert table["ignore"] == ["UNS110"]
    assert table["extend-select"] == ["UNS2"]
    assert table["respect-gitignore"] is False
    assert table["per-file-ignores"] == {"tests/**": ["UNS101"]}
    assert table["watch"]["threshold-ms"] == 50
    assert table["watch"]["log-error-ms"] is False
    assert table["watch"]["metrics"] == "127.0.0.1:9464"
    assert "html" not in table["watch"]  # unset: TOML has no null
    again = config_from_table(table, root=Path.cwd(), path=Path("pyproject.toml").resolve())
    assert again.blocking[0]["name"] == "mycorp.fetch"
    assert again.offload_helpers == ("myapp.run_blocking",)


def test_help_lists_the_new_flags(cli: Cli) -> None:
    text = cli("--help").stdout
    for flag in (
        "--output-format",
        "--exit-zero",
        "-q, --quiet",
        "-s, --silent",
        "--color",
        "--show-settings",
        "--show-files",
        "--respect-gitignore",
        "--watch",
        "--stdin-filename",
    ):
        assert flag in text, flag
    # Python 3.13's argparse names the metavar once: "-o, --output-file FILE"
    assert re.search(r"-o( FILE)?, --output-file FILE", text), text
    assert "Exit codes: 0 no problems found, 1 problems found" in text


def test_gitlab_report_from_the_cli(
    project: Project, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project({**CHAINED, "sub/app.py": BLOCKING, "sub/app2.py": BLOCKING})
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    issues = json.loads(cli("--output-format", "gitlab").stdout)
    assert {issue["check_name"] for issue in issues} == {"UNS101", "UNS102"}
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] == "major"
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    # In GitLab CI, paths are relative to the repository even from a subfolder.
    monkeypatch.setenv("CI_PROJECT_DIR", str(root))
    monkeypatch.chdir(root / "sub")
    paths = {
        issue["location"]["path"] for issue in json.loads(cli("--output-format", "gitlab").stdout)
    }
    assert paths == {"sub/app.py", "sub/app2.py"}


def test_junit_report_from_the_cli(project: Project, cli: Cli) -> None:
    project({**CHAINED, "bad.py": b"x = '\x00'\n", "ok.py": "x = 1\n"})
    report = ET.fromstring(cli("--output-format", "junit").stdout)
    assert report.tag == "testsuites"
    assert report.get("failures") == "2"
    suites = {suite.get("name"): suite for suite in report}
    assert set(suites) == {"app/views.py", "bad.py"}
    case = suites["app/views.py"].find("testcase")
    assert case is not None
    assert case.get("file") == "app/views.py"
    assert case.get("line") == "5"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "UNS102"
    assert failure.text is not None
    assert "via load (app/settings.py:1) -> open (app/settings.py:2)" in failure.text
    clean = ET.fromstring(cli("--output-format", "junit", "ok.py").stdout)
    assert clean.get("failures") == "0"
    assert clean.get("tests") == "1"


def test_python_m_unstall_check_writes_the_report_file(project: Project) -> None:
    root = project({"app.py": BLOCKING})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "unstall",
            "check",
            "--no-cache",
            "--output-format",
            "junit",
            "-o",
            "junit.xml",
            "--exit-zero",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert ET.parse(root / "junit.xml").getroot().get("failures") == "1"
