"""Findings as the Language Server Protocol shows them: diagnostics, and code actions for their fixes.

A finding is a diagnostic at the call inside the ``async def``; each step of its chain is
one ``relatedInformation`` location (with the step's name), so an editor can walk from the
call to the blocking callable, in whichever module it is. The rule code links to its
section of the rules reference (``codeDescription``), and the frequency label the text
report shows (``first call only: functools.cache``) ends the message; ``data`` holds it as
values too.

Severity: a call that blocks every time is a warning; one that blocks on a first call only
or at start-up / shutdown only is information; a file that cannot be checked (UNS9xx) is an
error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lsprotocol import types

from unstall.check._apply import apply_edits
from unstall.check._format_text import clean, frequency_label
from unstall.check._model import Edit, Finding, Frequency, Location
from unstall.check._read import Source, read_source
from unstall.check._rules_info import RULES_DOC_URL, RuleInfo
from unstall.server._projects import Buffer, Checked
from unstall.server._text import UTF16, client_column, end_of, split_lines, utf8_size

__all__ = (
    "FIX_ALL",
    "SOURCE",
    "Item",
    "Report",
    "code_actions",
    "reports",
)

SOURCE = "unstall"
#: The kind of the code action that applies every safe fix of a document.
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.{SOURCE}"

_NEWLINE = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class Item(NamedTuple):
    """One finding shown in a document: its diagnostic, and its fix as text edits by URI (empty: none)."""

    finding: Finding
    diagnostic: types.Diagnostic
    edits: dict[str, list[types.TextEdit]]


class Report(NamedTuple):
    """What one document shows after a check of one version of its text."""

    uri: str
    version: int | None
    text: str
    findings: tuple[Finding, ...]
    items: list[Item]


class _Files:
    """Lines and URIs of the files a check's findings point into: open documents' from their
    text, the others read from disk once."""

    def __init__(self, checked: Checked) -> None:
        self._cwd = checked.project.cwd
        self._paths = checked.result.paths
        self._buffers = {buffer.path: buffer for buffer in checked.buffers}
        self._lines: dict[str, list[str] | None] = {}
        self._newlines: dict[str, str] = {}

    def path(self, shown: str) -> str:
        """The path on disk of the file shown as ``shown``."""
        found = self._paths.get(shown)
        return str(found) if found is not None else os.path.normpath(self._cwd / shown)

    def buffer(self, shown: str) -> Buffer | None:
        return self._buffers.get(self.path(shown))

    def uri(self, shown: str) -> str:
        buffer = self.buffer(shown)
        return buffer.uri if buffer is not None else Path(self.path(shown)).as_uri()

    def lines(self, shown: str) -> list[str] | None:
        """The file's lines (without their endings), or None when it cannot be read."""
        path = self.path(shown)
        if path not in self._lines:
            buffer = self._buffers.get(path)
            text: str | None = buffer.text if buffer is not None else None
            if text is None:
                source = read_source(path, max_size=1 << 62)
                text = source.text if isinstance(source, Source) else None
            self._lines[path] = split_lines(text) if text is not None else None
            self._newlines[path] = _newline(text or "")
        return self._lines[path]

    def newline(self, shown: str) -> str:
        """The file's first line ending (``\n`` when it has none)."""
        self.lines(shown)
        return self._newlines[self.path(shown)]


def _position(
    lines: Sequence[str] | None, line: int, byte_col: int, encoding: str
) -> types.Position:
    index = max(line - 1, 0)
    if lines is None:
        return types.Position(index, max(byte_col, 0))
    if index >= len(lines):
        last, col = end_of(lines, encoding)
        return types.Position(last, col)
    return types.Position(index, client_column(lines[index], byte_col, encoding))


def _range(loc: Location, lines: Sequence[str] | None, encoding: str) -> types.Range:
    """The span of ``loc``; one without an end runs to the end of its line's text."""
    start = _position(lines, loc.line, loc.col, encoding)
    if loc.end_line is not None and loc.end_col is not None and loc.end_line >= loc.line:
        end = _position(lines, loc.end_line, loc.end_col, encoding)
    else:
        text = lines[start.line] if lines is not None and start.line < len(lines) else ""
        length = utf8_size(text.rstrip())
        end = _position(lines, start.line + 1, length, encoding)
    if (end.line, end.character) < (start.line, start.character):
        end = start
    return types.Range(start, end)


def _severity(finding: Finding) -> types.DiagnosticSeverity:
    if finding.code.startswith("UNS9"):
        return types.DiagnosticSeverity.Error
    if finding.frequency is Frequency.EVERY:
        return types.DiagnosticSeverity.Warning
    return types.DiagnosticSeverity.Information


def _help_uri(code: str, infos: Mapping[str, RuleInfo]) -> str:
    info = infos.get(code)
    return info.help_uri if info is not None else f"{RULES_DOC_URL}#{code.lower()}"


