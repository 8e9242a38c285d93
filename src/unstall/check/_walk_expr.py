"""Walk expressions and record their uses (the expression half of :mod:`unstall.check._walk`)."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable
from sys import intern
from typing import Any, ClassVar

from unstall.check._context import BUFFER_TYPES
from unstall.check._file_context import ClassBuilder, FileContext
from unstall.check._guards import Atom, atoms
from unstall.check._loop_guard import without_loop
from unstall.check._scope import UNKNOWN, Each, FunctionScope, Scope, expr_ref
from unstall.check._summary_types import (
    AWAITED,
    CALL,
    CONSUMED,
    ENTER,
    IN_LAMBDA,
    IN_LOOP,
    ITERATES,
    MODULE_CODE,
    NO_LOOP,
    PLAIN,
    READ,
    REFERENCE,
    Guard,
    Param,
    Use,
)

__all__ = ("ExpressionWalker", "argument_value", "call_arguments")

# Builtins that iterate their argument at once: a generator passed to them runs now.
_CONSUMERS = frozenset(
    {
        "list",
        "tuple",
        "set",
        "frozenset",
        "sorted",
        "dict",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "next",
    }
)
# Builtins that wrap an iterator lazily: it runs when they are consumed.
_PASS_THROUGH = frozenset({"enumerate", "zip", "map", "filter", "reversed", "iter"})
_LEAVES = frozenset({ast.Name, ast.Constant})
# Child expression fields of the compound expressions seen most.
_FIELDS: dict[type[ast.expr], tuple[str, ...]] = {
    ast.BinOp: ("left", "right"),
    ast.Compare: ("left", "comparators"),
    ast.UnaryOp: ("operand",),
    ast.Subscript: ("value", "slice"),
    ast.Tuple: ("elts",),
    ast.List: ("elts",),
    ast.Set: ("elts",),
    ast.Dict: ("keys", "values"),
    ast.JoinedStr: ("values",),
    ast.FormattedValue: ("value", "format_spec"),
    ast.Starred: ("value",),
    ast.Slice: ("lower", "upper", "step"),
}

# A handler of one expression type: the walker, the node, then ``plain``, ``consumed``,
# ``parent`` and ``lambda_arg`` as :meth:`ExpressionWalker.expr` takes them.
_ExpressionHandler = Callable[["ExpressionWalker", Any, bool, bool, int, bool], None]


class ExpressionWalker:
    """The expression half of a body walker: records calls, property-candidate reads and ``with`` protocols.

    :meth:`expr` hands each expression to the handler of its node type in
    :attr:`expression_handlers`; every handler takes the node and :meth:`expr`'s flags.
    """

    def __init__(
        self,
        owner: FileContext,
        scope: Scope,
        key: str,
        *,
        is_async: bool,
        class_of: ClassBuilder | None,
        self_name: str | None = None,
    ) -> None:
        self.owner = owner
        self.scope = scope
        self.key = key
        self.is_async = is_async
        self.class_of = class_of
        self.self_name = self_name
        self.uses: list[Use] = []
        # The walker of the function this one is nested in (``None`` at module level and for
        # a top-level function): a closure's receivers are looked up there.
        self.parent: ExpressionWalker | None = None
        # Each sync ``with`` item's __enter__ use and the uses of its body (see FunctionInfo).
        self.sections: list[tuple[int, int, int]] = []
        # Queues a test where the walk is says hold an item (see ``nonempty_queue``).
        self.nonempty: list[str] = []
        self.reads: set[tuple[str, int, bool]] = set()
        self.is_generator = False
        # Inside a generator expression's lazy parts (see ``comprehension``).
        self._lazy = 0
        self.returns: list[str | None] = []
        self.yielded: list[str | None] = []
        self.module_level = key == MODULE_CODE
        # The function's parameters that keep the value they were given (never rebound).
        self.params: frozenset[str] = frozenset()
        # The enclosing functions' parameters (a decorator's ``func`` inside its wrapper).
        self.outer_params: frozenset[str] = frozenset()
        self.globals: set[str] = set()
        # Modules a ``sys.modules`` test says are loaded where the walk is: importing one runs
        # nothing (``if "pkg.mcp" in sys.modules: from pkg.mcp import Toolset``).
        self.loaded: list[str] = []
        # The use recorded for each call node walked so far (by id): what created a receiver.
        self.created: dict[int, int] = {}
        # Where the walk is: the innermost guard on parameters, and IN_LOOP / LAZY.
        self.guards: list[Guard] = []
        self.guard = -1
        self.state = 0
        # (first use index, guard, state) each time the place changes; applied by ``placed``.
        self.marks: list[tuple[int, int, int]] = []

    # -- where the walk is ----------------------------------------------------------------------

    def enter(self, conditions: list[Atom], flags: int = 0) -> tuple[int, int]:
        """Walk on under ``conditions`` (on parameters) and ``flags``; returns what ``leave`` restores."""
        saved = (self.guard, self.state)
        guard = self.guard
        for subject, test, value, negated in conditions:
            self.guards.append(Guard(subject, test, value, negated, guard))
            guard = len(self.guards) - 1
        if guard == self.guard and not flags & ~self.state:
            return saved
        self.guard, self.state = guard, self.state | flags
        self.marks.append((len(self.uses), self.guard, self.state))
        return saved

    def leave(self, saved: tuple[int, int]) -> None:
        """Back to where ``enter`` was called."""
        if saved != (self.guard, self.state):
            self.guard, self.state = saved
            self.marks.append((len(self.uses), self.guard, self.state))

    def conditions(self, test: ast.expr, holds: bool) -> list[Atom]:
        """What ``test`` being ``holds`` says of this function's parameters."""
        if not self.params:
            return []
        return atoms(test, holds, self.params, self.value_of)

    def placed(self) -> list[Use]:
        """The uses, each with the guard and the loop and first-use flags of where it was found."""
        uses = self.uses
        if not self.marks:
            return uses
        placed = list(uses)
        bounds = [*self.marks, (len(uses), -1, 0)]
        for (start, guard, state), (end, _, _) in itertools.pairwise(bounds):
            if guard < 0 and not state:
                continue
            for index in range(start, min(end, len(placed))):
                use = placed[index]
                placed[index] = use._replace(flags=use.flags | state, guard=guard)
        return placed

    def receiver_link(self, func: ast.expr) -> tuple[tuple[str, object], ...]:
        """``("^", index)`` when the call's receiver is a local bound once to the call recorded
        as use ``index`` (``sock = socket.socket(AF_INET, SOCK_DGRAM); sock.connect(...)``)."""
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return ()
        name = func.value.id
        if not self.scope.binds(name):
            return self.closure_link(name)
        bound = self.scope.made_by(name)
        index = self.created.get(id(bound)) if bound is not None else None
        return (("^", index),) if index is not None else ()

    def closure_link(self, name: str) -> tuple[tuple[str, object], ...]:
        """``("^=", arguments)`` when ``name`` is an enclosing function's local bound once to a
        call walked there: that call's arguments, so a catalog condition on how the receiver
        was made holds in a nested function too (``q = Queue()`` in the outer function,
        ``q.put(item)`` in a callback or a coroutine defined inside it), or the module's
        global bound once above the function (``jobs = queue.Queue()``). The enclosing
        function's own parameters mean nothing here, so the arguments that were one are unknown."""
        walker = self.parent
        while walker is not None:
            if walker.module_level and name in self.globals:
                return ()  # the function rebinds the global: whatever it holds now
            if walker.scope.binds(name):
                bound = walker.scope.made_by(name)
                index = walker.created.get(id(bound)) if bound is not None else None
                if index is None or index >= len(walker.uses):
                    return ()
                made: list[tuple[str, object]] = []
                for key, value in walker.uses[index].keywords:
                    if key in ("^", "^=", "()"):
                        continue
                    if isinstance(value, Param):
                        if key.startswith("@"):
                            continue  # an unknown position is left out ("#" still counts it)
                        value = ...
                    made.append((key, value))
                return (("^=", tuple(made)),)
            walker = walker.parent
        return ()

    def parameter_calls(self, node: ast.Call) -> tuple[tuple[str, object], ...]:
        """``("()", name)`` for each argument that calls this function's own parameter
        ``name``, or one of an enclosing function's (``asyncio.run(func(*args))`` in a
        decorator's wrapper), directly or through a local bound once to that call
        (``result = func(*args)``, then ``asyncio.run(result)``): the call runs what it was
        handed."""
        if not self.params and not self.outer_params:
            return ()
        found: list[tuple[str, object]] = []
        for argument in (*node.args, *(keyword.value for keyword in node.keywords)):
            if isinstance(argument, ast.Name) and self.scope.binds(argument.id):
                bound = self.scope.made_by(argument.id)
                argument = bound if isinstance(bound, ast.Call) else argument
            func = argument.func if isinstance(argument, ast.Call) else None
            if isinstance(func, ast.Name) and (
                func.id in self.params or func.id in self.outer_params
            ):
                found.append(("()", func.id))
        return tuple(found)

    def value_of(self, node: ast.expr) -> object:
        """An argument as the analysis can follow it: a constant, named constants, this
        function's own unchanged parameter (:class:`Param`), or ``...``."""
        if isinstance(node, ast.Name) and node.id in self.params:
            return Param(node.id)
        return argument_value(node, self.scope)

    def context_manager(self, node: ast.expr, *, exits: bool = True) -> None:
        """Record a ``with`` item's ``__enter__`` and (unless not ``exits``) ``__exit__`` calls.

        ``with lock:`` takes a lock, an executor's ``with`` waits for its work on exit, and a
        project class's own methods run.
        """
        ref = expr_ref(node, self.scope)
        if ref is None:
            return
        end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset or 0
        methods = (("__enter__", ENTER), ("__exit__", 0)) if exits else (("__enter__", ENTER),)
        for method, flags in methods:
            self.uses.append(
                Use(
                    CALL,
                    intern(f"{ref}.{method}"),
                    node.lineno,
                    node.col_offset,
                    end_line,
                    end_col,
                    flags,
                )
            )

    def expr(
        self,
        node: ast.expr,
        *,
        plain: bool = False,
        consumed: bool = False,
        parent: int = -1,
        lambda_arg: bool = False,
    ) -> None:
        """Walk an expression, recording the calls and reads in it.

        ``plain``: ``await`` may be put before it; ``consumed``: its value is iterated;
        ``parent``: the index of the call whose arguments hold it; ``lambda_arg``: it is in
        a lambda passed to ``parent``.
        """
        kind = type(node)
        if kind in _LEAVES:
            # Names and constants, most of the nodes, are settled here without a handler.
            if consumed and isinstance(node, ast.Name):
                self.iterated(node)
            return
        self.expression_handlers.get(kind, ExpressionWalker.children)(
            self, node, plain, consumed, parent, lambda_arg
        )

    # -- one handler per expression type (see ``expression_handlers``) -------------------------

    def call(
        self,
        node: ast.Call,
        plain: bool,
        consumed: bool,
        parent: int,
        lambda_arg: bool,
        awaited: bool = False,
    ) -> None:
        """Record a call (its callee as a reference), then walk its callee and arguments."""
        ref = expr_ref(node.func, self.scope)
        if ref is None:
            ref = _unknown_ref(node)
        index = -1
        if ref is not None:
            flags = (
                (AWAITED if awaited else 0)
                | (CONSUMED if consumed else 0)
                | (PLAIN if plain and not self._lazy else 0)
                | (IN_LAMBDA if lambda_arg else 0)
            )
            index = len(self.uses)
            use = self.call_use(node, ref, flags, parent)
            if (
                self.nonempty
                and ref.endswith(".get")
                and ref[:-4] in self.nonempty
                and not node.args
                and not node.keywords
            ):
                # After a test that the queue holds an item: returns at once, as block=False.
                use = use._replace(keywords=(*use.keywords, ("block", False)))
            self.uses.append(use)
            self.created[id(node)] = index
        # The callee expression itself (``a.b().c``) may hold calls and property reads.
        func = node.func
        if isinstance(func, ast.Attribute):
            self.expr(func.value, parent=parent, lambda_arg=lambda_arg)
        elif not isinstance(func, ast.Name):
            self.expr(func, parent=parent, lambda_arg=lambda_arg)
        self.arguments(
            node,
            consumed=consumed,
            parent=index if index >= 0 else parent,
            lambda_arg=lambda_arg and index < 0,
        )

    def await_(
        self, node: ast.Await, plain: bool, consumed: bool, parent: int, lambda_arg: bool
    ) -> None:
        """``await``: a call right under it is recorded as awaited."""
        value = node.value
        if isinstance(value, ast.Call):
            self.call(value, True, False, parent, lambda_arg, awaited=True)
        else:
            self.expr(value, parent=parent, lambda_arg=lambda_arg)

    def attribute(
        self, node: ast.Attribute, plain: bool, consumed: bool, parent: int, lambda_arg: bool
    ) -> None:
        """An attribute: a read may run a property getter; its object may hold calls."""
        if isinstance(node.ctx, ast.Load):
            self.read(node, parent, lambda_arg)
        self.expr(node.value, parent=parent, lambda_arg=lambda_arg)

    def compound(
        self, node: ast.expr, plain: bool, consumed: bool, parent: int, lambda_arg: bool
    ) -> None:
        """One of the common compound expressions: its child expressions, by ``_FIELDS``."""
        # Without ast.iter_child_nodes' generality, and skipping leaves before any call.
        for field in _FIELDS[type(node)]:
            child = getattr(node, field)
            if type(child) is list:
                for item in child:
                    if item is not None and type(item) not in _LEAVES:
                        self.expr(item, parent=parent, lambda_arg=lambda_arg)
            elif child is not None and type(child) not in _LEAVES:
                self.expr(child, parent=parent, lambda_arg=lambda_arg)

    def if_expression(
        self, node: ast.IfExp, plain: bool, consumed: bool, parent: int, lambda_arg: bool
    ) -> None:
        """``a if test else b``: each branch under what the test says of the parameters."""
        self.expr(node.test, parent=parent, lambda_arg=lambda_arg)
        for branch, holds in ((node.body, True), (node.orelse, False)):
            saved = self.enter(self.conditions(node.test, holds))
            self.expr(branch, parent=parent, lambda_arg=lambda_arg)
            self.leave(saved)

    def bool_operation(
        self, node: ast.BoolOp, plain: bool, consumed: bool, parent: int, lambda_arg: bool
    ) -> None:
        """``a and b`` (``a or b``): ``b`` runs only where ``a`` held (failed)."""
        holds = isinstance(node.op, ast.And)
        places: list[tuple[int, int]] = []
        last = len(node.values) - 1
        for position, value in enumerate(node.values):
            if type(value) not in _LEAVES:
                self.expr(value, parent=parent, lambda_arg=lambda_arg)
            if position < last:
                flags = NO_LOOP if without_loop(value, holds, self.scope) else 0
                places.append(self.enter(self.conditions(value, holds), flags))
        for place in reversed(places):
            self.leave(place)

    def lambda_(
        self, node: ast.Lambda, plain: bool, consumed: bool, parent: int, lambda_arg: bool
    ) -> None:
        """A lambda: its body is walked only when it is passed to a call (which may run it)."""
        if parent >= 0:
            self.expr(node.body, parent=parent, lambda_arg=True)

    def comprehension(
        self,
        node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
        plain: bool,
        consumed: bool,
        parent: int,
        lambda_arg: bool,
    ) -> None:
        """A comprehension, in its own scope: its targets are its items."""
        # ``await`` in a generator expression would make it an async generator: nothing
        # in it (but the first iterable, evaluated at once) may take an inserted ``await``.
        lazy = isinstance(node, ast.GeneratorExp)
        # The first iterable is evaluated outside the comprehension's scope.
        outer = self.scope
        inner = FunctionScope(outer)
        place = (self.guard, self.state)
        try:
            for position, generator in enumerate(node.generators):
                self._lazy += lazy and position > 0
                self.expr(
                    generator.iter,
                    consumed=not generator.is_async,
                    parent=parent,
                    lambda_arg=lambda_arg,
                )
                _bind_items(inner, generator)
                self.scope = inner
                self._lazy += lazy and position == 0
                if position == 0:
                    # What follows the first iterable runs once per item (for as long as the
                    # program runs when that iterable is asynchronous).
                    place = self.enter([], IN_LOOP if generator.is_async else 0)
                for condition in generator.ifs:
                    self.expr(condition, parent=parent, lambda_arg=lambda_arg)
            if isinstance(node, ast.DictComp):
                self.expr(node.key, parent=parent, lambda_arg=lambda_arg)
                self.expr(node.value, parent=parent, lambda_arg=lambda_arg)
            else:
                self.expr(node.elt, parent=parent, lambda_arg=lambda_arg)
        finally:
            self.scope = outer
            self.leave(place)
        self._lazy -= lazy * len(node.generators)

    def yield_(
        self,
        node: ast.Yield | ast.YieldFrom,
        plain: bool,
        consumed: bool,
        parent: int,
        lambda_arg: bool,
    ) -> None:
        """``yield`` makes a generator (what it yields is kept); ``yield from`` iterates its value."""
        self.is_generator = True
        self.yielded.append(
            expr_ref(node.value, self.scope)
            if isinstance(node, ast.Yield) and node.value is not None
            else None
        )
        if node.value is not None:
            self.expr(
                node.value,
                consumed=isinstance(node, ast.YieldFrom),
                parent=parent,
                lambda_arg=lambda_arg,
            )

    def named_expr(
        self, node: ast.NamedExpr, plain: bool, consumed: bool, parent: int, lambda_arg: bool
    ) -> None:
        """``name := value``: ``await`` may be put before the value."""
        self.scope.rebinds(node.target.id)
        self.expr(node.value, plain=True, parent=parent, lambda_arg=lambda_arg)

    def children(
        self, node: ast.expr, plain: bool, consumed: bool, parent: int, lambda_arg: bool
    ) -> None:
        """Any other expression: its child expressions."""
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, parent=parent, lambda_arg=lambda_arg)

    expression_handlers: ClassVar[dict[type[ast.expr], _ExpressionHandler]] = {
        ast.Call: call,
        ast.Await: await_,
        ast.Attribute: attribute,
        **dict.fromkeys(_FIELDS, compound),
        ast.IfExp: if_expression,
        ast.BoolOp: bool_operation,
        ast.Lambda: lambda_,
        ast.ListComp: comprehension,
        ast.SetComp: comprehension,
        ast.GeneratorExp: comprehension,
        ast.DictComp: comprehension,
        ast.Yield: yield_,
        ast.YieldFrom: yield_,
        ast.NamedExpr: named_expr,
    }

    # -- what a call records ----------------------------------------------------------------------

    def call_use(self, node: ast.Call, ref: str, flags: int, parent: int) -> Use:
        """The record of a call whose callee is ``ref``, with the arguments a catalog condition tests."""
        func_text = args_text = None
        if self.is_async:
            # Kept only where a fix may be written.
            func = node.func
            func_text = self.owner.segment(
                func.lineno,
                func.col_offset,
                func.end_lineno or func.lineno,
                func.end_col_offset or 0,
            )
            args_text = self.owner.arguments_text(node)
        return Use(
            CALL,
            intern(ref),
            node.lineno,
            node.col_offset,
            node.end_lineno or node.lineno,
            node.end_col_offset or 0,
            flags,
            parent,
            call_arguments(node, self.value_of)
            + self.receiver_link(node.func)
            + self.parameter_calls(node),
            func_text,
            args_text,
        )

    def arguments(self, node: ast.Call, *, consumed: bool, parent: int, lambda_arg: bool) -> None:
        """Walk a call's arguments (``parent``: the call's index when it was recorded)."""
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        # A generator passed to ``list(...)`` runs now; to ``zip(...)`` when that is consumed.
        arg_consumed = name in _CONSUMERS or (consumed and name in _PASS_THROUGH)
        for argument in node.args:
            value = argument.value if isinstance(argument, ast.Starred) else argument
            self.expr(
                value, plain=True, consumed=arg_consumed, parent=parent, lambda_arg=lambda_arg
            )
            if parent >= 0:
                self.references(value, parent, None)
        for keyword in node.keywords:
            self.expr(keyword.value, plain=True, parent=parent, lambda_arg=lambda_arg)
            if parent >= 0:
                self.references(keyword.value, parent, keyword.arg)

    def references(self, node: ast.expr, parent: int, keyword: str | None) -> None:
        """Record the functions an argument passes by reference (``on_startup=[init]``): code
        that calls them later (a framework's start-up, a callback) runs them."""
        items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
        for item in items:
            if not isinstance(item, (ast.Name, ast.Attribute)):
                continue
            ref = expr_ref(item, self.scope)
            if not ref or ref.startswith("?"):
                continue
            self.uses.append(
                Use(
                    REFERENCE,
                    intern(ref),
                    item.lineno,
                    item.col_offset,
                    item.end_lineno or item.lineno,
                    item.end_col_offset or 0,
                    0,
                    parent,
                    (("=", keyword),) if keyword else (),
                )
            )

    def iterated(self, node: ast.Name) -> None:
        """Record iterating a name bound to a call's result: a generator's body runs now."""
        ref = expr_ref(node, self.scope)
        if ref is None or not ref.endswith("()"):
            return
        self.uses.append(
            Use(
                CALL,
                intern(ref[:-2]),
                node.lineno,
                node.col_offset,
                node.end_lineno or node.lineno,
                node.end_col_offset or 0,
                CONSUMED | ITERATES,
            )
        )

    def read(self, node: ast.Attribute, parent: int, lambda_arg: bool) -> None:
        """Record an attribute read on an instance: it runs a getter when it is a property."""
        ref = expr_ref(node, self.scope)
        # Only reads on instances can run a property getter; module and class reads cannot.
        if ref is None or "()" not in ref or (ref, parent, lambda_arg) in self.reads:
            return
        self.reads.add((ref, parent, lambda_arg))
        self.uses.append(
            Use(
                READ,
                intern(ref),
                node.lineno,
                node.col_offset,
                node.end_lineno or node.lineno,
                node.end_col_offset or 0,
                IN_LAMBDA if lambda_arg else 0,
                parent,
            )
        )


