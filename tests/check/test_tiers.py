"""The frequency tiers from the command line: test code and start-up code are opt-in tiers.

A blocking call in a test (a ``tests`` folder, ``test_*.py``, ``*_test.py``, ``conftest.py``)
runs under a test runner, one test at a time, not in a serving program: it is counted, labelled
``test`` and shown with ``--frequency test`` (or ``all``); the same call in the application is
reported by default.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from unstall.check._runner import is_test_code

Cli = Callable[..., "subprocess.CompletedProcess[str]"]

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def _project(root: Path) -> None:
    (root / "pkg" / "tests").mkdir(parents=True)
    (root / "pkg" / "app.py").write_text(BLOCKING)
    (root / "pkg" / "tests" / "helpers.py").write_text(BLOCKING)
    (root / "pkg" / "test_views.py").write_text(BLOCKING)
    (root / "pkg" / "views_test.py").write_text(BLOCKING)
    (root / "pkg" / "conftest.py").write_text(BLOCKING)
    (root / "pkg" / "testing.py").write_text(BLOCKING)  # helpers for the users' tests
    (root / "pkg" / "attestation.py").write_text(BLOCKING)  # a module that only sounds like tests


def _paths(cli: Cli, root: Path, *args: str) -> dict[str, str]:
    result = cli("--no-cache", "--format", "json", *args, str(root))
    document = json.loads(result.stdout)
    return {
        Path(f["path"]).relative_to(root).as_posix(): f["frequency"] for f in document["findings"]
    }


def test_test_code_is_its_own_opt_in_tier(cli: Cli, tmp_path: Path) -> None:
    _project(tmp_path)
    assert _paths(cli, tmp_path) == {"pkg/app.py": "every", "pkg/attestation.py": "every"}
    assert _paths(cli, tmp_path, "--frequency", "test") == {
        "pkg/tests/helpers.py": "test",
        "pkg/test_views.py": "test",
        "pkg/views_test.py": "test",
        "pkg/conftest.py": "test",
        "pkg/testing.py": "test",
    }
    assert len(_paths(cli, tmp_path, "--frequency", "all")) == 7


def test_hidden_test_findings_are_counted_and_labelled(cli: Cli, tmp_path: Path) -> None:
    _project(tmp_path)
    text = cli("--no-cache", str(tmp_path)).stdout
    assert "5 more in tiers not shown (5 test)" in text
    shown = cli("--no-cache", "--frequency", "test", str(tmp_path)).stdout
    assert "[test code: a test runner drives it, not a serving program]" in shown
    stats = cli("--no-cache", "--statistics", str(tmp_path)).stdout
    assert "5 test (not shown)" in stats


def test_the_tier_is_chosen_in_the_configuration(cli: Cli, tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.unstall]\nfrequency = ["every", "test"]\n')
    assert len(_paths(cli, tmp_path)) == 7
    (tmp_path / "pyproject.toml").write_text('[tool.unstall]\nfrequency = ["tests"]\n')
    result = cli("--no-cache", str(tmp_path))
    assert result.returncode == 2
    assert "choose from every, first, startup, test, example, or all" in result.stderr


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/p/tests/x.py", True),
        ("/p/src/test/x.py", True),
        ("/p/test_x.py", True),
        ("/p/x_test.py", True),
        ("/p/conftest.py", True),
        # A library's helpers for its users' tests (litestar.testing, daphne.testing).
        ("/p/testing/x.py", True),
        ("/p/pkg/testing.py", True),
        ("/p/pkg/pytest_plugin.py", True),
        ("/p/pkg/pytest.py", True),  # a package's pytest plugin (aiomisc.pytest)
        ("/p/pkg/pytester_utils.py", False),
        ("/p/pkg/testings/x.py", False),
        ("/p/testinglib.py", False),
        ("/p/contest.py", False),
        ("/p/latest_x.py", False),
        ("/p/attest.py", False),
    ],
)
def test_what_counts_as_test_code(path: str, expected: bool) -> None:
    assert is_test_code(path, Path("/p")) is expected


def test_a_project_inside_a_tests_folder_is_not_all_test_code(tmp_path: Path) -> None:
    root = tmp_path / "tests" / "project"
    assert not is_test_code(str(root / "app.py"), root)
    assert is_test_code(str(root / "tests" / "app.py"), root)


def test_sarif_keeps_the_frequency_beside_the_entry(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BLOCKING)
    sarif = json.loads(cli("--no-cache", "--format", "sarif", str(tmp_path)).stdout)
    (result,) = sarif["runs"][0]["results"]
    # the entry and the frequency sit side by side (the entry once replaced the rest)
    assert result["properties"]["entry"] == "time.sleep"
    assert result["properties"]["frequency"] == "every"
    assert result["properties"]["fixSafe"] is True


def test_code_a_package_ships_in_a_folder_no_import_can_name_is_example_code(
    cli: Cli, tmp_path: Path
) -> None:
    package = tmp_path / "kit"
    (package / "snippets" / "snippet-files" / "project-template-Chat").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "snippets" / "__init__.py").write_text("")
    (package / "app.py").write_text(BLOCKING)
    template = package / "snippets" / "snippet-files" / "project-template-Chat" / "main.py"
    template.write_text(BLOCKING)
    # A service folder of a monorepo is named freely: it is not inside a package.
    (tmp_path / "user-service").mkdir()
    (tmp_path / "user-service" / "main.py").write_text(BLOCKING)
    assert _paths(cli, tmp_path, "--frequency", "all") == {
        "kit/app.py": "every",
        "kit/snippets/snippet-files/project-template-Chat/main.py": "example",
        "user-service/main.py": "every",
    }
    # Where the package ships it as importable code, it is the package's code.
    renamed = package / "snippets" / "snippet_files"
    (package / "snippets" / "snippet-files").rename(renamed)
    (renamed / "project-template-Chat").rename(renamed / "chat")
    assert _paths(cli, tmp_path, "--frequency", "all")[
        "kit/snippets/snippet_files/chat/main.py"
    ] == ("every")


def test_example_code_is_its_own_opt_in_tier(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "app.py").write_text(BLOCKING)
    for folder in ("examples/chat", "demos", "docs/src", "cookbook", "data/templates"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "main.py").write_text(BLOCKING)
    (tmp_path / "shop" / "examples.py").write_text(BLOCKING)  # a module, not a folder of them
    assert _paths(cli, tmp_path) == {"shop/app.py": "every", "shop/examples.py": "every"}
    assert _paths(cli, tmp_path, "--frequency", "example") == {
        "examples/chat/main.py": "example",
        "demos/main.py": "example",
        "docs/src/main.py": "example",
        "cookbook/main.py": "example",
        "data/templates/main.py": "example",
    }
    text = cli("--no-cache", str(tmp_path)).stdout
    assert "5 more in tiers not shown (5 example)" in text
    shown = cli("--no-cache", "--frequency", "example", str(tmp_path)).stdout
    assert "[example code: people run it by hand to learn from" in shown
    # Checking an example itself checks it as a project: its code is not example code there.
    assert _paths(cli, tmp_path / "examples" / "chat") == {"main.py": "every"}
    assert _paths(cli, tmp_path / "examples") == {"chat/main.py": "every"}
    # Test code stays test code inside an example folder.
    (tmp_path / "examples" / "chat" / "test_main.py").write_text(BLOCKING)
    assert _paths(cli, tmp_path, "--frequency", "all")["examples/chat/test_main.py"] == "test"
