"""The human report: ``path:line:col: CODE message``, the source line underlined, the chain and the fix."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from unstall.check._model import Finding, Frequency
from unstall.check._rules_info import RuleInfo

__all__ = (
    "COLOR_CHOICES",
    "char_col",
    "clean",
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


# What comes from the checked program (file names, source lines, names in messages) can hold
# control characters: a newline starts a new line that CI may read as a command
# (``::warning ...``), escape sequences drive the terminal, and bidirectional overrides make
# text read other than it runs. Each is shown as its escape instead.
_UNSAFE = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in (
        *range(0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x200E,
        0x200F,
        0x2028,
        0x2029,
    )
}
_UNSAFE.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"})


def clean(text: str) -> str:
    """``text`` with every control, line-separator and bidirectional-override character escaped."""
    return text if text.isprintable() and text.isascii() else text.translate(_UNSAFE)


COLOR_CHOICES = ("auto", "always", "never")


def use_color(stream: TextIO, mode: str = "auto") -> bool:
    """Whether to color what goes to ``stream``: ``mode`` is ``"always"``, ``"never"`` or ``"auto"``.

    ``auto`` (as Python's own tracebacks decide): never when ``NO_COLOR`` is set
    (https://no-color.org), always when ``FORCE_COLOR`` is (https://force-color.org), never
    on a ``dumb`` terminal, else only on a terminal.
    """
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
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
    raw = lines[loc.line - 1].rstrip("\r\n").expandtabs(1)
    start = min(char_col(raw, loc.col), len(raw))
    if loc.end_col is not None and (loc.end_line is None or loc.end_line == loc.line):
        end = min(char_col(raw, loc.end_col), len(raw))
    else:
        end = len(raw)
    # Columns are counted on the cleaned text, where an escaped character takes several places.
    before, span = clean(raw[:start]), clean(raw[start:end])
    text = before + span + clean(raw[end:])
    width = max(len(span), 1)
    gutter = str(loc.line)
    pad = " " * len(gutter)
    return [
        f"{pad} {_paint('|', _DIM, color)}",
        f"{gutter} {_paint('|', _DIM, color)} {text}",
        f"{pad} {_paint('|', _DIM, color)} {' ' * len(before)}{_paint('^' * width, _RED + _BOLD, color)}",
    ]


def _chain(finding: Finding) -> str | None:
    if not finding.chain:
        return None
    parts = []
    for step in finding.chain:
        where = f"{step.location.path}:{step.location.line}"
        parts.append(f"{step.name} ({where})")
    head = finding.function
    return clean("via " + " -> ".join([head, *parts] if head else parts))


def format_finding(
    finding: Finding, lines: Sequence[str] | None, *, color: bool = False, show_source: bool = True
) -> str:
    """One finding as a block of text (header, source excerpt, chain, fix)."""
    loc = finding.location
    header = (
        f"{_paint(clean(loc.path), _BOLD, color)}:{loc.line}:{loc.col + 1}: "
        f"{_paint(finding.code, _RED + _BOLD, color)} {clean(finding.message)}"
    )
    label = frequency_label(finding)
    if label:
        header += " " + _paint(f"[{clean(label)}]", _DIM, color)
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
        out.append(f"  {_paint('fix:', _GREEN, color)} {clean(finding.fix)}{marker}")
    return "\n".join(out)


def frequency_label(finding: Finding) -> str | None:
    """``first call only: functools.cache`` or ``start-up only: lifespan handler``; ``None`` for every time."""
    if finding.frequency is Frequency.FIRST:
        return "first call only" + (f": {finding.reason}" if finding.reason else "")
    if finding.frequency is Frequency.STARTUP:
        return "start-up/shutdown only" + (f": {finding.reason}" if finding.reason else "")
    if finding.frequency is Frequency.TEST:
        return "test code" + (f": {finding.reason}" if finding.reason else "")
    if finding.frequency is Frequency.EXAMPLE:
        return "example code" + (f": {finding.reason}" if finding.reason else "")
    return None


def _hidden_note(hidden: Mapping[str, int]) -> str:
    count = sum(hidden.values())
    if not count:
        return ""
    tiers = ", ".join(f"{number} {tier}" for tier, number in sorted(hidden.items()))
    return f" {count} more in tiers not shown ({tiers}): --frequency all shows them."


def format_summary(
    findings: Sequence[Finding],
    *,
    files: int,
    color: bool = False,
    unsafe_fixes: bool = False,
    hidden: Mapping[str, int] | None = None,
) -> str:
    """The closing line: ``Found N problems in M files (K fixable with --fix).`` or ``All checks passed.``"""
    note = _hidden_note(hidden or {})
    if not findings:
        return (
            _paint("All checks passed.", _GREEN + _BOLD, color)
            + f" ({files} file{'s' if files != 1 else ''} checked)"
            + note
        )
    paths = {finding.location.path for finding in findings}
    fixable = sum(1 for finding in findings if finding.edits and (finding.fix_safe or unsafe_fixes))
    unsafe = sum(
        1 for finding in findings if finding.edits and not finding.fix_safe and not unsafe_fixes
    )
    count = len(findings)
    text = f"Found {count} problem{'s' if count != 1 else ''} in {len(paths)} file{'s' if len(paths) != 1 else ''}"
    notes = []
    if fixable:
        notes.append(f"{fixable} fixable with --fix")
    if unsafe:
        notes.append(f"{unsafe} more with --unsafe-fixes")
    return text + (f" ({', '.join(notes)})." if notes else ".") + note


def format_text(
    findings: Sequence[Finding],
    lines: LineSource,
    *,
    files: int,
    color: bool = False,
    show_source: bool = True,
    unsafe_fixes: bool = False,
    summary: bool = True,
    hidden: Mapping[str, int] | None = None,
) -> str:
    """The full text report, ending with the summary line (unless ``summary`` is false)."""
    blocks = [
        format_finding(finding, lines(finding.location.path), color=color, show_source=show_source)
        for finding in findings
    ]
    if summary:
        blocks.append(
            format_summary(
                findings, files=files, color=color, unsafe_fixes=unsafe_fixes, hidden=hidden
            )
        )
    if not blocks:
        return ""
    return ("\n\n" if show_source else "\n").join(blocks) + "\n"


def format_statistics(
    findings: Sequence[Finding],
    infos: Mapping[str, RuleInfo],
    hidden: Mapping[str, int] | None = None,
) -> str:
    """One line per code: count, code, ``[*]`` when some are fixable, and the rule's title; most
    frequent first; then the count of each frequency tier, the hidden ones included."""
    counts = Counter(finding.code for finding in findings)
    fixable = {finding.code for finding in findings if finding.edits}
    width = max((len(str(n)) for n in counts.values()), default=1)
    rows = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        info = infos.get(code)
        marker = "[*]" if code in fixable else "   "
        rows.append(f"{count:>{width}}  {code}  {marker} {info.title if info else ''}".rstrip())
    tiers = Counter(finding.frequency.value for finding in findings)
    shown = [f"{tiers[tier.value]} {tier.value}" for tier in Frequency if tiers[tier.value]]
    hidden_tiers = [
        f"{number} {tier} (not shown)" for tier, number in sorted((hidden or {}).items())
    ]
    if shown or hidden_tiers:
        rows.append("by frequency: " + ", ".join([*shown, *hidden_tiers]))
    return "\n".join(rows) + ("\n" if rows else "")