def _unknown_ref(node: ast.Call) -> str | None:
    """A ``?.``-prefixed reference for a call on an unknown receiver that takes a lambda."""
    # A call on an unknown receiver is recorded only when a lambda is passed to it: it may be
    # an offload helper matched by its method name (``executor.submit(lambda: ...)``).
    if not any(
        isinstance(arg, (ast.Lambda, ast.Call))
        for arg in (*node.args, *(k.value for k in node.keywords))
    ):
        return None
    parts: list[str] = []
    func: ast.expr = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return "?." + ".".join(reversed(parts)) if parts else None


def call_arguments(
    node: ast.Call, value_of: Callable[[ast.expr], object]
) -> tuple[tuple[str, object], ...]:
    """A call's arguments as the analysis follows them: by keyword, and ``@N`` by position.

    Each value is what ``value_of`` makes of it; positions whose value is unknown are left out,
    and ``("#", N)`` says how many were given (so an unknown argument is not taken for a
    missing one, which would get the callee's default); ``("*", True)`` marks ``*args`` or
    ``**kwargs``, whose contents are unknown.
    """
    found: list[tuple[str, object]] = [
        (keyword.arg, value_of(keyword.value))
        for keyword in node.keywords
        if keyword.arg is not None
    ]
    starred = any(keyword.arg is None for keyword in node.keywords)
    for position, argument in enumerate(node.args):
        if isinstance(argument, ast.Starred):
            starred = True
            break
        value = value_of(argument)
        if value is not ...:
            found.append((f"@{position}", value))
    if node.args:
        found.append(("#", len(node.args)))
    if starred:
        found.append(("*", True))
    return tuple(found)


