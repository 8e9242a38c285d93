"""Value types produced by ``unstall check``: findings, their locations, chains and edits."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ("ChainStep", "Edit", "Finding", "Frequency", "Location")


class Frequency(enum.Enum):
    """How often a finding's blocking call runs while the program serves.

    ``EVERY``: each time the ``async def`` reaches it (the default tier). ``FIRST``: on the first
    call only (a cache or a lazy set-up fills, a module is first imported); still reported by
    default, labelled. ``STARTUP``: only while the process starts or stops (lifespan handlers,
    framework start/stop listeners, a server's start-up): an opt-in tier. ``TEST``: in test
    code (a ``tests`` or ``testing`` folder, ``test_*.py``, ``*_test.py``, ``testing.py``,
    ``conftest.py``), which a test
    runner drives one test at a time, not a serving program: an opt-in tier. ``EXAMPLE``: in
    example or demo code (an ``examples``, ``demos``, ``samples``, ``docs`` or ``tutorial``
    folder inside what is checked), which people run by hand to learn from: an opt-in tier.
    """

    EVERY = "every"
    FIRST = "first"
    STARTUP = "startup"
    TEST = "test"
    EXAMPLE = "example"


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
    the finding speaks for (the other files of a merged UNS906). ``frequency`` says how often
    it blocks and ``reason`` why not every time (``"functools.cache"``, ``"lifespan handler"``).
    ``more`` holds the chains to the other blocking calls the same call reaches, worst first
    (the finding itself reports the worst).
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
    frequency: Frequency = Frequency.EVERY
    reason: str | None = None
    more: tuple[tuple[ChainStep, ...], ...] = ()
