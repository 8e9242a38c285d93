"""The human report: ``path:line:col: CODE message``, the source line underlined, the chain and the fix."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from unstall.check._model import Finding
from unstall.check._rules_info import RuleInfo

__all__ = (
    "char_col",
    "format_finding",
    "format_statistics",
    "format_summary",
    "format_text",
    "use_color",
)

# Returns the source lines of a display path, or None when it cannot be read.
LineSource = Callable[[str], Sequence[str] | None]

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_RED = "\x1b[31m"
_CYAN = "\x1b[36m"
_DIM = "\x1b[2m"
_GREEN = "\x1b[32m"


def use_color(stream: TextIO) -> bool:
    """Colors only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color else text


def char_col(line: str, col: int) -> int:
    """Convert an ``ast`` column (UTF-8 bytes) on ``line`` to a character index."""
    if line.isascii():
        return col
    return len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def _underline(finding: Finding, lines: Sequence[str] | None, color: bool) -> list[str]:
    loc = finding.location
    if lines is None or not 1 <= loc.line <= len(lines):
        return []
    text = lines[loc.line - 1].rstrip("\r\n").expandtabs(1)
    start = min(char_col(text, loc.col), len(text))
    if loc.end_col is not None and (loc.end_line is None or loc.end_line == loc.line):
        end = min(char_col(text, loc.end_col), len(text))
    else:
        end = len(text)
    width = max(end - start, 1)
    gutter = str(loc.line)
    pad = " " * len(gutter)
    return [
        f"{pad} {_paint('|', _DIM, color)}",
        f"{gutter} {_paint('|', _DIM, color)} {text}",
        f"{pad} {_paint('|', _DIM, color)} {' ' * start}{_paint('^' * width, _RED + _BOLD, color)}",
    ]


def _chain(finding: Finding) -> str | None:
    if not finding.chain:
        return None
    parts = []
    for step in finding.chain:
        where = f"{step.location.path}:{step.location.line}"
        parts.append(f"{step.name} ({where})")
    head = finding.function
    return "via " + " -> ".join([head, *parts] if head else parts)


def format_finding(
    finding: Finding, lines: Sequence[str] | None, *, color: bool = False, show_source: bool = True
) -> str:
    """One finding as a block of text (header, source excerpt, chain, fix)."""
    loc = finding.location
    header = (
        f"{_paint(loc.path, _BOLD, color)}:{loc.line}:{loc.col + 1}: "
        f"{_paint(finding.code, _RED + _BOLD, color)} {finding.message}"
    )
    out = [header]
    if show_source:
        out.extend(_underline(finding, lines, color))
    chain = _chain(finding)
    if chain:
        out.append(f"  {_paint(chain, _CYAN, color)}")
    if finding.fix:
        marker = (
            ""
            if not finding.edits
            else (" [fixable with --fix]" if finding.fix_safe else " [fixable with --unsafe-fixes]")
        )
        out.append(f"  {_paint('fix:', _GREEN, color)} {finding.fix}{marker}")
    return "\n".join(out)


def format_summary(
    findings: Sequence[Finding], *, files: int, color: bool = False, unsafe_fixes: bool = False
) -> str:
    """The closing line: ``Found N problems in M files (K fixable with --fix).`` or ``All checks passed.``"""
    if not findings:
        return (
            _paint("All checks passed.", _GREEN + _BOLD, color)
            + f" ({files} file{'s' if files != 1 else ''} checked)"
        )
    paths = {finding.location.path for finding in findings}
    fixable = sum(1 for finding in findings if finding.edits and (finding.fix_safe or unsafe_fixes))
    hidden = sum(
        1 for finding in findings if finding.edits and not finding.fix_safe and not unsafe_fixes
    )
    count = len(findings)
    text = f"Found {count} problem{'s' if count != 1 else ''} in {len(paths)} file{'s' if len(paths) != 1 else ''}"
    notes = []
    if fixable:
        notes.append(f"{fixable} fixable with --fix")
    if hidden:
        notes.append(f"{hidden} more with --unsafe-fixes")
    return text + (f" ({', '.join(notes)})." if notes else ".")


def format_text(
    findings: Sequence[Finding],
    lines: LineSource,
    *,
    files: int,
    color: bool = False,
    show_source: bool = True,
    unsafe_fixes: bool = False,
) -> str:
    """The full text report, ending with the summary line."""
    blocks = [
        format_finding(finding, lines(finding.location.path), color=color, show_source=show_source)
        for finding in findings
    ]
    blocks.append(format_summary(findings, files=files, color=color, unsafe_fixes=unsafe_fixes))
    return ("\n\n" if show_source else "\n").join(blocks) + "\n"


def format_statistics(findings: Sequence[Finding], infos: Mapping[str, RuleInfo]) -> str:
    """One line per code: count, code, ``[*]`` when some are fixable, and the rule's title; most frequent first."""
    counts = Counter(finding.code for finding in findings)
    fixable = {finding.code for finding in findings if finding.edits}
    width = max((len(str(n)) for n in counts.values()), default=1)
    rows = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        info = infos.get(code)
        marker = "[*]" if code in fixable else "   "
        rows.append(f"{count:>{width}}  {code}  {marker} {info.title if info else ''}".rstrip())
    return "\n".join(rows) + ("\n" if rows else "")