def argument_value(node: ast.expr, scope: Scope) -> object:
    """A call argument as a catalog ``nonblocking`` condition can test it (``...``: unknown).

    A constant is itself; a named constant (``socket.AI_NUMERICHOST``) or an OR of named
    constants is the frozenset of their references; a new in-memory buffer
    (``io.BytesIO(data)``) is ``frozenset({"io.BytesIO()"})``; anything else is ``...``.
    """
    if isinstance(node, ast.Constant):
        value = node.value
        return value if isinstance(value, (bool, int, float, str, type(None))) else ...
    if isinstance(node, ast.Call):
        # A new in-memory buffer (``io.BytesIO(data)``): reading or writing it does no I/O.
        made = f"{expr_ref(node.func, scope)}()"
        return frozenset({made}) if made in BUFFER_TYPES else ...
    names: list[str] = []
    pending = [node]
    while pending and len(names) < 8:
        part = pending.pop()
        if isinstance(part, ast.BinOp) and isinstance(part.op, ast.BitOr):
            pending.extend((part.left, part.right))
        elif isinstance(part, (ast.Attribute, ast.Name)):
            ref = expr_ref(part, scope)
            if ref is None or ref.startswith("?"):
                return ...
            names.append(ref)
        else:
            return ...
    if pending or not names:
        return ...
    return frozenset(names)


def _bind_items(scope: Scope, generator: ast.comprehension) -> None:
    """Bind a comprehension's target names: each item of its iterable, or unknown."""
    target = generator.target
    if isinstance(target, ast.Name) and not generator.is_async:
        scope.bind(target.id, Each(generator.iter))
        return
    for sub in ast.walk(target):
        if isinstance(sub, ast.Name):
            scope.bind(sub.id, UNKNOWN)
