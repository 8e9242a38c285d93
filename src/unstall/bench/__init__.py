"""unstall.bench (being built)."""

from __future__ import annotations

__all__ = ()
