"""The per-file summary cache of ``unstall check``.

One JSON file per (working folder, unstall version, Python minor version, summarizer source,
cache format) holds, for each checked file, its size and mtime (so an unchanged file is not
even read), its content digest (so a touched but unchanged file is not re-summarized), its
module name, and the summary (or its syntax-error finding). One file per run measured faster
than one file per source file: a warm run is one read and one decode instead of thousands of
opens.

A run that changes few entries does not rewrite that file: the entries it changed since the
file was last written in full go to a small second file, the *edits* file, tied to the full
one by a random token in both headers (edits of another full file are ignored). A one-file
edit of a large tree then writes kilobytes, not megabytes; once the edits outgrow a fraction of
the whole, the next save writes the full file again and drops the edits file.

The file sits in the checked folder, so it is data only (:mod:`unstall.check._codec`: no
pickle, nothing that can run code) and checked as it is read: a corrupt, foreign or hostile
file is ignored (the run is cold) and rewritten. Writes are atomic (temporary file, then
``os.replace``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import count
from operator import attrgetter, lt
from pathlib import Path
from typing import NamedTuple

from unstall import __version__
from unstall.check._codec import FORMAT_VERSION, codec_for, read_records, write_data
from unstall.check._model import Finding
from unstall.check._summary_types import ModuleSummary

__all__ = ("Cache", "CacheEntry", "default_cache_dir")

_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by unstall.\n"


def default_cache_dir(root: Path) -> Path:
    """``$UNSTALL_CACHE_DIR`` when set, else ``.unstall_cache`` in the project root.

    When the project's ``.unstall_cache`` is a symbolic link (a checked repository can carry
    one), the cache goes to a folder of the user's own cache directory instead: writing through
    the link would put files wherever the repository points it.
    """
    env = os.environ.get("UNSTALL_CACHE_DIR")
    if env:
        return Path(env)
    folder = root / ".unstall_cache"
    if folder.is_symlink():
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        digest = hashlib.sha256(os.fsencode(os.path.abspath(root))).hexdigest()[:16]
        return Path(base) / "unstall" / digest
    return folder


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What is remembered about one file. ``result`` is a module summary or a UNS901 finding
    (``None`` only on its way back from a worker that found the content unchanged, never
    stored); ``suppressions`` the file's suppression comments, once they were needed."""

    size: int
    mtime_ns: int
    digest: str
    module: str
    is_package: bool
    lines: int
    result: ModuleSummary | Finding | None
    # Suppression comments by line, computed the first time the file has a finding.
    suppressions: Mapping[int, frozenset[str]] | None = None
    # The digest of the content this summary was first made from, when edits since left the
    # summary as it was (empty: ``digest``'s); see :attr:`summary_id`.
    summarized_from: str = ""

    @property
    def summary_id(self) -> str:
        """What names this summary: two entries with one ``summary_id`` hold equal summaries,
        so the analysis of a project whose every ``summary_id`` is unchanged is unchanged."""
        return self.summarized_from or self.digest


# The edits file is rewritten in full (base file and all) past this many edited entries, or past
# this fraction of all entries, whichever is larger.
_EDITS_AT_LEAST = 64
_EDITS_FRACTION = 8


class _Stored(NamedTuple):
    """One row of the cache file: a file's display path and what is remembered about it."""

    path: str
    entry: CacheEntry


_parent = attrgetter("parent")
_guard = attrgetter("guard")


def _sound(entry: CacheEntry) -> bool:
    """Whether the links inside ``entry`` are ones the summarizer makes: a use's enclosing
    call and a guard's enclosing guard come before it (so following them ends), and a use's
    guard is one of its function's. A file that holds other links is not used."""
    summary = entry.result
    if isinstance(summary, Finding):
        return True
    if summary is None:
        return False
    for info in summary.functions:
        uses, guards = info.uses, info.guards
        for links in (uses, guards):
            if links:
                parents = list(map(_parent, links))
                if min(parents) < -1 or not all(map(lt, parents, count())):
                    return False
        if uses:
            owned = list(map(_guard, uses))
            if min(owned) < -1 or max(owned) >= len(guards):
                return False
    return True


# The files of the code that builds summaries (every module ``_summary`` and ``_worker`` import
# from this package, and the cache's own format): a change to any of them invalidates the cache.
_SUMMARIZER_FILES = (
    "_summary.py",
    "_summary_types.py",
    "_scope.py",
    "_bind.py",
    "_walk.py",
    "_walk_expr.py",
    "_guards.py",
    "_loop_guard.py",
    "_context.py",
    "_file_context.py",
    "_concurrency_facts.py",
    "_concurrency_walk.py",
    "_model.py",
    "_modules.py",
    "_cache.py",
    "_codec.py",
    "_codec_kinds.py",
    "_worker.py",
    "_read.py",
    "_syntax.py",
)


