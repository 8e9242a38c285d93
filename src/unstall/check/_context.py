"""What a call tells its callee: the constant arguments bound to its parameters, and what they decide.

A *context* is the part of a call's arguments the analysis can follow into the callee: each
parameter the callee tests or passes on, bound to a constant (a literal, a named constant),
from the call site's argument, the caller's own context (``verify_ssl`` passed on as
``verify_ssl``), or the parameter's default when the call leaves it out. With it,
:func:`live` prunes the uses of a branch the constants decide (``if verify_ssl:`` with
``verify_ssl=True``), and a catalog condition (``flags=socket.AI_NUMERICHOST``) is met by a
value that reaches the blocking call through a parameter (:func:`argument`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from unstall.check._summary_types import (
    ASSIGN,
    EQUALS,
    HASATTR,
    IS_NONE,
    ISINSTANCE,
    TRUTHY,
    FunctionInfo,
    Guard,
    Param,
    Use,
)

__all__ = (
    "Context",
    "argument",
    "assignments",
    "bind",
    "complete",
    "live",
    "relevant",
    "visible",
)

# Sorted (parameter, constant) pairs: hashable, so a function explored with it is one node.
Context = tuple[tuple[str, object], ...]

# Builtin types an isinstance guard may name, by the reference the summary gives them.
_BUILTIN_TYPES: dict[str, tuple[type, ...]] = {}
for _type in (str, bytes, int, float, bool, dict, list, tuple, set, frozenset, type(None)):
    _BUILTIN_TYPES[_type.__name__] = (_type,)
    _BUILTIN_TYPES[f"builtins.{_type.__name__}"] = (_type,)
del _type


# The in-memory buffers an argument may be made as at the call (``argument_value`` records
# ``io.BytesIO(data)`` as ``frozenset({"io.BytesIO()"})``), each with the classes
# ``isinstance`` says it is an instance of.
BUFFER_TYPES: dict[str, frozenset[str]] = {
    "io.BytesIO()": frozenset(
        {"io.BytesIO", "io.BufferedIOBase", "io.IOBase", "typing.BinaryIO", "typing.IO"}
    ),
    "io.StringIO()": frozenset(
        {"io.StringIO", "io.TextIOBase", "io.IOBase", "typing.TextIO", "typing.IO"}
    ),
}
# Classes no in-memory buffer is an instance of (``isinstance(fp, (str, os.PathLike))``).
_NOT_BUFFER = frozenset({*_BUILTIN_TYPES, "os.PathLike", "pathlib.Path", "pathlib.PurePath"})


def _buffer_isinstance(value: frozenset[object], expected: tuple[object, ...]) -> bool | None:
    """``isinstance(value, expected)`` for a new in-memory buffer, or ``None`` when the value is
    not one (a named constant) or a class is one the analysis cannot place."""
    if len(value) != 1:
        return None
    [made] = value
    types = BUFFER_TYPES.get(str(made))
    if types is None:
        return None
    names = [str(name) for name in expected]
    if any(name in types for name in names):
        return True
    return False if all(name in _NOT_BUFFER for name in names) else None


def relevant(info: FunctionInfo, *, memoized: bool = False) -> frozenset[str]:
    """The parameters whose value matters in ``info``: tested by a guard, passed on to a call,
    or, for a memoized function, every parameter (they make the cache key)."""
    if memoized:
        return frozenset((*info.params, *info.keyword_only))
    names = {guard.subject for guard in info.guards}
    for use in info.uses:
        for _, value in use.keywords:
            if type(value) is Param:
                names.add(value.name)
    return frozenset(names)


def argument(value: object, context: Mapping[str, object]) -> object:
    """An argument as recorded at the call, with the caller's parameter replaced by its constant."""
    if type(value) is Param:
        return context.get(value.name, ...)
    return value


