"""Loop start-up hook: ``run_forever`` wrapped on asyncio's base loop, and on uvloop's once imported."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from unstall.watch._loops import LoopState

__all__ = ("WRAPPER_CODE", "RunForeverPatch")


class _Patched(NamedTuple):
    original: Callable[..., Any]  # the class's own run_forever, or the inherited one
    wrapper: Callable[..., Any]


class RunForeverPatch:
    """Wraps ``run_forever`` of loop classes so that a loop is attached for as long as it runs.

    ``attach(loop)`` runs on the loop's thread as the loop starts; what it returns (``None``:
    nothing was attached) is given to ``detach`` when ``run_forever`` returns or raises. Every
    ``asyncio.run``, ``Runner`` and ``run_until_complete`` goes through ``run_forever``.
    Not thread-safe: the owner serialises calls (the watcher's lock).
    """

    __slots__ = ("_attach", "_detach", "_patched")

    def __init__(
        self,
        attach: Callable[[asyncio.AbstractEventLoop], LoopState | None],
        detach: Callable[[LoopState], object],
    ) -> None:
        self._attach = attach
        self._detach = detach
        self._patched: dict[type[Any], _Patched] = {}

    def patch(self, cls: type[Any]) -> None:
        """Wrap ``cls.run_forever``; a class wrapped already is left alone."""
        if cls in self._patched:
            return
        original = cls.__dict__.get("run_forever") or cls.run_forever
        attach, detach = self._attach, self._detach

        def run_forever(loop: asyncio.AbstractEventLoop) -> Any:
            state = attach(loop)
            try:
                return original(loop)
            finally:
                if state is not None:
                    detach(state)

        run_forever.__wrapped__ = original  # type: ignore[attr-defined]
        cls.run_forever = run_forever
        self._patched[cls] = _Patched(original, run_forever)

    def patch_uvloop(self) -> bool:
        """Wrap ``uvloop.Loop`` once uvloop is imported; ``True`` when this call wrapped it."""
        uvloop = sys.modules.get("uvloop")
        loop_cls = getattr(uvloop, "Loop", None)
        if isinstance(loop_cls, type) and loop_cls not in self._patched:
            self.patch(loop_cls)
            return True
        return False

    def restore(self) -> None:
        """Put every original back, unless someone wrapped it again since (theirs stays)."""
        for cls, (original, wrapper) in self._patched.items():
            if cls.__dict__.get("run_forever") is wrapper:
                cls.run_forever = original
        self._patched.clear()


# The code every wrapped ``run_forever`` runs: on a loop that runs its callbacks from C
# (uvloop), the frame right below a callback's.
WRAPPER_CODE: CodeType = next(
    const
    for const in RunForeverPatch.patch.__code__.co_consts
    if isinstance(const, CodeType) and const.co_name == "run_forever"
)
