"""What the walkers of one file share: the file itself, and the classes being summarized."""

from __future__ import annotations

import ast
import re

from unstall.check._bind import Binder
from unstall.check._scope import UNKNOWN
from unstall.check._summary_types import FunctionInfo

__all__ = ("ClassBuilder", "FileContext")

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class ClassBuilder:
    """A class being summarized: its key, line, bases and attribute types so far."""

    __slots__ = ("attributes", "bases", "key", "line", "made")

    def __init__(self, key: str, line: int, bases: tuple[str, ...]) -> None:
        self.key = key
        self.line = line
        self.bases = bases
        self.attributes: dict[str, str] = {}
        # The arguments of the one call an attribute is given (``None``: given two or more).
        self.made: dict[str, tuple[tuple[str, object], ...] | None] = {}

    def made_by(self, name: str, arguments: tuple[tuple[str, object], ...] | None) -> None:
        """Record the arguments of a call whose result the attribute is given (``None``: a
        value of another kind); a second call with other arguments (a fresh ``Queue()`` again is
        the same), or anything but ``None`` too, makes it unknown."""
        if arguments is None or (name in self.made and self.made[name] != arguments):
            self.made[name] = None
        else:
            self.made[name] = arguments

    def attribute(self, name: str, ref: str | None) -> None:
        """Record an attribute's type; two different types make it unknown."""
        if ref is None:
            return
        known = self.attributes.get(name)
        if known is None:
            self.attributes[name] = ref
        elif known != ref:
            self.attributes[name] = UNKNOWN


class FileContext:
    """One file being summarized: its text, module, binder and what has been defined so far."""

    def __init__(self, text: str, path: str, module: str, is_package: bool) -> None:
        self.text = text
        self.path = path
        self.module = module
        self.is_package = is_package
        self.binder = Binder(module, is_package)
        self.functions: dict[str, FunctionInfo] = {}
        self.classes: dict[str, ClassBuilder] = {}
        self._lines: list[bytes] | None = None

    def segment(self, line: int, col: int, end_line: int, end_col: int) -> str:
        """The source text of a span (``ast`` positions: 1-based lines, UTF-8 byte columns)."""
        if self._lines is None:
            # Only \r\n, \r and \n end lines for ast (str.splitlines also splits on \f and others).
            self._lines = [part.encode("utf-8") for part in _LINES.findall(self.text)]
        lines = self._lines
        if not (1 <= line <= end_line <= len(lines)):
            return ""
        if line == end_line:
            data = lines[line - 1][col:end_col]
        else:
            data = b"".join(
                [lines[line - 1][col:], *lines[line : end_line - 1], lines[end_line - 1][:end_col]]
            )
        return data.decode("utf-8", errors="replace")

    def arguments_text(self, node: ast.Call) -> str:
        """The source text of a call's arguments, from the first to the last (``""`` for none)."""
        parts: list[ast.expr | ast.keyword] = [*node.args, *node.keywords]
        if not parts:
            return ""
        first = min(parts, key=lambda part: (part.lineno, part.col_offset))
        last = max(parts, key=lambda part: (part.end_lineno or 0, part.end_col_offset or 0))
        return self.segment(
            first.lineno, first.col_offset, last.end_lineno or 0, last.end_col_offset or 0
        )
