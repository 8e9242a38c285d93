"""unstall.watch (being built)."""

from __future__ import annotations

__all__ = ()
