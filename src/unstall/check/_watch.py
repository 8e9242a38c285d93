"""``unstall check --watch``: check again whenever a file changes, and print only what changed.

Changes are found by polling: every :data:`POLL_SECONDS` the checked files, the folders
searched (a folder's mtime changes when an entry is added, removed or renamed in it), their
``.gitignore`` files and the configuration file are ``stat``-ed, nothing is read. When one
differs the project is checked again, through the summary cache, so only changed files are
summarized. After the first full report, each round prints the findings that are new (in
full) and those that are fixed (one line each), then one status line. Ctrl-C stops it with
exit code 0.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple, Protocol

from unstall.check._fingerprint import Identity, identity
from unstall.check._format_text import clean, format_summary
from unstall.check._model import Finding
from unstall.check._output import Output
from unstall.check._runner import CheckResult
from unstall.errors import UnstallError

__all__ = ("POLL_SECONDS", "Changes", "Session", "Watched", "compare", "snapshot", "watch")

POLL_SECONDS = 0.3
# After a change is seen, wait this long for the editor to finish writing before checking.
SETTLE_SECONDS = 0.05

Stat = tuple[int, int, int] | None


class Watched(NamedTuple):
    """What to poll: ``files`` whose change calls for a check (sources, ``.gitignore`` files,
    the configuration) and ``folders`` whose change may mean a file came or went."""

    files: list[str]
    folders: list[str]


class Session(Protocol):
    """What the watch loop needs from the command: a check, the paths to poll, and how to print."""

    def check(self) -> CheckResult:
        """Check the project (settings read afresh); may raise :class:`UnstallError`."""
        ...

    def watched(self) -> Watched:
        """The paths to poll, found afresh (files come and go)."""
        ...

    def render_full(self, result: CheckResult) -> str:
        """The first, complete report."""
        ...

    def render_new(self, findings: Sequence[Finding], result: CheckResult) -> str:
        """The report of findings that are new this round (``result`` holds them)."""
        ...


class Changes(NamedTuple):
    """Findings that appeared (``new``, in the new result) and went away (``fixed``, as they were)."""

    new: list[Finding]
    fixed: list[Finding]


def compare(before: Sequence[Finding], after: Sequence[Finding]) -> Changes:
    """What changed between two results; a finding whose lines only moved is neither new nor fixed."""
    counts_before: Counter[Identity] = Counter(map(identity, before))
    counts_after: Counter[Identity] = Counter(map(identity, after))
    return Changes(_extra(after, counts_before), _extra(before, counts_after))


def _extra(findings: Sequence[Finding], other: Counter[Identity]) -> list[Finding]:
    # The findings beyond the other side's count of the same identity (the later ones).
    remaining = Counter(other)
    extra = []
    for finding in findings:
        key = identity(finding)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            extra.append(finding)
    return extra


def snapshot(paths: Iterable[str]) -> dict[str, Stat]:
    """``(mtime_ns, size, inode)`` of each path, None for one that is gone."""
    found: dict[str, Stat] = {}
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            found[path] = None
            continue
        found[path] = (info.st_mtime_ns, info.st_size, info.st_ino)
    return found


def _changed(before: dict[str, Stat], after: dict[str, Stat]) -> list[str]:
    # Changed, new and gone files.
    return sorted(path for path in {*before, *after} if before.get(path) != after.get(path))


def _fixed_line(finding: Finding) -> str:
    loc = finding.location
    return clean(f"fixed: {loc.path}:{loc.line}:{loc.col + 1}: {finding.code} {finding.message}")


def _status(changes: Changes, result: CheckResult, changed: Sequence[str]) -> str:
    names = ", ".join(os.path.relpath(path) for path in changed[:3])
    if len(changed) > 3:
        names += f" and {len(changed) - 3} more"
    what = (
        f"{len(changes.new)} new, {len(changes.fixed)} fixed"
        if changes.new or changes.fixed
        else "nothing new or fixed"
    )
    total = format_summary(result.findings, files=len(result.files))
    return f"[{time.strftime('%H:%M:%S')}] {clean(names)} changed: {what}. {total}"


def watch(
    session: Session,
    output: Output,
    *,
    interval: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Report, then poll and report changes until interrupted; return 0 (Ctrl-C is the way out)."""
    try:
        watched = session.watched()
        folders, files = snapshot(watched.folders), snapshot(watched.files)
        result = session.check()
        output.report(session.render_full(result))
        output.note("Watching for file changes (Ctrl-C to stop).")
        while True:
            sleep(interval)
            if snapshot(watched.files) == files and snapshot(watched.folders) == folders:
                continue
            sleep(SETTLE_SECONDS)
            try:
                watched = session.watched()
                now = snapshot(watched.files)
                folders = snapshot(watched.folders)
                if now == files:
                    continue  # a folder changed, but no file that is checked (an editor's swap file)
                changed, files = _changed(files, now), now
                checked = session.check()
            except UnstallError as exc:
                # A bad edit of the configuration: say so and wait for the next one.
                output.note(f"unstall check: error: {exc}")
                continue
            changes = compare(result.findings, checked.findings)
            result = checked
            text = session.render_new(changes.new, result) if changes.new else ""
            text += "".join(_fixed_line(finding) + "\n" for finding in changes.fixed)
            if text:
                output.report(text)
            output.note(_status(changes, result, changed or ["a watched file"]))
    except KeyboardInterrupt:
        return 0
