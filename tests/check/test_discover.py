"""Which files ``unstall check`` looks at."""

from __future__ import annotations

from pathlib import Path

import pytest

from unstall.check._discover import discover, matches_any
from unstall.errors import ConfigError


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def shown(tmp_path: Path, *paths: str, exclude: tuple[str, ...] = ()) -> list[str]:
    given = [Path(p) for p in paths] or [Path(".")]
    return [name for name, _ in discover(given, root=tmp_path, exclude=exclude, cwd=tmp_path)]


def test_recurses_for_python_files_only_and_sorts(tmp_path: Path) -> None:
    touch(tmp_path, "b.py", "a/c.py", "a/__init__.py", "a/notes.txt", "a/stub.pyi")
    assert shown(tmp_path) == ["a/__init__.py", "a/c.py", "b.py"]


@pytest.mark.parametrize(
    "folder",
    [
        ".hidden",
        ".venv",
        "venv",
        "__pycache__",
        ".git",
        "node_modules",
        "build",
        "dist",
        "site-packages",
    ],
)
def test_skips_tool_and_vendored_folders(tmp_path: Path, folder: str) -> None:
    touch(tmp_path, "keep.py", f"{folder}/skip.py", f"pkg/{folder}/skip.py")
    assert shown(tmp_path) == ["keep.py"]


def test_a_skipped_folder_given_explicitly_is_checked(tmp_path: Path) -> None:
    touch(tmp_path, "build/gen.py")
    assert shown(tmp_path, "build") == ["build/gen.py"]


def test_exclude_globs_relative_to_the_root(tmp_path: Path) -> None:
    touch(tmp_path, "src/app.py", "src/gen/x_pb2.py", "tests/fixtures/data.py", "tests/test_app.py")
    assert shown(tmp_path, exclude=("*_pb2.py", "tests/fixtures/**")) == [
        "src/app.py",
        "tests/test_app.py",
    ]
    assert shown(tmp_path, exclude=("tests",)) == ["src/app.py", "src/gen/x_pb2.py"]


def test_explicit_files_are_always_checked(tmp_path: Path) -> None:
    touch(tmp_path, "gen_pb2.py", "script")
    assert shown(tmp_path, "gen_pb2.py", "script", exclude=("*_pb2.py",)) == [
        "gen_pb2.py",
        "script",
    ]


def test_duplicates_are_checked_once(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/a.py")
    assert shown(tmp_path, "pkg", "pkg/a.py", ".") == ["pkg/a.py"]


def test_missing_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'nope\.py' does not exist"):
        shown(tmp_path, "nope.py")


def test_broken_symlink_and_folder_named_like_a_module_are_listed(tmp_path: Path) -> None:
    (tmp_path / "broken.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "odd.py").mkdir()
    assert shown(tmp_path) == ["broken.py", "odd.py"]


def test_paths_outside_cwd_are_absolute(tmp_path: Path) -> None:
    touch(tmp_path, "out/a.py")
    (tmp_path / "cwd").mkdir()
    found = discover([tmp_path / "out"], root=tmp_path, cwd=tmp_path / "cwd")
    assert found == [((tmp_path / "out" / "a.py").as_posix(), tmp_path / "out" / "a.py")]


@pytest.mark.parametrize(
    ("relative", "glob", "expected"),
    [
        ("a/b/c.py", "c.py", True),
        ("a/b/c.py", "a/**", True),
        ("a", "a/**", True),
        ("a/b/c.py", "b/*.py", False),
        ("x.py", "./x.py", True),
    ],
)
def test_matches_any(relative: str, glob: str, expected: bool) -> None:
    assert matches_any(relative, (glob,)) is expected
