"""pytest plugin: fail tests that stall the event loop or call a blocking function on it (being built)."""

from __future__ import annotations

__all__ = ()
