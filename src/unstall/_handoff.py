"""Where the offload engine tells a watcher that results of work on other threads are coming back.

The thread engine completes its futures on the loop thread and steps the awaiting tasks right
there. A stall the loop's heartbeat finds only afterwards would then find no task still waiting
on a thread, and could not say which line handed the work off. So before it wakes anything, the
engine calls each of ``listeners`` with the loop, on the loop thread. A listener must be cheap
and must never raise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

__all__ = ("listeners",)

listeners: list[Callable[[asyncio.AbstractEventLoop], None]] = []
