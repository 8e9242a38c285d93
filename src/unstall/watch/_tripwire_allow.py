"""Tripwire allow-lists: by module, by function qualified name, by catalog entry name."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from types import FrameType

__all__ = ("AllowList",)

_MAX_FRAMES = 128


def _prefixes(dotted: str) -> Iterable[str]:
    """``"a.b.c"`` -> ``"a"``, ``"a.b"``, ``"a.b.c"``."""
    end = dotted.find(".")
    while end != -1:
        yield dotted[:end]
        end = dotted.find(".", end + 1)
    yield dotted


class AllowList:
    """Names under which blocking calls are allowed, and which of them ever matched.

    An item is a module (``"logging"`` covers ``logging`` and every submodule), a function
    or method qualified name (``"myapp.cache.load"``, ``"myapp.cache.Cache.load"``; covers
    whatever that function calls, at any depth, and functions nested in it), or a catalog
    entry name (``"builtins.open"``) or audit event name (``"time.sleep"``). Items are matched
    against the stack's frames as ``module.qualname``, never against file paths. Thread-safe.
    """

    __slots__ = ("_fired", "_items", "_lock")

    def __init__(self, items: Iterable[str] = ()) -> None:
        cleaned: list[str] = []
        for item in items:
            if not isinstance(item, str) or not item.strip(".").strip():
                raise ValueError(
                    f"The tripwire allow-list item {item!r} is not valid; use a module "
                    "('logging'), a function's qualified name ('myapp.cache.load') or a "
                    "catalog entry name ('builtins.open')."
                )
            cleaned.append(item.strip())
        self._items = frozenset(cleaned)
        self._fired: set[str] = set()
        self._lock = threading.Lock()

    @property
    def items(self) -> frozenset[str]:
        """Every allow-list item."""
        return self._items

    def __bool__(self) -> bool:
        return bool(self._items)

    def match(self, names: Iterable[str], frame: FrameType | None) -> str | None:
        """The first item that allows this call, or ``None``; marks it as fired.

        ``names`` are the call's catalog names (entry name, aliases, audit event); ``frame``
        is the innermost frame of the caller, walked outwards.
        """
        items = self._items
        if not items:
            return None
        for name in names:
            if name in items:
                return self._fire(name)
        depth = 0
        while frame is not None and depth < _MAX_FRAMES:
            module = frame.f_globals.get("__name__")
            code = frame.f_code
            qualname = getattr(code, "co_qualname", code.co_name)
            key = f"{module}.{qualname}" if isinstance(module, str) and module else qualname
            for prefix in _prefixes(key):
                if prefix in items:
                    return self._fire(prefix)
            frame = frame.f_back
            depth += 1
        return None

    def _fire(self, item: str) -> str:
        if item not in self._fired:
            with self._lock:
                self._fired.add(item)
        return item

    def unused(self) -> tuple[str, ...]:
        """Items that never allowed a call so far, sorted: candidates to delete from the list."""
        with self._lock:
            return tuple(sorted(self._items - self._fired))

    def fired(self) -> tuple[str, ...]:
        """Items that allowed at least one call, sorted."""
        with self._lock:
            return tuple(sorted(self._fired))