def bind(
    info: FunctionInfo, use: Use, caller: Mapping[str, object], wanted: frozenset[str]
) -> Context:
    """The context a call ``use`` (made where ``caller`` holds) gives the function ``info``.

    Only the ``wanted`` parameters are bound, each to a constant or left out when unknown:
    an argument passed positionally or by keyword, else the default when the call leaves the
    parameter out. With ``*args`` or ``**kwargs`` at the call, a parameter it does not name
    could come from them, so it gets no default.
    """
    if not wanted:
        return ()
    given: dict[str, object] = {}
    count = 0
    starred = False
    for key, recorded in use.keywords:
        if key == "#":
            count = recorded if isinstance(recorded, int) else 0
        elif key == "*":
            starred = True
        else:
            given[key] = recorded
    defaults = dict(info.defaults)
    bound: list[tuple[str, object]] = []
    for position, name in enumerate(info.params):
        if name not in wanted:
            continue
        value: object = ...
        if f"@{position}" in given:
            value = argument(given[f"@{position}"], caller)
        elif name in given:
            value = argument(given[name], caller)
        elif position >= count and not starred:
            value = defaults.get(name, ...)
        if value is not ...:
            bound.append((name, value))
    for name in info.keyword_only:
        if name not in wanted:
            continue
        if name in given:
            keyword = argument(given[name], caller)
        else:
            keyword = ... if starred else defaults.get(name, ...)
        if keyword is not ...:
            bound.append((name, keyword))
    return tuple(sorted(bound, key=lambda pair: pair[0]))


def complete(info: FunctionInfo, context: Context) -> bool:
    """Whether ``context`` binds every parameter of ``info`` (the whole cache key of a memo)."""
    return not info.variadic and len(context) == len(info.params) + len(info.keyword_only)


def assignments(info: FunctionInfo) -> tuple[int, ...]:
    """The indexes of the uses that give a parameter a new value, in order."""
    return tuple(index for index, use in enumerate(info.uses) if use.kind == ASSIGN)


def visible(
    info: FunctionInfo, index: int, context: Mapping[str, object], assigned: Sequence[int]
) -> Mapping[str, object]:
    """``context`` as it still holds at the use ``index``: without the parameters a live
    assignment before it gave a new value (``address = resolve(address)`` under ``if address:``
    is dead when ``address`` is None, and leaves it None)."""
    if not context or not assigned or assigned[0] >= index:
        return context
    dropped: set[str] = set()
    uses = info.uses
    for position in assigned:
        if position >= index:
            break
        use = uses[position]
        if use.ref in context and live(info, use, context):
            dropped.add(use.ref)
    if not dropped:
        return context
    return {name: value for name, value in context.items() if name not in dropped}


def live(info: FunctionInfo, use: Use, context: Mapping[str, object]) -> bool:
    """Whether ``use`` may run in a call made with ``context``: no guard it sits under is false."""
    index = use.guard
    guards = info.guards
    while 0 <= index < len(guards):
        guard = guards[index]
        if guard.subject in context and _holds(guard, context[guard.subject]) is False:
            return False
        index = guard.parent
    return True


def _holds(guard: Guard, value: object) -> bool | None:
    """Whether ``guard`` holds for a parameter bound to the constant ``value`` (``None``: cannot tell)."""
    result = _test(guard.test, guard.value, value)
    if result is None:
        return None
    return result != guard.negated


def _test(test: int, expected: object, value: object) -> bool | None:
    named = isinstance(value, frozenset)
    if test == IS_NONE:
        return False if named else value is None
    if test == TRUTHY:
        # A named constant's truth is unknown (an enum member may be falsy; a flag may be 0).
        return None if named else bool(value)
    if test == EQUALS:
        if named or isinstance(expected, frozenset):
            # The same named constant is equal; two names may still be one value (aliases).
            return True if value == expected else None
        return bool(value == expected)
    if test == ISINSTANCE and isinstance(value, frozenset) and isinstance(expected, tuple):
        return _buffer_isinstance(value, expected)
    if test == ISINSTANCE and not named and isinstance(expected, tuple):
        types: list[type] = []
        for name in expected:
            known = _BUILTIN_TYPES.get(str(name))
            if known is None:
                return None  # a type the analysis cannot place the constant against
            types.extend(known)
        return isinstance(value, tuple(types))
    if test == HASATTR:
        return None
    return None
