"""Code that runs only when no event loop is running in its thread.

A sync helper that serves both worlds tests for a running loop and blocks only without one::

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(fetch())  # no loop here: blocking this thread stalls nobody
    return loop.create_task(fetch())

Everything the blocking analysis explores runs on the event loop's thread while the loop
runs, so such a branch never runs there. The summarizer marks its uses ``NO_LOOP``
(:data:`unstall.check._summary_types.NO_LOOP`); the other rules still see them.

Recognized tests, through the module's imports (``from asyncio import get_running_loop``):

- ``loop.is_running()`` where ``loop`` is ``asyncio.get_event_loop()`` or
  ``asyncio.get_running_loop()`` (called in place, or a local bound to it);
- ``asyncio._get_running_loop()``, or a local bound to it or to ``get_running_loop()``
  (whose other value is ``None``, set where it raised): truthy, or compared with ``is None``;
- ``not``, ``and`` and ``or`` of those;
- a ``try`` whose first statement calls ``get_running_loop()``, ``get_event_loop()``,
  ``asyncio.current_task()`` or ``sniffio.current_async_library()``: its handler of
  ``RuntimeError`` (or a base of it, or sniffio's ``AsyncLibraryNotFoundError``).
"""

from __future__ import annotations

import ast

from unstall.check._scope import Scope, expr_ref

__all__ = ("handler_without_loop", "without_loop")

_RUNNING = ("asyncio", "asyncio.events")
# Calls whose result is the running loop, or None when there is none.
_LOOP_OR_NONE = frozenset(
    f"{module}.{name}()"
    for module in _RUNNING
    for name in ("_get_running_loop", "get_running_loop")
)
# Calls whose result is the thread's loop; from a running loop's thread, the running one.
_THREAD_LOOP = _LOOP_OR_NONE | frozenset(
    {
        *(f"{module}.get_event_loop()" for module in _RUNNING),
        "asyncio.get_event_loop_policy().get_event_loop()",
        "asyncio.events.get_event_loop_policy().get_event_loop()",
    }
)
# Calls that raise RuntimeError when no loop is running in the thread.
_RAISING = frozenset(
    {
        *(f"{module}.get_running_loop" for module in _RUNNING),
        *(f"{module}.get_event_loop" for module in _RUNNING),
        "asyncio.current_task",
        "asyncio.tasks.current_task",
        "sniffio.current_async_library",
    }
)
# What a handler catches that a missing loop raises.
_CAUGHT = frozenset(
    {
        "RuntimeError",
        "Exception",
        "BaseException",
        "builtins.RuntimeError",
        "builtins.Exception",
        "builtins.BaseException",
        "sniffio.AsyncLibraryNotFoundError",
        "sniffio._impl.AsyncLibraryNotFoundError",
    }
)
_DEPTH = 8


def without_loop(test: ast.expr, holds: bool, scope: Scope) -> bool:
    """Whether ``test`` being ``holds`` means no event loop runs in this thread."""
    return _implies(test, holds, scope, _DEPTH) is False


def _implies(test: ast.expr, holds: bool, scope: Scope, depth: int) -> bool | None:
    """What ``test`` being ``holds`` says of a running loop: ``True`` (one runs), ``False``
    (none runs), ``None`` (nothing)."""
    if depth <= 0:
        return None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _implies(test.operand, not holds, scope, depth - 1)
    if isinstance(test, ast.BoolOp):
        # ``a and b`` holding: both hold; failing: one fails (and conversely for ``or``).
        every = isinstance(test.op, ast.And) == holds
        said = [_implies(value, holds, scope, depth - 1) for value in test.values]
        if every:
            # All parts are as ``holds`` says: any one that tells, tells.
            told = {value for value in said if value is not None}
            return told.pop() if len(told) == 1 else None
        # One part (unknown which) is: only what all of them say.
        return said[0] if said and all(value == said[0] for value in said) else None
    running = _running(test, scope)
    if running is None:
        return None
    return running if holds else not running


def _running(test: ast.expr, scope: Scope) -> bool | None:
    """``True`` when ``test`` is true exactly while a loop runs in the thread, else ``None``."""
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "is_running"
        and not test.args
        and not test.keywords
    ):
        return True if expr_ref(test.func.value, scope) in _THREAD_LOOP else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        right = test.comparators[0]
        if isinstance(right, ast.Constant) and right.value is None:
            subject = test.left
            if expr_ref(subject, scope) in _LOOP_OR_NONE:
                if isinstance(test.ops[0], ast.IsNot):
                    return True
                if isinstance(test.ops[0], ast.Is):
                    return False
        return None
    if isinstance(test, (ast.Name, ast.Call)) and expr_ref(test, scope) in _LOOP_OR_NONE:
        return True
    return None


def handler_without_loop(body: list[ast.stmt], handler: ast.ExceptHandler, scope: Scope) -> bool:
    """Whether an ``except`` handler runs only when no loop runs in the thread: the ``try``
    begins with a call that raises ``RuntimeError`` then, and the handler catches that."""
    if not body or not _catches_runtime_error(handler.type, scope):
        return False
    first = body[0]
    if isinstance(first, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    return any(
        isinstance(node, ast.Call) and expr_ref(node.func, scope) in _RAISING
        for node in ast.walk(first)
    )


def _catches_runtime_error(caught: ast.expr | None, scope: Scope) -> bool:
    if caught is None:
        return True
    types = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    for kind in types:
        if (
            isinstance(kind, ast.Name)
            and kind.id in _CAUGHT
            and scope.lookup(kind.id)
            in (
                None,
                kind.id,
                f"builtins.{kind.id}",
            )
        ):
            return True
        if expr_ref(kind, scope) in _CAUGHT:
            return True
    return False
