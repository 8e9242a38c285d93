"""Where ``unstall check`` writes, and in which format.

The report goes to standard output or ``--output-file``; notes for people ("Fixed 2
problems.") go to standard error. ``--quiet`` keeps the findings and drops the rest,
``--silent`` prints nothing at all (a report file named with ``-o`` is still written).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TextIO

from unstall.check._format_gitlab import format_gitlab
from unstall.check._format_json import format_github, format_json
from unstall.check._format_junit import format_junit
from unstall.check._format_sarif import format_sarif
from unstall.check._format_text import LineSource, format_statistics, format_text, use_color
from unstall.check._rules_info import RuleInfo
from unstall.check._runner import CheckResult
from unstall.errors import ConfigError

__all__ = ("FORMATS", "Output", "ReportStyle", "render_report")

# The report formats --output-format accepts, the default first.
FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")


@dataclass(frozen=True, slots=True)
class ReportStyle:
    """How the report is written: the format and the text format's options."""

    format: str = "text"
    statistics: bool = False
    show_source: bool = True
    unsafe_fixes: bool = False
    summary: bool = True
    color: bool = False


def render_report(
    result: CheckResult,
    style: ReportStyle,
    *,
    infos: Mapping[str, RuleInfo],
    lines: LineSource,
    cwd: Path,
) -> str:
    """The report of ``result`` in ``style.format`` (``lines`` gives a file's source lines for the text format)."""
    findings = result.findings
    if style.format == "json":
        return format_json(findings, infos, files=len(result.files))
    if style.format == "sarif":
        return format_sarif(findings, infos, root=cwd)
    if style.format == "github":
        return format_github(findings)
    if style.format == "gitlab":
        return format_gitlab(findings, cwd=cwd)
    if style.format == "junit":
        return format_junit(findings, files=len(result.files))
    if style.statistics:
        return format_statistics(findings, infos, result.hidden)
    return format_text(
        findings,
        lines,
        files=len(result.files),
        color=style.color,
        show_source=style.show_source,
        unsafe_fixes=style.unsafe_fixes,
        summary=style.summary,
        hidden=result.hidden,
    )


class Output:
    """The report's stream (standard output or ``output_file``) and the notes' (standard error).

    ``output_file`` is opened (its folders made) at once, so a path that cannot be written is
    a :class:`ConfigError` before any work is done. Use as a context manager; the file is
    closed on exit.
    """

    def __init__(
        self,
        *,
        output_file: Path | None = None,
        color: str = "auto",
        quiet: bool = False,
        silent: bool = False,
    ) -> None:
        self.quiet = quiet or silent
        self.silent = silent
        self._file: TextIO | None = None
        if output_file is not None:
            try:
                output_file.parent.mkdir(parents=True, exist_ok=True)
                # newline="": the report's own "\n" endings, on every platform.
                self._file = open(output_file, "w", encoding="utf-8", newline="")  # noqa: SIM115
            except OSError as exc:
                raise ConfigError(
                    f"The report cannot be written to {str(output_file)!r}: {exc.strerror or exc}; pass a writable path to --output-file.",
                    key="--output-file",
                    source="command line",
                ) from None
        # A report file is never a terminal: "auto" (even with FORCE_COLOR) leaves it plain.
        self.color = color == "always" if self._file is not None else use_color(self.stream, color)

    @property
    def stream(self) -> TextIO:
        """Where the report goes."""
        return self._file if self._file is not None else sys.stdout

    def report(self, text: str) -> None:
        """Write (part of) the report, flushed, so a reader of a pipe sees it at once."""
        if self.silent and self._file is None:
            return
        self.stream.write(text)
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line for people on standard error, unless quiet."""
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    def __enter__(self) -> Output:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
