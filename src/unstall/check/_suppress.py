"""Inline suppression comments: ``# noqa``, ``# noqa: UNS101,UNS102``, ``# unstall: ignore[UNS101]``,
and other linters' codes for the same problem (``# noqa: ASYNC251`` for a blocking sleep).

Comments are found with :mod:`tokenize`, so ``"# noqa"`` inside a string suppresses nothing.
A suppression applies to findings whose location starts on the comment's line.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Mapping

__all__ = ("ALL_CODES", "Suppressions", "is_suppressed", "suppressions")

ALL_CODES: frozenset[str] = frozenset({"*"})
# line -> codes suppressed there (ALL_CODES for a bare noqa or unstall-ignore comment)
Suppressions = Mapping[int, frozenset[str]]

_NOQA = re.compile(
    r"#\s*noqa\b(?P<rest>\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*[,\s]\s*[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_IGNORE = re.compile(r"#\s*unstall\s*:\s*ignore\b(?:\s*\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def _codes(text: str | None) -> frozenset[str]:
    if not text:
        return ALL_CODES
    found = frozenset(code.upper() for code in _CODE.findall(text))
    return found or ALL_CODES


def _parse_comment(comment: str) -> frozenset[str] | None:
    codes: set[str] = set()
    matched = False
    for match in _NOQA.finditer(comment):
        matched = True
        codes |= _codes(match.group("codes"))
    for match in _IGNORE.finditer(comment):
        matched = True
        codes |= _codes(match.group("codes"))
    if not matched:
        return None
    return ALL_CODES if "*" in codes else frozenset(codes)


def suppressions(text: str) -> dict[int, frozenset[str]]:
    """The suppression comments of a source text, by line. Never raises: tokenizing stops at the first error."""
    if "noqa" not in text.lower() and "unstall" not in text.lower():
        return {}
    result: dict[int, frozenset[str]] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                codes = _parse_comment(token.string)
                if codes is not None:
                    result[token.start[0]] = result.get(token.start[0], frozenset()) | codes
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    return {line: (ALL_CODES if "*" in codes else codes) for line, codes in result.items()}


def is_suppressed(
    code: str, line: int, table: Suppressions, equivalents: frozenset[str] = frozenset()
) -> bool:
    """Whether a finding of ``code`` starting on ``line`` is suppressed by ``table``.

    ``equivalents`` are other linters' codes for the same problem (``ASYNC251``): a project
    that already silenced a line for flake8-async or ruff is not asked again.
    """
    codes = table.get(line)
    if codes is None:
        return False
    return codes is ALL_CODES or "*" in codes or code in codes or not codes.isdisjoint(equivalents)
