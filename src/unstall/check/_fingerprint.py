"""What makes a finding the same finding across runs and edits: for CI systems that track
findings between commits (SARIF ``partialFingerprints``, GitLab's ``fingerprint``) and for
``--watch``'s new / fixed lists.

Line and column numbers are left out, so an edit above a finding does not make it new: a
finding is its rule, its file, the ``async def`` it is in, the blocking callable and the
chain's names. Findings alike in all of that are told apart by their order in the file.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from unstall.check._model import Finding

__all__ = ("Identity", "fingerprints", "identity")


class Identity(NamedTuple):
    """A finding without its position: equal for the same problem after lines move."""

    code: str
    path: str
    function: str | None
    entry: str | None
    chain: tuple[tuple[str, str], ...]


def identity(finding: Finding) -> Identity:
    """The position-free identity of ``finding``."""
    return Identity(
        finding.code,
        finding.location.path,
        finding.function,
        finding.entry,
        tuple((step.name, step.location.path) for step in finding.chain),
    )


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """A stable hex fingerprint for each of ``findings`` (in their order), unique within the run."""
    order = sorted(
        range(len(findings)),
        key=lambda index: (
            findings[index].location.line,
            findings[index].location.col,
            findings[index].message,
        ),
    )
    seen: Counter[Identity] = Counter()
    result = [""] * len(findings)
    for index in order:
        key = identity(findings[index])
        occurrence = seen[key]
        seen[key] += 1
        hasher = hashlib.blake2b(repr((*key, occurrence)).encode("utf-8"), digest_size=16)
        result[index] = hasher.hexdigest()
    return result
