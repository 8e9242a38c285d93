"""``.gitignore`` rules, read the way git reads them, so ``unstall check`` skips what git ignores.

Each ``.gitignore`` file holds patterns relative to its own folder (gitignore(5)): ``#``
comments, ``!`` to re-include, a trailing ``/`` for folders only, a ``/`` at the start or in
the middle to anchor the pattern to that folder (otherwise it matches a name at any depth),
``*``, ``?``, ``[...]`` and ``**`` as whole path segments, ``\\`` to escape. The last matching
pattern decides, and a deeper file's patterns come after its parents'.

Inside a git work tree the files from its top down count, plus ``.git/info/exclude``; outside
one, the files from the project root down (so a source archive without ``.git`` is checked
like its repository). The user's global excludes file is left out on purpose: it is personal,
and a check must give the same answer on every machine and in CI.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ("IgnoreFile", "IgnoreRules", "compile_patterns", "git_dir", "work_tree")

# POSIX character classes wildmatch understands inside brackets, as Python class contents.
_POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


def _bracket(pattern: str, start: int) -> tuple[str, int] | None:
    """The Python class for the bracket expression at ``pattern[start] == '['`` and the index after it, or None when unclosed."""
    index = start + 1
    negate = index < len(pattern) and pattern[index] in "!^"
    if negate:
        index += 1
    parts: list[str] = []
    first = True
    # whether the last part is a single character a ``-`` may start a range from (not a range's
    # end, a POSIX class or the ``-`` itself): every other ``-`` is a literal one
    ranges_from = False
    while index < len(pattern):
        char = pattern[index]
        if char == "]" and not first:
            body = "".join(parts)
            return (f"[^/{body}]" if negate else f"[{body}]"), index + 1
        first = False
        if char == "[" and pattern.startswith("[:", index):
            end = pattern.find(":]", index + 2)
            name = pattern[index + 2 : end] if end != -1 else ""
            if name in _POSIX_CLASSES:
                parts.append(_POSIX_CLASSES[name])
                ranges_from = False
                index = end + 2
                continue
        if char == "\\" and index + 1 < len(pattern):
            index += 1
            char = pattern[index]
        elif char == "-" and ranges_from and index + 1 < len(pattern) and pattern[index + 1] != "]":
            parts.append("-")
            ranges_from = False
            index += 1
            continue
        # every literal escaped, so no pair of them reads as a set operation (``--``, ``&&``)
        parts.append("\\" + char if not char.isalnum() else char)
        ranges_from = not (len(parts) > 1 and parts[-2] == "-")
        index += 1
    return None


def _segment(part: str) -> str:
    """The regex of one path segment: ``*`` and ``?`` never cross a ``/``."""
    out: list[str] = []
    index = 0
    while index < len(part):
        char = part[index]
        if char == "*":
            while index + 1 < len(part) and part[index + 1] == "*":
                index += 1  # "a**b" is "a*b": only a whole segment "**" crosses folders
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            bracket = _bracket(part, index)
            if bracket is None:
                out.append(re.escape(char))
            else:
                text, index = bracket
                out.append(text)
                continue
        elif char == "\\" and index + 1 < len(part):
            index += 1
            out.append(re.escape(part[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def _translate(pattern: str) -> str:
    """The regex (matched against a whole ``/``-separated relative path) of an anchored pattern."""
    parts: list[str] = []
    for part in pattern.split("/"):
        if part == "**" and parts and parts[-1] == "**":
            continue
        parts.append(part)
    regex: list[str] = []
    last = len(parts) - 1
    for index, part in enumerate(parts):
        if part == "**":
            if index == 0:
                regex.append(".*" if index == last else "(?:.*/)?")
            else:
                regex.append("/.*" if index == last else "/(?:.*/)?")
            continue
        if index > 0 and parts[index - 1] != "**":
            regex.append("/")
        regex.append(_segment(part))
    return "".join(regex)


def _strip_trailing_spaces(line: str) -> str:
    # Trailing spaces are dropped unless the last one is escaped with a backslash.
    end = len(line)
    while end > 0 and line[end - 1] == " ":
        backslashes = 0
        while end - 2 - backslashes >= 0 and line[end - 2 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2:
            break
        end -= 1
    return line[:end]


class _Scope(enum.Enum):
    """What part of a path a pattern is matched against."""

    LITERAL = "literal"  # a plain name at any depth: a dictionary look-up of the last part
    NAME = "name"  # a glob without "/": the last part of the path, at any depth
    PATH = "path"  # anchored (a "/" at the start or in the middle): the whole relative path


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: str  # the literal name, or the regex
    scope: _Scope
    negate: bool
    folders_only: bool


def _rule(line: str) -> _Rule | None:
    line = _strip_trailing_spaces(line.rstrip("\r\n"))
    if not line or line.startswith("#"):
        return None
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    folders_only = line.endswith("/") and not line.endswith("\\/")
    if folders_only:
        line = line.rstrip("/")
    if not line:
        return None
    # A slash at the start or in the middle anchors the pattern to the file's folder.
    if "/" in line:
        return _Rule(_translate(line.removeprefix("/")), _Scope.PATH, negate, folders_only)
    if not any(char in line for char in "*?[\\"):
        return _Rule(line, _Scope.LITERAL, negate, folders_only)
    return _Rule(_translate(line), _Scope.NAME, negate, folders_only)


def _alternatives(
    rules: Sequence[tuple[int, _Rule]],
) -> tuple[re.Pattern[str] | None, tuple[int, ...]]:
    """One regex of ``rules`` (numbered), last rule first, and the number of each alternative:
    the first alternative that matches is the last rule that does."""
    kept: list[tuple[int, _Rule]] = []
    for number, rule in reversed(rules):
        try:
            re.compile(rule.pattern)
        except re.error:
            continue  # a pattern this translation cannot express must not stop the run
        kept.append((number, rule))
    if not kept:
        return None, ()
    regex = re.compile("|".join(f"({rule.pattern})" for _, rule in kept), re.DOTALL)
    return regex, tuple(number for number, _ in kept)


class _Matcher:
    """Numbered rules split by scope: a plain name is a dictionary look-up, globs on names and
    anchored paths are one regex each; the highest-numbered rule that matches decides."""

    __slots__ = ("_literal", "_names", "_negate", "_paths")

    def __init__(self, rules: Sequence[tuple[int, _Rule]], negate: Sequence[bool]) -> None:
        self._negate = tuple(negate)
        self._literal: dict[str, int] = {}
        for number, rule in rules:
            if rule.scope is _Scope.LITERAL:
                self._literal[rule.pattern] = number
        self._names = _alternatives([(n, r) for n, r in rules if r.scope is _Scope.NAME])
        self._paths = _alternatives([(n, r) for n, r in rules if r.scope is _Scope.PATH])

    def match(self, relative: str) -> bool | None:
        name = relative.rpartition("/")[2]
        best = self._literal.get(name, -1)
        for text, (regex, numbers) in ((name, self._names), (relative, self._paths)):
            if regex is None:
                continue
            found = regex.fullmatch(text)
            if found is not None and found.lastindex is not None:
                best = max(best, numbers[found.lastindex - 1])
        return None if best < 0 else not self._negate[best]


class IgnoreFile:
    """The patterns of one ignore file, applying to paths below ``base`` (an absolute folder).

    The last pattern that matches decides; patterns ending in ``/`` apply to folders only.
    """

    __slots__ = ("_files", "_folders", "base")

    def __init__(self, base: str, lines: Sequence[str]) -> None:
        self.base = base
        rules = [rule for rule in map(_rule, lines) if rule is not None]
        numbered = list(enumerate(rules))
        negate = [rule.negate for rule in rules]
        self._folders = _Matcher(numbered, negate)
        self._files = _Matcher([(n, r) for n, r in numbered if not r.folders_only], negate)

    def match(self, relative: str, *, is_dir: bool) -> bool | None:
        """True when ``relative`` (``/``-separated, below ``base``) is ignored, False when re-included, None when no pattern matches."""
        return (self._folders if is_dir else self._files).match(relative)

    @classmethod
    def read(cls, path: str, base: str) -> IgnoreFile | None:
        """The ignore file at ``path`` (patterns relative to ``base``), or None when it cannot be read."""
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        return cls(base, data.decode("utf-8", errors="replace").splitlines())


def compile_patterns(lines: Sequence[str], base: str = "") -> IgnoreFile:
    """An :class:`IgnoreFile` from pattern lines (for tests and one-off matching)."""
    return IgnoreFile(base, lines)


def work_tree(folder: str) -> str | None:
    """The top folder of the git work tree holding ``folder`` (absolute), or None outside one."""
    current = folder
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def git_dir(top: str) -> str | None:
    """The git folder of the work tree at ``top``, whose ``info/exclude`` applies: ``.git``, or
    where a ``.git`` file points (a linked work tree or submodule, then its common folder)."""
    dot_git = os.path.join(top, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    try:
        with open(dot_git, encoding="utf-8") as handle:
            line = handle.readline().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not line.startswith("gitdir:"):
        return None
    found = os.path.normpath(os.path.join(top, line.removeprefix("gitdir:").strip()))
    try:
        with open(os.path.join(found, "commondir"), encoding="utf-8") as handle:
            found = os.path.normpath(os.path.join(found, handle.read().strip()))
    except (OSError, UnicodeDecodeError):
        pass
    return found


class IgnoreRules:
    """The ignore files that apply while walking folders below ``top``.

    ``top`` is the git work tree's top folder, or the project root outside a work tree;
    :meth:`for_folder` gives the files that apply inside a folder (its ancestors' from ``top``
    down, then its own), reading each file once.
    """

    def __init__(self, top: str, *, exclude_file: str | None = None) -> None:
        self.top = top
        self._cache: dict[str, tuple[IgnoreFile, ...]] = {}
        extra = IgnoreFile.read(exclude_file, top) if exclude_file else None
        self._root: tuple[IgnoreFile, ...] = (extra,) if extra is not None else ()

    @classmethod
    def around(cls, folder: str, project_root: str) -> IgnoreRules:
        """The rules for walking ``folder``: its git work tree's, else the project root's (when
        ``folder`` is inside it), else those of ``folder`` itself."""
        top = work_tree(folder)
        if top is not None:
            found = git_dir(top)
            exclude = os.path.join(found, "info", "exclude") if found else None
            return cls(top, exclude_file=exclude)
        inside = folder == project_root or folder.startswith(project_root.rstrip(os.sep) + os.sep)
        return cls(project_root if inside else folder)

    def for_folder(self, folder: str, *, has_file: bool | None = None) -> tuple[IgnoreFile, ...]:
        """The ignore files that apply to entries of ``folder`` (absolute), outermost first.

        ``has_file`` says whether ``folder`` holds a ``.gitignore`` when the caller already
        listed it (None: look).
        """
        known = self._cache.get(folder)
        if known is not None:
            return known
        if folder == self.top or not folder.startswith(self.top.rstrip(os.sep) + os.sep):
            inherited = self._root
        else:
            inherited = self.for_folder(os.path.dirname(folder))
        own = None
        path = os.path.join(folder, ".gitignore")
        if has_file is None or has_file:
            own = IgnoreFile.read(path, folder)
        files = (*inherited, own) if own is not None else inherited
        self._cache[folder] = files
        return files

    def ignored(self, path: str, *, is_dir: bool, files: Sequence[IgnoreFile]) -> bool:
        """Whether the absolute ``path`` is ignored by ``files`` (those of its folder); the deepest file that matches decides."""
        for ignore in reversed(files):
            base = ignore.base.rstrip(os.sep)
            if not path.startswith(base + os.sep):
                continue
            relative = path[len(base) + 1 :]
            if os.sep != "/":
                relative = relative.replace(os.sep, "/")
            decided = ignore.match(relative, is_dir=is_dir)
            if decided is not None:
                return decided
        return False
