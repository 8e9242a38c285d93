"""Helpers shared by the tripwire tests: rule codes by kind, marked lines, picking one event."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from unstall.catalog import Kind, default_catalog
from unstall.watch import TripwireEvent


def code_of(kind: Kind) -> str:
    """The rule code the catalog gives ``kind``."""
    return default_catalog().kind_info(kind).code


def line_of(path: str, marker: str) -> int:
    """The number of the line of ``path`` that ends with the comment ``# marker``."""
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if line.rstrip().endswith(f"# {marker}"):
            return number
    raise AssertionError(marker)


def only(events: Iterable[TripwireEvent], name: str) -> TripwireEvent:
    """The single event for the blocking callable ``name`` (fails when there are none or several)."""
    events = list(events)
    found = [e for e in events if e.name == name]
    assert len(found) == 1, [(e.name, e.detail) for e in events]
    return found[0]
