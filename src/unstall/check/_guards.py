"""Read the conditions that decide whether code runs: guards on parameters, first-use checks, exits.

Part of the summarizer. :func:`atoms` turns an ``if`` test into the conditions on the
function's parameters that hold in one branch (``if verify_ssl and port is None:`` gives
"verify_ssl is truthy" and "port is None" for the body), so the analysis can prune a branch that
a constant argument decides. :func:`first_use` recognises lazy set-up that fills what it tests
(``if self._ctx is None: self._ctx = make()``), whose body runs on the first call only, and
:func:`cache_aside` the rest of a block after a cache hit returned early.
:func:`exits` tells a block that always leaves (``return``, ``raise``), after which the rest of
the enclosing block runs only when the test failed. :func:`loaded_module` reads a
``sys.modules`` test (``if "pkg.mod" in sys.modules:``), under which importing the module runs
nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Sequence

from unstall.check._summary_types import (
    EQUALS,
    HASATTR,
    IS_NONE,
    ISINSTANCE,
    KEYED,
    LAZY,
    TRUTHY,
)

__all__ = (
    "Atom",
    "atoms",
    "cache_aside",
    "exits",
    "first_use",
    "first_use_handler",
    "loaded_module",
    "nonempty_queue",
    "work_awaited",
)

# (subject parameter, test, value, negated): one condition of a Guard, before it is numbered.
Atom = tuple[str, int, object, bool]
# How the walker turns an expression into a constant (``_argument_value``); ``...`` when it is none.
Evaluate = Callable[[ast.expr], object]

_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def atoms(test: ast.expr, holds: bool, params: Collection[str], evaluate: Evaluate) -> list[Atom]:
    """Conditions on ``params`` that are all true where ``test`` is ``holds``.

    Only what can be said for sure is returned: ``a and b`` splits when it holds, ``a or b``
    when it fails, ``not`` flips, and anything else about a parameter that is not one of the
    simple tests gives nothing (the branch may run).
    """
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return atoms(test.operand, not holds, params, evaluate)
    if isinstance(test, ast.BoolOp):
        splits = isinstance(test.op, ast.And) == holds
        if not splits:
            return []
        found: list[Atom] = []
        for value in test.values:
            found.extend(atoms(value, holds, params, evaluate))
        return found
    atom = _atom(test, params, evaluate)
    if atom is None:
        return []
    subject, kind, constant, negated = atom
    return [(subject, kind, constant, negated != (not holds))]


def _atom(test: ast.expr, params: Collection[str], evaluate: Evaluate) -> Atom | None:
    if isinstance(test, ast.Name):
        return (test.id, TRUTHY, None, False) if test.id in params else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if not (isinstance(left, ast.Name) and left.id in params):
            left, right = right, left
            if not (isinstance(left, ast.Name) and left.id in params):
                return None
        negated = isinstance(op, (ast.IsNot, ast.NotEq))
        if not isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
            return None
        if isinstance(right, ast.Constant) and right.value is None:
            return (left.id, IS_NONE, None, negated)
        value = evaluate(right)
        if value is ...:
            return None
        return (left.id, EQUALS, value, negated)
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id in ("isinstance", "hasattr")
        and len(test.args) == 2
        and not test.keywords
        and isinstance(test.args[0], ast.Name)
        and test.args[0].id in params
    ):
        subject, second = test.args[0].id, test.args[1]
        if test.func.id == "hasattr":
            if isinstance(second, ast.Constant) and isinstance(second.value, str):
                return (subject, HASATTR, second.value, False)
            return None
        names: list[str] = []
        for item in second.elts if isinstance(second, ast.Tuple) else [second]:
            ref = evaluate(item)
            if not isinstance(ref, frozenset) or len(ref) != 1:
                return None
            names.extend(str(name) for name in ref)
        return (subject, ISINSTANCE, tuple(sorted(names)), False) if names else None
    return None


def loaded_module(test: ast.expr, holds: bool) -> str | None:
    """The module that ``test`` being ``holds`` says is in ``sys.modules`` (``"pkg.mod" in
    sys.modules`` holding, ``not in`` failing), if it says so."""
    while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, holds = test.operand, not holds
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) == holds:
        # ``a and b`` holding, ``a or b`` failing: each part says the same.
        for value in test.values:
            found = loaded_module(value, holds)
            if found is not None:
                return found
        return None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if not (
        isinstance(left, ast.Constant)
        and isinstance(left.value, str)
        and isinstance(right, ast.Attribute)
        and right.attr == "modules"
        and isinstance(right.value, ast.Name)
        and right.value.id == "sys"
    ):
        return None
    if (isinstance(op, ast.In) and holds) or (isinstance(op, ast.NotIn) and not holds):
        return left.value
    return None


def nonempty_queue(test: ast.expr) -> ast.expr | None:
    """The queue a test says holds an item (``not q.empty()``, ``q.qsize()``, ``q.qsize() > 0``):
    a ``get()`` where it holds returns at once, as ``get(block=False)`` would. ``None`` otherwise."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _method_receiver(test.operand, "empty")
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Gt, ast.NotEq))
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == 0
    ):
        return _method_receiver(test.left, "qsize")
    return _method_receiver(test, "qsize")