def _summarizer_fingerprint() -> str:
    # Any change to the code that builds summaries invalidates the cache.
    hasher = hashlib.blake2b(digest_size=8)
    folder = Path(__file__).parent
    for name in _SUMMARIZER_FILES:
        with contextlib.suppress(OSError):
            hasher.update((folder / name).read_bytes())
    return hasher.hexdigest()


class Cache:
    """Summaries of files from earlier runs, loaded once and saved once. Not thread-safe."""

    def __init__(self, directory: Path, *, cwd: Path) -> None:
        self.directory = directory
        key = hashlib.blake2b(str(cwd.resolve()).encode(), digest_size=6).hexdigest()
        minor = f"{sys.version_info.major}{sys.version_info.minor}"
        self._key, self._minor = key, minor
        self.file = (
            directory
            / f"check-{__version__}-py{minor}-v{FORMAT_VERSION}-{_summarizer_fingerprint()}-{key}.json"
        )
        self.edits_file = self.file.with_name("edits-" + self.file.name.removeprefix("check-"))
        self.entries: dict[str, CacheEntry] = {}
        self.changed = False
        # The token of the full file as read, and the paths whose entries differ from it.
        self._token: str | None = None
        self._edited: set[str] = set()
        self._load()

    def _load(self) -> None:
        loaded = _read_rows(self.file)
        if loaded is None:
            return
        entries, header = loaded
        token = header.get("token")
        edits = _read_rows(self.edits_file) if token else None
        if edits is not None and edits[1].get("base") == token:
            entries.update(edits[0])
            self._edited = set(edits[0])
        self.entries = entries
        self._token = token

    def get(self, path: str) -> CacheEntry | None:
        """The entry remembered for the display path ``path``."""
        return self.entries.get(path)

    def put(self, path: str, entry: CacheEntry) -> None:
        """Remember ``entry`` for ``path`` (saved by :meth:`save`)."""
        self.entries[path] = entry
        self._edited.add(path)
        self.changed = True

    def save(self) -> None:
        """Write the entries atomically if anything changed: the edits since the full file
        when they are few, else the full file. Failures to write are ignored (the cache is optional)."""
        if not self.changed:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # ``lexists``: a link planted under either name is left alone, never written through.
            tag = self.directory / "CACHEDIR.TAG"
            if not os.path.lexists(tag):
                tag.write_text(_TAG, encoding="utf-8")
            ignore = self.directory / ".gitignore"
            if not os.path.lexists(ignore):
                ignore.write_text(
                    "# Created by unstall: the whole folder is a cache.\n*\n", encoding="utf-8"
                )
            codec = codec_for(_Stored)
            limit = max(_EDITS_AT_LEAST, len(self.entries) // _EDITS_FRACTION)
            if self._token is not None and len(self._edited) <= limit:
                rows = [_Stored(path, self.entries[path]) for path in sorted(self._edited)]
                write_data(self.edits_file, codec.dumps(rows, {"base": self._token}))
            else:
                token = secrets.token_hex(8)
                rows = [_Stored(*item) for item in self.entries.items()]
                write_data(self.file, codec.dumps(rows, {"token": token}))
                self._token, self._edited = token, set()
                with contextlib.suppress(OSError):
                    os.unlink(self.edits_file)
                self._remove_stale()
        except (OSError, TypeError, ValueError):
            # TypeError, ValueError: a value the codec cannot store (a bug; its tests name it)
            return
        self.changed = False

    def _remove_stale(self) -> None:
        """Delete this project's cache files that no run of this Python reads again: those of
        other unstall versions or summarizers, and the pickles of older releases (never opened)."""
        keep = {self.file.name, self.edits_file.name}
        patterns = (
            f"check-*-py{self._minor}-*-{self._key}.json",
            f"edits-*-py{self._minor}-*-{self._key}.json",
            f"*-{self._key}.pickle",
        )
        for pattern in patterns:
            for stale in self.directory.glob(pattern):
                if stale.name not in keep:
                    with contextlib.suppress(OSError):
                        os.unlink(stale)


def _read_rows(file: Path) -> tuple[dict[str, CacheEntry], dict[str, str]] | None:
    """The entries of one cache file (full or edits) by path, and its header; ``None`` when it
    is missing, corrupt, foreign, or holds links the summarizer never makes."""
    loaded = read_records(file, _Stored)
    if loaded is None:
        return None
    rows, header = loaded
    entries = dict(rows)
    if len(entries) != len(rows) or not all(map(_sound, entries.values())):
        return None
    return entries, header