def _data(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {"frequency": finding.frequency.value}
    if finding.reason:
        data["reason"] = finding.reason
    if finding.entry:
        data["entry"] = finding.entry
    if finding.function:
        data["function"] = finding.function
    if finding.fix:
        data["fix"] = finding.fix
        data["fixSafe"] = finding.fix_safe
    return data


def _diagnostic(
    finding: Finding, files: _Files, encoding: str, infos: Mapping[str, RuleInfo]
) -> types.Diagnostic:
    message = clean(finding.message)
    label = frequency_label(finding)
    if label:
        message += f" [{clean(label)}]"
    related = [
        types.DiagnosticRelatedInformation(
            types.Location(
                files.uri(step.location.path),
                _range(step.location, files.lines(step.location.path), encoding),
            ),
            clean(step.name),
        )
        for step in finding.chain
    ]
    related.extend(
        types.DiagnosticRelatedInformation(
            types.Location(files.uri(place.path), _range(place, files.lines(place.path), encoding)),
            "also here",
        )
        for place in finding.related
    )
    return types.Diagnostic(
        range=_range(finding.location, files.lines(finding.location.path), encoding),
        message=message,
        severity=_severity(finding),
        code=finding.code,
        code_description=types.CodeDescription(_help_uri(finding.code, infos)),
        source=SOURCE,
        related_information=related or None,
        data=_data(finding),
    )


def _newline(text: str) -> str:
    match = _NEWLINE.search(text)
    return match.group() if match else "\n"


def _text_edits(
    edits: Sequence[Edit], files: _Files, encoding: str
) -> dict[str, list[types.TextEdit]]:
    by_uri: dict[str, list[types.TextEdit]] = {}
    for edit in edits:
        lines = files.lines(edit.path)
        if lines is None:
            return {}  # a file that cannot be read: no fix rather than a wrong one
        span = types.Range(
            _position(lines, edit.start[0], edit.start[1], encoding),
            _position(lines, edit.end[0], edit.end[1], encoding),
        )
        text = _NEWLINE.sub(files.newline(edit.path), edit.text)
        by_uri.setdefault(files.uri(edit.path), []).append(types.TextEdit(span, text))
    return by_uri


def reports(checked: Checked, infos: Mapping[str, RuleInfo], encoding: str = UTF16) -> list[Report]:
    """The report of each open document of a checked project (documents without findings included)."""
    files = _Files(checked)
    own: dict[str, list[Finding]] = {buffer.path: [] for buffer in checked.buffers}
    for finding in checked.result.findings:
        path = files.path(finding.location.path)
        if path in own:
            own[path].append(finding)
    out = []
    for buffer in checked.buffers:
        findings = tuple(own[buffer.path])
        items = [
            Item(
                finding,
                _diagnostic(finding, files, encoding, infos),
                _text_edits(finding.edits, files, encoding) if finding.edits else {},
            )
            for finding in findings
        ]
        out.append(Report(buffer.uri, buffer.version, buffer.text, findings, items))
    return out


# -- code actions --------------------------------------------------------------------------------


def _wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether an action of ``kind`` is asked for: ``only`` lists kinds and their parents (``source``)."""
    return only is None or any(kind == want or kind.startswith(want + ".") for want in only)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    a_start, a_end = (a.start.line, a.start.character), (a.end.line, a.end.character)
    b_start, b_end = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return a_start <= b_end and b_start <= a_end


def _workspace_edit(
    changes: Mapping[str, list[types.TextEdit]],
    versions: Callable[[str], int | None],
    versioned: bool,
) -> types.WorkspaceEdit:
    if not versioned:
        return types.WorkspaceEdit(changes=dict(changes))
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                types.OptionalVersionedTextDocumentIdentifier(uri, versions(uri)), list(edits)
            )
            for uri, edits in changes.items()
        ]
    )


def _lines_with_ends(text: str) -> list[str]:
    return _LINE.findall(text)


def _fix_all(report: Report, encoding: str) -> types.TextEdit | None:
    """One edit of the document applying every safe fix that stays inside it, or None."""
    groups = [
        finding.edits
        for finding in report.findings
        if finding.edits
        and finding.fix_safe
        and all(edit.path == finding.location.path for edit in finding.edits)
    ]
    if not groups:
        return None
    after, applied = apply_edits(report.text, groups)
    if not applied or after == report.text:
        return None
    old, new = _lines_with_ends(report.text), _lines_with_ends(after)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    stop = len(old) - tail
    if stop < len(old):
        end = types.Position(stop, 0)
    else:
        last, col = end_of(split_lines(report.text), encoding)
        end = types.Position(last, col)
    return types.TextEdit(
        types.Range(types.Position(head, 0), end), "".join(new[head : len(new) - tail])
    )


def code_actions(
    report: Report,
    requested: types.Range,
    only: Sequence[str] | None,
    *,
    encoding: str = UTF16,
    versioned: bool = False,
    versions: Callable[[str], int | None] = lambda uri: None,
) -> list[types.CodeAction]:
    """The fixes of the findings whose diagnostics touch ``requested``, then "fix all" for the document.

    A safe fix is a preferred quick fix (what ``unstall check --fix`` applies); an unsafe
    one a plain quick fix (``--unsafe-fixes``). ``versioned``: the client takes versioned
    document edits (then ``versions`` gives each document's version).
    """
    actions: list[types.CodeAction] = []
    if _wanted(types.CodeActionKind.QuickFix.value, only):
        for item in report.items:
            finding = item.finding
            if not item.edits or not _overlaps(item.diagnostic.range, requested):
                continue
            what = clean(finding.fix or "apply the suggested rewrite")
            title = f"Fix {finding.code}: {what}"
            if not finding.fix_safe:
                title = f"Fix {finding.code} (unsafe: check the result): {what}"
            actions.append(
                types.CodeAction(
                    title=title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[item.diagnostic],
                    is_preferred=finding.fix_safe or None,
                    edit=_workspace_edit(item.edits, versions, versioned),
                )
            )
    if _wanted(FIX_ALL, only):
        edit = _fix_all(report, encoding)
        if edit is not None:
            actions.append(
                types.CodeAction(
                    title="Fix all safely fixable unstall problems",
                    kind=FIX_ALL,
                    edit=_workspace_edit({report.uri: [edit]}, versions, versioned),
                )
            )
    return actions