def work_awaited(body: Sequence[ast.stmt], name: str) -> bool:
    """Whether a ``with`` block awaits all the work it gives the executor bound to ``name``:
    the block awaits, and ``name`` is read only as the executor of ``run_in_executor(name,
    ...)`` or in ``asyncio.wrap_future(name.submit(...))``. When the block ends, that work is
    done (or was cancelled), and the executor's exit has nothing to wait for."""
    given: set[int] = set()
    reads: list[ast.Name] = []
    awaits = False
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Await):
                awaits = True
            elif isinstance(node, ast.Name):
                if node.id == name and isinstance(node.ctx, ast.Load):
                    reads.append(node)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                first = node.args[0]
                if node.func.attr == "run_in_executor" and isinstance(first, ast.Name):
                    given.add(id(first))
                elif node.func.attr == "wrap_future" and isinstance(first, ast.Call):
                    receiver = _submit_receiver(first)
                    if receiver is not None:
                        given.add(id(receiver))
    return awaits and bool(reads) and all(id(read) in given for read in reads)


def _submit_receiver(call: ast.Call) -> ast.Name | None:
    function = call.func
    if (
        isinstance(function, ast.Attribute)
        and function.attr == "submit"
        and isinstance(function.value, ast.Name)
    ):
        return function.value
    return None


def _method_receiver(node: ast.expr, method: str) -> ast.expr | None:
    # ``x.method()`` with no arguments: ``x``.
    if (
        isinstance(node, ast.Call)
        and not node.args
        and not node.keywords
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
    ):
        return node.func.value
    return None


def exits(body: Sequence[ast.stmt]) -> bool:
    """Whether a block always leaves the enclosing one (it ends in ``return``, ``raise``, ...)."""
    return bool(body) and isinstance(body[-1], _EXITS)


def first_use(
    test: ast.expr, holds: bool, body: Sequence[ast.stmt], globals_: Collection[str] = ()
) -> int:
    """``LAZY`` when ``body``, run where ``test`` is ``holds``, is a first-use set-up that fills
    what the test checks (with ``KEYED`` when that is one item of a mapping), else 0.

    The test asks whether something is still missing (``x is None``, ``not x``, ``key not in
    cache``, ``not hasattr(obj, "name")``) and the body stores into it, somewhere that outlives
    the call: an attribute, an item, a global, or a local that is stored into one of those too
    (``client = cache[key] = make()``), or a name in ``globals_`` (declared ``global``). Then
    the body runs once per thing filled.
    """
    subject = _missing(test, holds)
    if subject is None or not _fills(subject, body, globals_):
        return 0
    return _lazy(subject)


# Methods that store a value under a key in a cache object (``cache.set(key, value)``); not
# ``put``, an HTTP client's verb (a GET, then a PUT to the same URL, is no cache).
_STORES = frozenset({"set", "setex", "set_item"})


def cache_aside(before: Sequence[ast.stmt], check: ast.If, rest: Sequence[ast.stmt]) -> int:
    """``LAZY | KEYED`` when ``rest`` runs only on a cache miss, else 0.

    The cache-aside idiom: a value looked up under a key (``token = cache.get(key)``, in
    ``before``), returned at once when it passes a test (``if token: return token``, whatever
    the test: ``is_not_empty(token)``), and otherwise made and stored under the same key in the
    same cache (``cache.set(key, token, expire)``, ``cache[key] = token``) in ``rest``. Then
    ``rest`` runs once per key (again when the cache lets an entry expire).
    """
    if len(check.body) != 1:
        return 0
    returned = check.body[0]
    if not (isinstance(returned, ast.Return) and isinstance(returned.value, ast.Name)):
        return 0
    name = returned.value.id
    if not any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(check.test)):
        return 0
    looked_up = _lookup(before, name)
    if looked_up is None:
        return 0
    cache, key = looked_up
    if _fills(ast.Subscript(value=cache, slice=key, ctx=ast.Load()), rest, ()):
        return LAZY | KEYED  # ``cache[key] = token``
    wanted = (ast.dump(_stored(cache)), ast.dump(_stored(key)))
    for node in _statements(rest):
        call = node.value if isinstance(node, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in _STORES
            and call.args
            and (ast.dump(_stored(call.func.value)), ast.dump(_stored(call.args[0]))) == wanted
        ):
            return LAZY | KEYED  # ``cache.set(key, token, expire)``
    return 0


