"""The per-file summary cache of ``unstall check``.

One pickle file per (working folder, unstall version, Python minor version, summarizer
source) holds, for each checked file, its size and mtime (so an unchanged file is not even
read), its content digest (so a touched but unchanged file is not re-summarized), its module
name, and the summary (or its syntax-error finding). One file per run measured faster than
one file per source file: a warm run is one read and one unpickle instead of thousands of
opens. Writes are atomic (temporary file, then ``os.replace``); a corrupt or foreign cache
file is ignored and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unstall import __version__

__all__ = ("Cache", "CacheEntry", "default_cache_dir")

_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by unstall.\n"


def default_cache_dir(root: Path) -> Path:
    """``$UNSTALL_CACHE_DIR`` when set, else ``.unstall_cache`` in the project root."""
    env = os.environ.get("UNSTALL_CACHE_DIR")
    return Path(env) if env else root / ".unstall_cache"


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What is remembered about one file. ``result`` is a module summary or a UNS901 finding;
    ``suppressions`` the file's suppression comments, once they were needed."""

    size: int
    mtime_ns: int
    digest: str
    module: str
    is_package: bool
    lines: int
    result: Any
    # Suppression comments by line, computed the first time the file has a finding.
    suppressions: Mapping[int, frozenset[str]] | None = None


def _summarizer_fingerprint() -> str:
    # Summaries are pickled objects: any change to the code that builds them invalidates the cache.
    hasher = hashlib.blake2b(digest_size=8)
    folder = Path(__file__).parent
    for name in (
        "_summary.py",
        "_summary_types.py",
        "_scope.py",
        "_bind.py",
        "_walk.py",
        "_walk_expr.py",
        "_file_context.py",
        "_concurrency_facts.py",
        "_concurrency_walk.py",
        "_model.py",
        "_modules.py",
        "_cache.py",
        "_worker.py",
    ):
        with contextlib.suppress(OSError):
            hasher.update((folder / name).read_bytes())
    return hasher.hexdigest()


class Cache:
    """Summaries of files from earlier runs, loaded once and saved once. Not thread-safe."""

    def __init__(self, directory: Path, *, cwd: Path) -> None:
        self.directory = directory
        key = hashlib.blake2b(str(cwd.resolve()).encode(), digest_size=6).hexdigest()
        minor = f"{sys.version_info.major}{sys.version_info.minor}"
        self.file = (
            directory / f"check-{__version__}-py{minor}-{_summarizer_fingerprint()}-{key}.pickle"
        )
        self.entries: dict[str, CacheEntry] = {}
        self.changed = False
        self._load()

    def _load(self) -> None:
        try:
            data = self.file.read_bytes()
        except OSError:
            return
        try:
            loaded = pickle.loads(data)
        except Exception:
            return
        if isinstance(loaded, dict) and all(
            isinstance(value, CacheEntry) for value in loaded.values()
        ):
            self.entries = loaded

    def get(self, path: str) -> CacheEntry | None:
        """The entry remembered for the display path ``path``."""
        return self.entries.get(path)

    def put(self, path: str, entry: CacheEntry) -> None:
        """Remember ``entry`` for ``path`` (saved by :meth:`save`)."""
        self.entries[path] = entry
        self.changed = True

    def save(self) -> None:
        """Write the entries atomically if anything changed; failures to write are ignored (the cache is optional)."""
        if not self.changed:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tag = self.directory / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text(_TAG, encoding="utf-8")
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text(
                    "# Created by unstall: the whole folder is a cache.\n*\n", encoding="utf-8"
                )
            fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump(self.entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.file)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except (OSError, pickle.PicklingError):
            return
        self.changed = False
