"""Value types produced by ``unstall check``: findings, their locations, chains and edits."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ("ChainStep", "Edit", "Finding", "Location")


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A span in a source file. Lines are 1-based, columns 0-based (as in ``ast``)."""

    path: str
    line: int
    col: int = 0
    end_line: int | None = None
    end_col: int | None = None


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One hop of the evidence chain: a function (or the blocking callable) and where it is called."""

    name: str
    location: Location


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text between ``start`` and ``end`` (line, col pairs, same file) with ``text``."""

    path: str
    start: tuple[int, int]
    end: tuple[int, int]
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by ``unstall check``.

    ``location`` is the call inside the ``async def`` (where the fix goes); ``chain`` the
    evidence from that call to the blocking callable, the last step being the catalog entry.
    ``entry`` is the blocking callable's qualified name (``None`` for UNS9xx file problems).
    ``edits`` is a mechanical fix, empty when none is safe; ``fix_safe`` says whether
    ``--fix`` applies it (unsafe ones need ``--unsafe-fixes``). ``related`` are other places
    the finding speaks for (the other files of a merged UNS906).
    """

    code: str
    message: str
    location: Location
    function: str | None = None
    entry: str | None = None
    chain: tuple[ChainStep, ...] = ()
    fix: str | None = None
    edits: tuple[Edit, ...] = field(default=())
    fix_safe: bool = False
    related: tuple[Location, ...] = ()