def _lookup(before: Sequence[ast.stmt], name: str) -> tuple[ast.expr, ast.expr] | None:
    """The cache and key of the last ``name = cache.get(key, ...)`` in ``before``."""
    for statement in reversed(before):
        if not isinstance(statement, ast.Assign):
            continue
        if not any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
            continue
        value = statement.value
        if (
            len(statement.targets) == 1
            and isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "get"
            and value.args
        ):
            return value.func.value, value.args[0]
        return None  # bound otherwise last
    return None


def _lazy(subject: ast.expr) -> int:
    """The flags of a set-up that fills ``subject``: once per key for an item of a mapping."""
    return LAZY | KEYED if isinstance(subject, ast.Subscript) else LAZY


# What a ``try`` body's lookup raises when the thing looked up is missing.
_MISSING_ERRORS = {
    "KeyError": ast.Subscript,
    "LookupError": ast.Subscript,
    "AttributeError": ast.Attribute,
}


def first_use_handler(
    body: Sequence[ast.stmt], handler: ast.ExceptHandler, globals_: Collection[str] = ()
) -> int:
    """``LAZY`` (and ``KEYED`` for a mapping's item) when ``handler`` is a first-use set-up of
    what the ``try`` ``body`` looks up, else 0: ``try: return self._dbs[name]`` / ``except
    KeyError: db = self._dbs[name] = open(...)`` (``AttributeError`` for an attribute). Then the
    handler runs once per thing filled."""
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    kinds = {
        _MISSING_ERRORS[name.id]
        for name in names
        if isinstance(name, ast.Name) and name.id in _MISSING_ERRORS
    }
    if not kinds or len(body) > 3:
        return 0
    looked_up = [
        node
        for statement in body
        for node in ast.walk(statement)
        if isinstance(node, (ast.Subscript, ast.Attribute))
        and type(node) in kinds
        and isinstance(node.ctx, ast.Load)
    ]
    for subject in looked_up[:8]:
        if _fills(subject, handler.body, globals_):
            return _lazy(subject)
    return 0


def _fills(subject: ast.expr, body: Sequence[ast.stmt], globals_: Collection[str]) -> bool:
    """Whether ``body`` stores into ``subject`` somewhere that outlives the call."""
    wanted = ast.dump(_stored(subject))
    for node in _statements(body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets = [node.target]
        dumps = [ast.dump(_stored(target)) for target in targets]
        if wanted not in dumps:
            continue
        if not isinstance(subject, ast.Name):
            return True  # an attribute or an item outlives the call
        if any(isinstance(target, (ast.Attribute, ast.Subscript)) for target in targets):
            return True  # ``client = cache[key] = make()``
        if isinstance(subject, ast.Name) and subject.id in globals_:
            return True
    return False


def _missing(test: ast.expr, holds: bool) -> ast.expr | None:
    """What ``test`` finds missing where it is ``holds``: the expression to be filled, or ``None``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _missing(test.operand, not holds)
    if isinstance(test, (ast.Name, ast.Attribute, ast.Subscript)):
        return test if not holds else None  # ``if not x:`` is ``x`` missing
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(right, ast.Constant) and right.value is None:
            if isinstance(op, ast.Is) == holds and isinstance(op, (ast.Is, ast.IsNot)):
                return test.left
            return None
        if isinstance(op, (ast.In, ast.NotIn)) and isinstance(op, ast.NotIn) == holds:
            # ``key not in cache`` misses ``cache[key]``
            return ast.Subscript(value=right, slice=test.left, ctx=ast.Load())
        return None
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id == "hasattr"
        and len(test.args) == 2
        and isinstance(test.args[1], ast.Constant)
        and isinstance(test.args[1].value, str)
        and not holds
    ):
        return ast.Attribute(value=test.args[0], attr=test.args[1].value, ctx=ast.Load())
    return None


def _stored(target: ast.expr) -> ast.expr:
    """A store target as the load it fills (context-free, for comparison)."""
    if isinstance(target, ast.Name):
        return ast.Name(id=target.id, ctx=ast.Load())
    if isinstance(target, ast.Attribute):
        return ast.Attribute(value=_stored(target.value), attr=target.attr, ctx=ast.Load())
    if isinstance(target, ast.Subscript):
        return ast.Subscript(
            value=_stored(target.value), slice=_stored(target.slice), ctx=ast.Load()
        )
    return target


def _statements(body: Sequence[ast.stmt]) -> list[ast.stmt]:
    """The statements of ``body`` and of the blocks nested in it (not in nested functions)."""
    found: list[ast.stmt] = []
    pending = list(body)
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                pending.extend(item for item in inner if isinstance(item, ast.stmt))
                pending.extend(
                    part
                    for handler in inner
                    if isinstance(handler, ast.ExceptHandler)
                    for part in handler.body
                )
    return found
