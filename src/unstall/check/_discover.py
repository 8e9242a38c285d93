"""Find the Python files to check under the paths a user gives."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from unstall.check._gitignore import IgnoreRules
from unstall.errors import ConfigError

__all__ = ("DEFAULT_EXCLUDES", "discover", "display_path", "matches_any")

# Folders that hold other people's code or build output; skipped unless given explicitly.
DEFAULT_EXCLUDES = frozenset(
    {
        ".venv",
        "venv",
        "__pycache__",
        ".git",
        "node_modules",
        "build",
        "dist",
        "site-packages",
        ".tox",
        ".nox",
        ".eggs",
    }
)


def matches_any(relative: str, globs: Iterable[str]) -> bool:
    """Whether the ``/``-separated ``relative`` path (or its last part) matches one of ``globs``."""
    name = relative.rsplit("/", 1)[-1]
    for glob in globs:
        pattern = glob.rstrip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        if fnmatch.fnmatchcase(relative, pattern) or (
            "/" not in pattern and fnmatch.fnmatchcase(name, pattern)
        ):
            return True
        if pattern.endswith("/**") and (
            relative == pattern[:-3] or fnmatch.fnmatchcase(relative, pattern[:-3])
        ):
            return True
    return False


def display_path(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when inside it (``/``-separated), else absolute."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def _relative(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return rel.replace(os.sep, "/")


def discover(
    paths: Sequence[Path],
    *,
    root: Path,
    exclude: Sequence[str] = (),
    cwd: Path | None = None,
    respect_gitignore: bool = True,
    folders: set[str] | None = None,
) -> list[tuple[str, Path]]:
    """Every ``*.py`` file under ``paths`` as ``(display path, absolute path)``, sorted, without duplicates.

    Folders are searched recursively, skipping hidden folders, :data:`DEFAULT_EXCLUDES`,
    anything matching ``exclude`` (globs relative to ``root``) and, with
    ``respect_gitignore``, what ``.gitignore`` files ignore (see ``_gitignore``). A file or
    folder named explicitly is always checked. ``folders``, when given, receives every folder
    searched (``--watch`` watches them for new files). Raises :class:`ConfigError` for a path
    that does not exist.
    """
    cwd = (cwd or Path.cwd()).resolve()
    root_text = str(root.resolve())
    found: dict[str, str] = {}
    for given in paths:
        absolute = given if given.is_absolute() else cwd / given
        absolute = Path(os.path.normpath(absolute))
        if not absolute.exists() and not absolute.is_symlink():
            raise ConfigError(
                f"The path {str(given)!r} does not exist; pass existing files or folders.",
                key="PATH",
                source="command line",
            )
        if not absolute.is_dir():
            found.setdefault(str(absolute), display_path(absolute, cwd))
            continue
        rules = IgnoreRules.around(str(absolute), root_text) if respect_gitignore else None
        for folder, dirnames, filenames in os.walk(absolute):
            if folders is not None:
                folders.add(folder)
            ignores = (
                rules.for_folder(folder, has_file=".gitignore" in filenames)
                if rules is not None
                else ()
            )
            keep = []
            for name in dirnames:
                if name.startswith(".") or name in DEFAULT_EXCLUDES:
                    continue
                full = os.path.join(folder, name)
                if (
                    ignores
                    and rules is not None
                    and rules.ignored(full, is_dir=True, files=ignores)
                ):
                    continue
                if name.endswith(".py"):
                    # A folder named like a module cannot be imported as one: reported as unreadable.
                    found.setdefault(full, display_path(Path(full), cwd))
                    continue
                if exclude and matches_any(_relative(full, root_text), exclude):
                    continue
                keep.append(name)
            dirnames[:] = sorted(keep)
            for name in filenames:
                if not name.endswith(".py"):
                    continue
                full = os.path.join(folder, name)
                if exclude and matches_any(_relative(full, root_text), exclude):
                    continue
                if (
                    ignores
                    and rules is not None
                    and rules.ignored(full, is_dir=False, files=ignores)
                ):
                    continue
                if full not in found:
                    found[full] = display_path(Path(full), cwd)
    return sorted(((shown, Path(full)) for full, shown in found.items()), key=lambda pair: pair[0])
