"""``unstall check``: a static analyzer for async code that can reach a blocking call."""

from __future__ import annotations

from unstall.check._model import ChainStep, Edit, Finding, Location

__all__ = ("ChainStep", "Edit", "Finding", "Location")
