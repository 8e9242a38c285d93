"""Naming callables and objects in messages and statistics, without showing their values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ("describe", "qualname")


def qualname(fn: Callable[..., Any]) -> str:
    """``module.qualname`` of a callable, for messages and per-function statistics."""
    target = getattr(fn, "__wrapped__", fn)
    module = getattr(target, "__module__", None) or "?"
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{name}"


def describe(obj: Any) -> str:
    """Name an object by its type (and its name for callables), never by its value."""
    if callable(obj) and hasattr(obj, "__qualname__"):
        return f"{type(obj).__name__} {qualname(obj)!r}"
    return f"a {type(obj).__qualname__} object"
