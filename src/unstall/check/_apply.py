"""The one applier of fixes: findings carry edits, this module rewrites (or diffs) the files.

Edits are applied per file from the end backwards; an edit overlapping one already accepted
drops its whole finding (the next run picks it up). A file whose content changed since it
was checked is left alone. Files are rewritten atomically in their own encoding and line
endings.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from unstall.check._model import Edit, Finding
from unstall.check._read import Source, read_source

__all__ = ("FileFix", "apply_edits", "fixable", "plan_fixes", "unified_diff", "write_fixes")

_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class FileFix:
    """The rewrite of one file: its text before and after, the encoding, and how many findings it fixes."""

    path: str
    open_path: Path
    before: str
    after: str
    encoding: str
    digest: str
    fixed: int


def fixable(finding: Finding, *, unsafe: bool) -> bool:
    """Whether ``--fix`` (``unsafe``: with ``--unsafe-fixes``) applies this finding's edits."""
    return bool(finding.edits) and (finding.fix_safe or unsafe)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(match.end() for match in _NEWLINE.finditer(text))
    return starts


def _offset(text: str, starts: Sequence[int], position: tuple[int, int]) -> int:
    line, col = position
    if not 1 <= line <= len(starts):
        raise ValueError(f"line {line} is outside the file")
    begin = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    line_text = text[begin:end]
    # Columns are UTF-8 byte offsets, as in ast.
    prefix = line_text.encode("utf-8")[:col].decode("utf-8", errors="strict")
    return begin + len(prefix)


def apply_edits(text: str, groups: Iterable[Sequence[Edit]]) -> tuple[str, int]:
    """Apply groups of edits (one group per finding, all or nothing) to ``text``; return the new text and groups applied."""
    starts = _line_starts(text)
    newline = match.group() if (match := _NEWLINE.search(text)) else "\n"
    accepted: list[tuple[int, int, str]] = []
    applied = 0
    for group in groups:
        try:
            spans = sorted(
                (_offset(text, starts, e.start), _offset(text, starts, e.end), e.text)
                for e in group
            )
        except (ValueError, UnicodeDecodeError):
            continue
        if any(end < start for start, end, _ in spans):
            continue
        # An edit identical to an accepted one (the same import added by two findings) is
        # already there: it neither conflicts nor applies twice.
        spans = [span for span in spans if span not in accepted]
        if any(
            (s < e2 and s2 < e) or (s == e == s2 == e2)
            for s, e, _ in spans
            for s2, e2, _ in accepted
        ):
            continue
        accepted.extend(spans)
        applied += 1
    result = text
    for start, end, replacement in sorted(accepted, reverse=True):
        result = result[:start] + _NEWLINE.sub(newline, replacement) + result[end:]
    return result, applied


def plan_fixes(
    findings: Sequence[Finding],
    paths: Mapping[str, Path],
    *,
    unsafe: bool,
    sources: Mapping[str, Source] | None = None,
) -> list[FileFix]:
    """The rewrites the fixable findings make, one per file that changes (``sources``: sources not read from disk, e.g. stdin)."""
    groups: dict[str, list[Sequence[Edit]]] = {}
    for finding in findings:
        if fixable(finding, unsafe=unsafe):
            files = {edit.path for edit in finding.edits}
            if len(files) == 1:
                groups.setdefault(files.pop(), []).append(finding.edits)
    plans = []
    for path, edit_groups in sorted(groups.items()):
        open_path = paths.get(path, Path(path))
        source = (
            sources[path]
            if sources and path in sources
            else read_source(str(open_path), max_size=1 << 62)
        )
        if not isinstance(source, Source):
            continue
        after, applied = apply_edits(source.text, edit_groups)
        if applied and after != source.text:
            plans.append(
                FileFix(
                    path, open_path, source.text, after, source.encoding, source.digest, applied
                )
            )
    return plans


def unified_diff(plans: Sequence[FileFix]) -> str:
    """A unified diff of every planned rewrite."""
    chunks: list[str] = []
    for plan in plans:
        chunks.extend(
            difflib.unified_diff(
                plan.before.splitlines(keepends=True),
                plan.after.splitlines(keepends=True),
                f"a/{plan.path}",
                f"b/{plan.path}",
            )
        )
    return "".join(
        line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
        for line in chunks
    )


def write_fixes(plans: Sequence[FileFix], digests: Mapping[str, str]) -> tuple[int, list[str]]:
    """Rewrite the files atomically; return findings fixed and paths skipped because they changed since checked.

    A file is compared with what was checked (``digests``) once more after its new content
    is written beside it and just before that replaces it, so an edit saved meanwhile is kept.
    """
    fixed = 0
    skipped = []
    for plan in plans:
        expected = digests.get(plan.path, plan.digest)
        try:
            # The utf-8-sig codec writes the BOM back; other codecs the bytes as they were.
            data = plan.after.encode(plan.encoding)
        except UnicodeEncodeError:
            skipped.append(plan.path)
            continue
        if expected != plan.digest or not _replace_unchanged(plan.open_path, data, expected):
            skipped.append(plan.path)
            continue
        fixed += plan.fixed
    return fixed, skipped


def _unchanged(path: Path, expected: str) -> bool:
    current = read_source(str(path), max_size=1 << 62)
    return isinstance(current, Source) and current.digest == expected


def _replace_unchanged(path: Path, data: bytes, expected: str) -> bool:
    """Replace the file at ``path`` by ``data`` when its content still has the digest ``expected``."""
    if not _unchanged(path, expected):
        return False
    target = path.resolve()
    mode = target.stat().st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        if not _unchanged(path, expected):
            os.unlink(temporary)
            return False
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return True
