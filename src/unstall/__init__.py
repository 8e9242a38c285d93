"""unstall: find what stalls an asyncio event loop, and move it off the loop.

The top-level names are loaded lazily, so ``import unstall`` costs almost nothing:

* ``unstall.watch()`` starts the runtime watchdog (see :mod:`unstall.watch`);
* ``await unstall.to_thread(fn, ...)``, ``await unstall.to_process(fn, ...)``,
  ``unstall.map(fn, items)``, ``@unstall.offload(...)`` and ``unstall.Offloader`` move work
  off the loop (see :mod:`unstall.offload`);
* ``unstall check`` / ``unstall run`` / ``unstall bench`` are the command line.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = (
    "Offloader",
    "__version__",
    "map",
    "map_list",
    "offload",
    "to_process",
    "to_thread",
    "watch",
)

_OFFLOAD_NAMES = frozenset({"Offloader", "map", "map_list", "to_process", "to_thread"})


def __getattr__(name: str) -> Any:
    if name in _OFFLOAD_NAMES:
        value = getattr(importlib.import_module("unstall.offload"), name)
        # Kept as a real attribute: later lookups (``await unstall.to_thread(...)`` in a hot
        # loop) no longer come through here.
        globals()[name] = value
        return value
    if name in ("watch", "offload"):
        # The subpackage module is itself callable: unstall.watch() / @unstall.offload(...).
        return importlib.import_module(f"unstall.{name}")
    raise AttributeError(f"module 'unstall' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
