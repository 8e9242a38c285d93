"""The last run's result, kept beside the summary cache: a re-run where nothing changed skips the analysis.

Beside it, under its own name, the last analysis's findings (before configuration and comments
silence any), keyed by what the analysis reads (:func:`analysis_key`): an edit that leaves
every file's summary as it was (a comment, a docstring) re-runs no analysis either.

The key covers everything a result depends on: unstall's version and code, the Python version,
the built-in catalog, the configuration (with the project's additions to the catalog), the
working folder, and the path, size, modification time and module name of every file checked. Any difference is a miss and the run goes the normal way.
Like the summary cache, the file is data only (:mod:`unstall.check._codec`), checked as it is
read; a corrupt, foreign or hostile one is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from unstall import __version__
from unstall.check._codec import FORMAT_VERSION, codec_for, read_records, write_data

__all__ = ("analysis_key", "load_result", "project_key", "save_result")

R = TypeVar("R")


def _code_fingerprint() -> bytes:
    # The analysis's code, and the built-in catalog: its table and the code that reads it (the
    # project's additions to it are in the configuration, which the keys cover as well).
    hasher = hashlib.blake2b(digest_size=16)
    folder = Path(__file__).parent
    catalog = folder.parent / "catalog"
    paths = [
        *sorted(folder.glob("*.py")),
        *sorted(catalog.glob("*.py")),
        *sorted(catalog.glob("*.toml")),
        folder.parent / "_config.py",
    ]
    for path in paths:
        with contextlib.suppress(OSError):
            hasher.update(path.name.encode())
            hasher.update(path.read_bytes())
    return hasher.digest()


def analysis_key(files: Iterable[tuple[str, str, bool, str]], *, config: str) -> str:
    """A digest of what the analysis reads: ``files`` as (shown path, module, is_package,
    summary id, or a problem's text), the configuration (the project's additions to the
    catalog among it), unstall's code and built-in catalog."""
    return _digest((config,), files)


def _digest(parts: Iterable[str], files: Iterable[tuple[object, ...]]) -> str:
    """A digest of unstall's version and code, the Python, ``parts`` and ``files``."""
    hasher = hashlib.blake2b(digest_size=20)
    for part in (__version__, sys.version, *parts):
        hasher.update(part.encode("utf-8", "backslashreplace"))
        hasher.update(b"\0")
    hasher.update(_code_fingerprint())
    for item in files:
        hasher.update(repr(item).encode("utf-8", "backslashreplace"))
    return hasher.hexdigest()


def project_key(
    files: Iterable[tuple[str, str, int, int, str, bool]], *, config: str, cwd: Path
) -> str:
    """A digest of one run's inputs: ``files`` as (shown path, path, size, mtime_ns, module,
    is_package), the configuration, the working folder, unstall's code and built-in catalog.

    The catalog is not parsed for it (that is a good part of a re-run's time): the built-in
    table is in the code's digest, the project's additions in the configuration."""
    return _digest((str(cwd), config), files)


def _file(directory: Path, cwd: Path, name: str) -> Path:
    where = hashlib.blake2b(str(cwd).encode(), digest_size=6).hexdigest()
    return directory / f"{name}-v{FORMAT_VERSION}-{where}.json"


def load_result(
    directory: Path, cwd: Path, key: str, kind: type[R], *, name: str = "result"
) -> R | None:
    """The ``kind`` record saved as ``name`` under ``key`` by the last run from ``cwd``, or ``None``."""
    loaded = read_records(_file(directory, cwd, name), kind)
    if loaded is None:
        return None
    rows, header = loaded
    return rows[0] if header.get("key") == key and len(rows) == 1 else None


def save_result(directory: Path, cwd: Path, key: str, result: R, *, name: str = "result") -> None:
    """Keep ``result`` as ``name`` under ``key`` (atomically); failures are ignored, as the cache is optional."""
    with contextlib.suppress(OSError, TypeError, ValueError):
        data = codec_for(type(result)).dumps([result], {"key": key})
        directory.mkdir(parents=True, exist_ok=True)
        write_data(_file(directory, cwd, name), data)
