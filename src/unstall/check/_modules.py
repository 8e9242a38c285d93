"""Module names of source files, from the package structure on disk (never by importing anything)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ("is_example_folder", "is_test_file", "is_test_module", "module_name")

_TEST_FOLDERS = frozenset({"tests", "test", "testing"})
# Folders of code that shows how to use a project, run by hand, not served.
_EXAMPLE_FOLDERS = frozenset(
    {
        "examples",
        "example",
        "demos",
        "demo",
        "samples",
        "sample",
        "docs",
        "docs_src",
        "tutorial",
        "tutorials",
        "cookbook",
        "templates",
        "template",
    }
)
# How many folders in a row without an __init__.py a package may hold as namespace portions.
_NAMESPACE_GAP = 2


def _package_prefix(folder: str) -> tuple[str, ...]:
    # The dotted parts of the package a folder is, or () when it is not a package. A folder is
    # a package while it holds an __init__.py and its name is an identifier; walking stops at
    # the first folder that is not, so src/ layouts and plain script folders come out right.
    # A folder without an __init__.py inside a package is a namespace portion of it
    # (``pkg/llms/azure/`` under ``pkg/llms/__init__.py`` is ``pkg.llms.azure``): up to
    # _NAMESPACE_GAP such folders in a row count when a package holds them.
    # Not cached: a few stat calls per file are cheap, and packages change between runs.
    parts: list[str] = []
    pending: list[str] = []  # identifier folders without an __init__.py, above the last package
    while True:
        name = os.path.basename(folder)
        if not name.isidentifier():
            break
        if os.path.isfile(os.path.join(folder, "__init__.py")):
            parts.extend(pending)
            pending.clear()
            parts.append(name)
        elif len(pending) >= _NAMESPACE_GAP:
            break
        else:
            pending.append(name)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return tuple(reversed(parts))


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted module name of the file at ``path`` and whether it is a package's ``__init__``.

    ``src/app/db/__init__.py`` is ``("app.db", True)`` when ``app/`` and ``app/db/`` hold an
    ``__init__.py``; a file outside any package is named by its stem (``script.py`` is
    ``("script", False)``). Only the file system is consulted, nothing is imported.
    """
    absolute = os.path.abspath(path)
    folder = os.path.dirname(absolute)
    stem = os.path.basename(absolute)
    for suffix in (".pyi", ".py", ".pyw"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    prefix = _package_prefix(folder)
    if stem == "__init__":
        if prefix:
            return ".".join(prefix), True
        return os.path.basename(folder) or "__init__", True
    return ".".join((*prefix, stem)), False


def is_test_file(folders: Iterable[str], name: str) -> bool:
    """Whether the file or module ``name`` (with ``.py`` or without) in ``folders`` (folder or
    package names) is test code: in a ``tests``, ``test`` or ``testing`` folder, or a ``test_*``,
    ``*_test``, ``testing``, ``pytest_plugin``, ``pytest`` (a package's plugin:
    ``aiomisc.pytest``) or ``conftest`` module (a library's ``testing`` module and pytest plugin
    hold the helpers and fixtures its users' tests run: ``litestar.testing``,
    ``daphne.testing``)."""
    stem = name.removesuffix(".py")
    return (
        stem in ("conftest", "testing", "pytest_plugin", "pytest")
        or stem.startswith("test_")
        or stem.endswith("_test")
        or any(folder in _TEST_FOLDERS for folder in folders)
    )


def is_example_folder(folder: str) -> bool:
    """Whether a folder of that name holds example or demo code: ``examples``, ``demos``,
    ``samples``, ``docs`` (``docs_src``), ``tutorial(s)``, ``cookbook``, ``template(s)`` (a
    project scaffold copied into a user's new project)."""
    return folder in _EXAMPLE_FOLDERS


def is_test_module(module: str, is_package: bool) -> bool:
    """Whether the module of dotted name ``module`` (a package's ``__init__`` when
    ``is_package``) is test code, by :func:`is_test_file`."""
    parts = module.split(".")
    if is_package:
        return is_test_file(parts, "__init__")
    return is_test_file(parts[:-1], parts[-1])
