"""Turning live stacks into plain :class:`Frame` data, blaming a line, and finding the fix."""

from __future__ import annotations

import linecache
import os
import re
import sysconfig
from functools import lru_cache
from types import FrameType

from unstall.watch._model import Cause, Frame

__all__ = ("blame", "fix_for", "stack_of")

_MAX_DEPTH = 64
_LIBRARY_DIRS = tuple(
    os.path.normcase(os.path.realpath(p)) + os.sep
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)
_UNSTALL_DIR = (
    os.path.normcase(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))) + os.sep
)
_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(")


@lru_cache(maxsize=4096)
def is_user_file(filename: str) -> bool:
    """Whether ``filename`` is the user's code: not the standard library, not installed packages, not unstall."""
    if filename.startswith("<"):
        return False
    path = os.path.normcase(os.path.realpath(filename))
    if path.startswith(_UNSTALL_DIR) or "site-packages" in path or "dist-packages" in path:
        return False
    return not path.startswith(_LIBRARY_DIRS)


def stack_of(frame: FrameType | None) -> tuple[Frame, ...]:
    """The stack ending at ``frame`` as plain data, outermost first; never holds local values."""
    frames: list[Frame] = []
    while frame is not None and len(frames) < _MAX_DEPTH:
        code = frame.f_code
        lineno = frame.f_lineno or 0
        qualname = getattr(code, "co_qualname", code.co_name)
        module = frame.f_globals.get("__name__", "")
        source = linecache.getline(code.co_filename, lineno).strip()
        frames.append(
            Frame(
                code.co_filename,
                lineno,
                qualname,
                module if isinstance(module, str) else "",
                source,
            )
        )
        frame = frame.f_back
    frames.reverse()
    return tuple(frames)


def blame(stack: tuple[Frame, ...]) -> tuple[Frame | None, Frame | None]:
    """``(blamed, offender)``: the innermost user frame, and the innermost frame when it is library code."""
    if not stack:
        return None, None
    blamed = next((f for f in reversed(stack) if is_user_file(f.filename)), None)
    inner = stack[-1]
    offender = None if blamed is inner else inner
    return (blamed or inner), offender


@lru_cache(maxsize=1)
def _catalog() -> object:
    from unstall.catalog import default_catalog

    return default_catalog()


def _candidates(blamed: Frame | None, offender: Frame | None) -> list[str]:
    names: list[str] = []
    if offender is not None and offender.module:
        parts = offender.module.split(".")
        # "requests.sessions" + "Session.request" -> also "requests.Session.request"
        names.extend(
            ".".join(parts[:cut]) + "." + offender.function for cut in range(len(parts), 0, -1)
        )
    for frame in (offender, blamed):
        if frame is not None and frame.source:
            names.extend(reversed(_CALL.findall(frame.source)))
    return names


def fix_for(
    blamed: Frame | None, offender: Frame | None, cause: Cause
) -> tuple[str | None, str | None, str]:
    """``(code, entry name, fix text)`` from the catalog when the call is known, else generic by cause."""
    from unstall.catalog import Catalog

    try:
        catalog = _catalog()
        assert isinstance(catalog, Catalog)
        for name in _candidates(blamed, offender):
            entry = catalog.lookup(name)
            if entry is not None:
                return (
                    entry.code,
                    entry.name,
                    f"{entry.alternative} (offload: {entry.offload.value})",
                )
    except Exception:  # the catalog is advisory: a broken one must not break the watchdog
        pass
    if cause is Cause.CPU:
        return (
            None,
            None,
            "CPU-bound work on the loop: run it in a process (loop.run_in_executor with a process pool)",
        )
    if cause is Cause.GC:
        return (
            None,
            None,
            "garbage collection pause: reduce cyclic garbage or tune gc thresholds / gc.freeze()",
        )
    if cause is Cause.BLOCKED:
        return (
            None,
            None,
            "blocking call on the loop: run it in a thread (asyncio.to_thread) or use an async API",
        )
    return None, None, "move the long call off the loop (asyncio.to_thread or a process pool)"
