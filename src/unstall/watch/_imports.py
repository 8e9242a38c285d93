"""Run a callback right after a module is imported: how a uvloop imported later gets its hook.

``unstall run`` starts the watcher before the program imports anything, so the program's
``import uvloop`` comes after the watcher looked for it; a loop the program then starts at
once, and stalls before its first ``await``, would run unwatched until the watchdog's next
look. :class:`AfterImport` is a finder at the front of ``sys.meta_path`` that answers for one
module name only: it finds the module's spec through the other finders, and wraps that
spec's loader so that ``callback(module)`` runs once the module has executed. Every other
import costs one string comparison.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import types
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from typing import Any

__all__ = ("AfterImport",)

logger = logging.getLogger("unstall")


class AfterImport:
    """Calls ``callback(module)`` once module ``name`` has been imported (any thread).

    :meth:`install` and :meth:`remove` are idempotent. The callback's exceptions are logged at
    debug level, never raised into the import.
    """

    def __init__(self, name: str, callback: Callable[[types.ModuleType], object]) -> None:
        self.name = name
        self._callback = callback
        self._finding = threading.local()

    def install(self) -> AfterImport:
        """Put the finder first in ``sys.meta_path``."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)
        return self

    def remove(self) -> None:
        """Take the finder out of ``sys.meta_path``."""
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec the other finders give ``name``, its loader wrapped; ``None`` for any other."""
        if fullname != self.name or getattr(self._finding, "busy", False):
            return None
        self._finding.busy = True
        try:
            spec = self._others(fullname, path, target)
        finally:
            self._finding.busy = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        try:
            self._wrap(spec.loader)
        except (AttributeError, TypeError):  # a loader that takes no attribute: leave it be
            return spec
        return spec

    def _others(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None
    ) -> ModuleSpec | None:
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                return spec
        return None

    def _wrap(self, loader: Any) -> None:
        # on the instance: a loader is made for this one module, and its class stays untouched
        original = loader.exec_module
        callback = self._callback

        def exec_module(module: types.ModuleType) -> None:
            original(module)
            try:
                callback(module)
            except Exception:
                logger.debug("unstall: the after-import hook failed", exc_info=True)

        loader.exec_module = exec_module
