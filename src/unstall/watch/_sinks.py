"""Sinks: the plain callables an event is handed to, shared by the watcher and the tripwire."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

__all__ = ("Sinks",)

E = TypeVar("E")


class Sinks(Generic[E]):
    """Callables ``sink(event)``, called in the order they were added.

    :meth:`send` never raises: it counts the sinks that did and returns the count, for the
    owner's ``sink_errors``. ``add`` and ``remove`` may run on any thread while another sends:
    a send calls the sinks registered when it began.
    """

    __slots__ = ("_sinks",)

    def __init__(self, sinks: Iterable[Callable[[E], object]] = ()) -> None:
        self._sinks: list[Callable[[E], object]] = list(sinks)

    def add(self, sink: Callable[[E], object]) -> None:
        """Call ``sink`` with every future event."""
        self._sinks.append(sink)

    def remove(self, sink: Callable[[E], object]) -> None:
        """Stop calling ``sink``; no error when it is not registered."""
        with contextlib.suppress(ValueError):
            self._sinks.remove(sink)

    def send(self, event: E) -> int:
        """Call every sink with ``event``; the number of sinks that raised (nothing propagates)."""
        errors = 0
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception:
                errors += 1
        return errors
