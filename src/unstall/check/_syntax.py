"""Tell a file written for a newer Python from a file with a syntax error.

``ast`` parses with the grammar of the Python that runs unstall. A project written for a newer
one (a 3.12 ``type X = ...`` checked under 3.11) fails to parse file after file; each of those
is not broken, it needs that Python. :func:`needed_python` recognises the constructs newer
grammars added from the parser's error and the failing line; :func:`merge_newer_syntax` turns
every such file of a run into one finding that names the Python to use.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

from unstall.check._model import Finding, Location

__all__ = ("NEWER_SYNTAX", "merge_newer_syntax", "needed_python", "newer_syntax_problem")

NEWER_SYNTAX = "UNS906"

# (version, what it is, test on the parser's message, test on the failing line)
_CONSTRUCTS: tuple[
    tuple[tuple[int, int], str, re.Pattern[str] | None, re.Pattern[str] | None], ...
] = (
    ((3, 12), "a `type` statement", None, re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(\[.*\])?\s*=")),
    (
        (3, 12),
        "type parameters (`def f[T]`, `class C[T]`)",
        None,
        re.compile(r"^\s*(async\s+def|def|class)\s+[A-Za-z_]\w*\s*\["),
    ),
    ((3, 12), "a PEP 701 f-string", re.compile(r"^f-string\b"), None),
    (
        (3, 14),
        "`except` with unparenthesised exception types",
        re.compile(r"multiple exception types must be parenthesized"),
        None,
    ),
    ((3, 14), 'a template string (`t"..."`)', None, re.compile(r"(?<![\w.])[tT][rR]?['\"]")),
)


def needed_python(
    message: str, line_text: str, running: tuple[int, int] | None = None
) -> tuple[tuple[int, int], str] | None:
    """The Python version a failed parse needs and the construct, or ``None`` for a real syntax error.

    ``message`` is the ``SyntaxError``'s message, ``line_text`` the line it points at; only
    versions newer than ``running`` (default: this interpreter) count.
    """
    current = running or (sys.version_info.major, sys.version_info.minor)
    for version, what, on_message, on_line in _CONSTRUCTS:
        if version <= current:
            continue
        if on_message is not None and on_message.search(message):
            return version, what
        if on_line is not None and on_line.search(line_text):
            return version, what
    return None


def newer_syntax_problem(path: str, message: str, text: str, line: int, col: int) -> Finding | None:
    """The UNS906 finding for a file whose parse failed because it needs a newer Python, or ``None``."""
    lines = text.splitlines()
    line_text = lines[line - 1] if 1 <= line <= len(lines) else ""
    found = needed_python(message, line_text)
    if found is None:
        return None
    (major, minor), what = found
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    return Finding(
        NEWER_SYNTAX,
        f"The file uses {what}, which needs Python {major}.{minor}; unstall runs on Python "
        f"{running} and cannot parse it. Run unstall with Python {major}.{minor} or newer.",
        Location(path, line, col),
    )


_NEEDS = re.compile(r"needs Python (\d+)\.(\d+)")


def merge_newer_syntax(findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` with every UNS906 merged into one on the first such file, naming the newest
    Python any of them needs; the other files are its ``related`` locations."""
    kept: list[Finding] = []
    newer: list[Finding] = []
    for finding in findings:
        (newer if finding.code == NEWER_SYNTAX else kept).append(finding)
    if len(newer) <= 1:
        return [*kept, *newer]
    newer.sort(key=lambda finding: (finding.location.path, finding.location.line))
    versions = [
        (int(found[1]), int(found[2]))
        for finding in newer
        if (found := _NEEDS.search(finding.message)) is not None
    ]
    major, minor = max(versions, default=(3, 12))
    first = newer[0]
    more = len(newer) - 1
    message = (
        f"This file and {more} more {'files' if more > 1 else 'file'} use syntax of a newer Python "
        f"(here: {first.message.removeprefix('The file uses ').partition(', which needs')[0]}); "
        f"the newest they need is Python "
        f"{major}.{minor}. Run unstall with Python {major}.{minor} or newer to check them."
    )
    return [
        *kept,
        Finding(
            NEWER_SYNTAX, message, first.location, related=tuple(f.location for f in newer[1:])
        ),
    ]
