"""Naming exported classes and functions by the public module that exports them."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping

__all__ = ("publish",)


def publish(module: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Set ``__module__`` to ``module`` on the classes and functions ``names`` of ``namespace``.

    Reprs, tracebacks, docs and pickles then name the public path (``unstall.Offloader``)
    rather than the private module a name is defined in; ``module`` must export each name.
    A decorated function (``functools.cache``) is renamed as the wrapper it is. Names not
    bound yet (loaded lazily) and other values (constants, type aliases) are skipped.
    """
    for name in names:
        value = namespace.get(name)
        if inspect.isclass(value) or (
            callable(value) and inspect.isfunction(inspect.unwrap(value))
        ):
            value.__module__ = module
