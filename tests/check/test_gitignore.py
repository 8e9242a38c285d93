""".gitignore files: the pattern language (checked against git itself) and what discovery skips."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unstall.check._discover import discover
from unstall.check._gitignore import compile_patterns, git_dir, work_tree

Project = Callable[[Mapping[str, str | bytes]], Path]
Cli = Callable[..., "subprocess.CompletedProcess[str]"]

# (patterns, path, is a folder) -> ignored? Each row is also asked of git (see below).
PATTERNS = [
    "*.log",
    "!keep.log",
    "/rooted.py",
    "build/",
    "docs/**/gen_*.py",
    "**/cache/*.py",
    "out/**",
    "a?c.py",
    "[bc]at.py",
    "[!x]ray.py",
    r"\#hash.py",
    r"\!bang.py",
    "trailing.py   ",
    r"space\ .py",
    "nested/deep/",
    "mid/*.py",
    "*.[oa]",
    "x**y.py",
]
PATHS = [
    ("a.log", False),
    ("sub/a.log", False),
    ("sub/keep.log", False),
    ("rooted.py", False),
    ("sub/rooted.py", False),
    ("build", True),
    ("sub/build", True),
    ("docs/gen_a.py", False),
    ("docs/x/y/gen_a.py", False),
    ("docs/x/y/other.py", False),
    ("cache/m.py", False),
    ("p/q/cache/m.py", False),
    ("p/q/cache/r/m.py", False),
    ("out/a.py", False),
    ("out/x/a.py", False),
    ("out", True),
    ("abc.py", False),
    ("abbc.py", False),
    ("cat.py", False),
    ("hat.py", False),
    ("gray.py", False),
    ("xray.py", False),
    ("#hash.py", False),
    ("!bang.py", False),
    ("trailing.py", False),
    ("space .py", False),
    ("nested/deep", True),
    ("q/nested/deep", True),
    ("mid/a.py", False),
    ("mid/b/a.py", False),
    ("sub/mid/a.py", False),
    ("lib.a", False),
    ("lib.b", False),
    ("xay.py", False),
    ("x/y.py", False),
]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to compare with")
def test_patterns_agree_with_git(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=60)
    (tmp_path / ".gitignore").write_text("\n".join(PATTERNS) + "\n", encoding="utf-8")
    for path, is_dir in PATHS:
        target = tmp_path / path
        if is_dir:
            target.mkdir(parents=True, exist_ok=True)
    # Folders exist on disk, so git knows them for folders without a trailing slash (with
    # one, git matches "out/" against "out/**", which a real traversal never does).
    asked = [path for path, _ in PATHS]
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", "--stdin"],
        cwd=tmp_path,
        input="\n".join(asked) + "\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr
    by_git = {}
    for line in done.stdout.splitlines():
        source, _, path = line.partition("\t")
        pattern = source.split(":", 2)[-1]
        by_git[path] = bool(pattern) and not pattern.startswith("!")
    ignore = compile_patterns(PATTERNS)
    ours = {
        name: bool(ignore.match(path, is_dir=is_dir))
        for name, (path, is_dir) in zip(asked, PATHS, strict=True)
    }
    assert ours == by_git, json.dumps(PATTERNS)


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "expected"),
    [
        ("*.py", "a/b.py", False, True),
        ("/a.py", "a.py", False, True),
        ("/a.py", "b/a.py", False, None),
        ("a/", "a", False, None),
        ("a/", "a", True, True),
        ("**", "any/thing", False, True),
        ("a/**/b", "a/b", False, True),
        ("a/**/b", "a/x/y/b", False, True),
        ("a/**/**/b", "a/x/b", False, True),
        ("[[:digit:]]x.py", "7x.py", False, True),
        ("[[:digit:]]x.py", "ax.py", False, None),
        ("[a-c]", "b", False, True),
        ("[]]", "]", False, True),
        # pairs Python's re reads as set operations (``--``, ``&&``, ``~~``, ``||``) are literal
        ("[--a]", "-", False, True),
        ("[--a]", "b", False, None),
        ("[a-c-e]", "-", False, True),
        ("[a-c-e]", "d", False, None),
        ("[&&]", "&", False, True),
        ("[~~]x", "~x", False, True),
        ("[||]", "|", False, True),
        (
            "[:--:]",
            ":",
            False,
            None,
        ),  # a range from ':' down to '-' is no range: the rule is left out
        ("[", "[", False, True),
        ("*.py\r", "a.py", False, True),
        ("# comment", "# comment", False, None),
        ("", "", False, None),
        ("!", "!", False, None),
    ],
)
def test_pattern_table(pattern: str, path: str, is_dir: bool, expected: bool | None) -> None:
    assert compile_patterns([pattern]).match(path, is_dir=is_dir) is expected


@given(
    lines=st.lists(st.text(alphabet="ab/*?[]!\\#:-^ .", max_size=12), max_size=6),
    path=st.text(alphabet="ab/.", min_size=1, max_size=10),
    is_dir=st.booleans(),
)
def test_any_pattern_file_matches_without_raising(
    lines: list[str], path: str, is_dir: bool
) -> None:
    assert compile_patterns(lines).match(path, is_dir=is_dir) in (True, False, None)


def test_last_match_wins_and_negation_re_includes() -> None:
    rules = compile_patterns(["*.py", "!keep.py", "keep.py"])
    assert rules.match("keep.py", is_dir=False) is True
    rules = compile_patterns(["*.py", "!keep.py"])
    assert rules.match("keep.py", is_dir=False) is False


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def shown(root: Path, *paths: str, gitignore: bool = True) -> list[str]:
    given = [Path(p) for p in paths] or [Path(".")]
    found = discover(given, root=root, cwd=root, respect_gitignore=gitignore)
    return [name for name, _ in found]


def test_discovery_in_a_work_tree(tmp_path: Path) -> None:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("local_*.py\n", encoding="utf-8")
    touch(tmp_path, "app.py", "gen/x.py", "pkg/a.py", "pkg/b_pb2.py", "pkg/keep_pb2.py")
    touch(tmp_path, "local_notes.py", "pkg/sub/c.py", "pkg/sub/d.py")
    (tmp_path / ".gitignore").write_text("gen/\n*_pb2.py\n", encoding="utf-8")
    (tmp_path / "pkg" / ".gitignore").write_text("!keep_pb2.py\n/sub/d.py\n", encoding="utf-8")
    assert shown(tmp_path) == ["app.py", "pkg/a.py", "pkg/keep_pb2.py", "pkg/sub/c.py"]
    assert len(shown(tmp_path, gitignore=False)) == 8
    # A folder below the top sees its parents' rules; a file named explicitly is checked.
    assert shown(tmp_path, "pkg") == ["pkg/a.py", "pkg/keep_pb2.py", "pkg/sub/c.py"]
    assert shown(tmp_path, "gen/x.py", "pkg/b_pb2.py") == ["gen/x.py", "pkg/b_pb2.py"]


def test_discovery_in_a_subfolder_of_a_work_tree(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*_generated.py\n", encoding="utf-8")
    touch(tmp_path, "project/app.py", "project/models_generated.py")
    assert shown(tmp_path / "project") == ["app.py"]


def test_outside_a_work_tree_the_project_root_rules(tmp_path: Path) -> None:
    touch(tmp_path, "project/app.py", "project/gen/x.py")
    (tmp_path / ".gitignore").write_text("*.py\n", encoding="utf-8")  # above the project: not read
    (tmp_path / "project" / ".gitignore").write_text("gen/\n", encoding="utf-8")
    assert shown(tmp_path / "project") == ["app.py"]


def test_a_linked_work_tree_reads_the_common_exclude_file(tmp_path: Path) -> None:
    common = tmp_path / "repo" / ".git"
    linked = common / "worktrees" / "feature"
    linked.mkdir(parents=True)
    (linked / "commondir").write_text("../..\n", encoding="utf-8")
    (common / "info").mkdir()
    (common / "info" / "exclude").write_text("scratch.py\n", encoding="utf-8")
    tree = tmp_path / "feature"
    tree.mkdir()
    (tree / ".git").write_text(f"gitdir: {linked}\n", encoding="utf-8")
    touch(tree, "app.py", "scratch.py")
    assert work_tree(str(tree / "sub")) == str(tree)
    assert git_dir(str(tree)) == os.path.normpath(common)
    assert shown(tree) == ["app.py"]


def test_cli_switch_and_config_key(project: Project, cli: Cli) -> None:
    project({"app.py": "x = 1\n", "gen/x.py": "y = 2\n", ".gitignore": "gen/\n"})
    assert cli("--show-files").stdout.splitlines() == ["app.py"]
    assert cli("--show-files", "--no-respect-gitignore").stdout.splitlines() == [
        "app.py",
        "gen/x.py",
    ]
    Path("pyproject.toml").write_text(
        "[tool.unstall]\nrespect-gitignore = false\n", encoding="utf-8"
    )
    assert len(cli("--show-files").stdout.splitlines()) == 2
    assert cli("--show-files", "--respect-gitignore").stdout.splitlines() == ["app.py"]
    Path("pyproject.toml").write_text(
        '[tool.unstall]\nrespect-gitignore = "no"\n', encoding="utf-8"
    )
    bad = cli("--show-files")
    assert bad.returncode == 2
    assert "respect-gitignore" in bad.stderr
