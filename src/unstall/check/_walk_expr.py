"""Walk expressions and record their uses (the expression half of :mod:`unstall.check._walk`)."""

from __future__ import annotations

import ast
import re
from sys import intern

from unstall.check._bind import Binder
from unstall.check._scope import UNKNOWN, Each, FunctionScope, Scope, expr_ref
from unstall.check._summary_types import (
    AWAITED,
    CALL,
    CONSUMED,
    ENTER,
    IN_LAMBDA,
    ITERATES,
    MODULE_CODE,
    PLAIN,
    READ,
    FunctionInfo,
    Use,
)

__all__ = ("ClassBuilder", "ExpressionWalker", "FileContext")

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
    ast.BoolOp: ("values",),
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
    ast.IfExp: ("test", "body", "orelse"),
    ast.Slice: ("lower", "upper", "step"),
}
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class ClassBuilder:
    """A class being summarized: its key, line, bases and attribute types so far."""

    __slots__ = ("attributes", "bases", "key", "line")

    def __init__(self, key: str, line: int, bases: tuple[str, ...]) -> None:
        self.key = key
        self.line = line
        self.bases = bases
        self.attributes: dict[str, str] = {}

    def attribute(self, name: str, ref: str | None) -> None:
        """Record an attribute's type; two different types make it unknown."""
        if ref is None:
            return
        known = self.attributes.get(name)
        if known is None:
            self.attributes[name] = ref
        elif known != ref:
            self.attributes[name] = UNKNOWN


class FileContext:
    """One file being summarized: its text, module, binder and what has been defined so far."""

    def __init__(self, text: str, path: str, module: str, is_package: bool) -> None:
        self.text = text
        self.path = path
        self.module = module
        self.is_package = is_package
        self.binder = Binder(module, is_package)
        self.functions: dict[str, FunctionInfo] = {}
        self.classes: dict[str, ClassBuilder] = {}
        self._lines: list[bytes] | None = None

    def segment(self, line: int, col: int, end_line: int, end_col: int) -> str:
        """The source text of a span (``ast`` positions: 1-based lines, UTF-8 byte columns)."""
        if self._lines is None:
            # Only \r\n, \r and \n end lines for ast (str.splitlines also splits on \f and others).
            self._lines = [part.encode("utf-8") for part in _LINES.findall(self.text)]
        lines = self._lines
        if not (1 <= line <= end_line <= len(lines)):
            return ""
        if line == end_line:
            data = lines[line - 1][col:end_col]
        else:
            data = b"".join(
                [lines[line - 1][col:], *lines[line : end_line - 1], lines[end_line - 1][:end_col]]
            )
        return data.decode("utf-8", errors="replace")


class ExpressionWalker:
    """The expression half of a body walker: records calls, property-candidate reads and ``with`` protocols."""

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
        self.reads: set[tuple[str, int, bool]] = set()
        self.is_generator = False
        # Inside a generator expression's lazy parts (see ``expr``).
        self._lazy = 0
        self.returns: list[str | None] = []
        self.yielded: list[str | None] = []
        self.module_level = key == MODULE_CODE

    def context_manager(self, node: ast.expr) -> None:
        """Record a ``with`` item's ``__enter__`` and ``__exit__`` calls.

        ``with lock:`` takes a lock, an executor's ``with`` waits for its work on exit, and a
        project class's own methods run.
        """
        ref = expr_ref(node, self.scope)
        if ref is None:
            return
        end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset or 0
        for method, flags in (("__enter__", ENTER), ("__exit__", 0)):
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
            if consumed and isinstance(node, ast.Name):
                self.iterated(node)
            return
        if kind is ast.Call:
            assert isinstance(node, ast.Call)
            self.call(node, plain=plain, consumed=consumed, parent=parent, lambda_arg=lambda_arg)
        elif isinstance(node, ast.Await):
            value = node.value
            if isinstance(value, ast.Call):
                self.call(
                    value,
                    plain=True,
                    consumed=False,
                    parent=parent,
                    lambda_arg=lambda_arg,
                    awaited=True,
                )
            else:
                self.expr(value, parent=parent, lambda_arg=lambda_arg)
        elif isinstance(node, ast.Attribute):
            if isinstance(node.ctx, ast.Load):
                self.read(node, parent, lambda_arg)
            self.expr(node.value, parent=parent, lambda_arg=lambda_arg)
        elif kind in _FIELDS:
            # The common compound expressions, without ast.iter_child_nodes' generality.
            for field in _FIELDS[kind]:
                child = getattr(node, field)
                if type(child) is list:
                    for item in child:
                        if item is not None and type(item) not in _LEAVES:
                            self.expr(item, parent=parent, lambda_arg=lambda_arg)
                elif child is not None and type(child) not in _LEAVES:
                    self.expr(child, parent=parent, lambda_arg=lambda_arg)
        elif isinstance(node, ast.Lambda):
            if parent >= 0:
                self.expr(node.body, parent=parent, lambda_arg=True)
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            # ``await`` in a generator expression would make it an async generator: nothing
            # in it (but the first iterable, evaluated at once) may take an inserted ``await``.
            lazy = isinstance(node, ast.GeneratorExp)
            # The comprehension's own scope: its targets are its items (the first iterable is
            # evaluated outside it).
            outer = self.scope
            inner = FunctionScope(outer)
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
                    for condition in generator.ifs:
                        self.expr(condition, parent=parent, lambda_arg=lambda_arg)
                if isinstance(node, ast.DictComp):
                    self.expr(node.key, parent=parent, lambda_arg=lambda_arg)
                    self.expr(node.value, parent=parent, lambda_arg=lambda_arg)
                else:
                    self.expr(node.elt, parent=parent, lambda_arg=lambda_arg)
            finally:
                self.scope = outer
            self._lazy -= lazy * len(node.generators)
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
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
        elif isinstance(node, ast.NamedExpr):
            self.expr(node.value, plain=True, parent=parent, lambda_arg=lambda_arg)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, parent=parent, lambda_arg=lambda_arg)

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

    def call(
        self,
        node: ast.Call,
        *,
        plain: bool,
        consumed: bool,
        parent: int,
        lambda_arg: bool,
        awaited: bool = False,
    ) -> None:
        """Record a call (its callee as a reference), then walk its callee and arguments."""
        func = node.func
        ref = expr_ref(func, self.scope)
        if ref is None:
            ref = self.unknown_ref(node)
        flags = (
            (AWAITED if awaited else 0) | (CONSUMED if consumed else 0) | (PLAIN if plain else 0)
        )
        flags |= IN_LAMBDA if lambda_arg else 0
        if self._lazy:
            flags &= ~PLAIN
        index = -1
        if ref is not None:
            # Constant keyword values as they are; named constants (``socket.AI_NUMERICHOST``,
            # OR-ed or alone) as the frozenset of their references; any other value as ``...``.
            keywords = tuple(
                (keyword.arg, _argument_value(keyword.value, self.scope))
                for keyword in node.keywords
                if keyword.arg is not None
            )
            # Positional flags and switches (``lock.acquire(False)``) as ``@N``; other
            # positional values are left out: no catalog condition reads them.
            positional = tuple(
                (f"@{position}", value)
                for position, argument in enumerate(node.args)
                if not isinstance(argument, ast.Starred)
                and isinstance(argument, (ast.Constant, ast.Attribute, ast.BinOp))
                and (value := _argument_value(argument, self.scope)) is not ...
                and not isinstance(value, (str, float))
            )
            if positional and not any(isinstance(a, ast.Starred) for a in node.args):
                keywords += positional
            func_text = args_text = None
            if self.is_async:
                func_text = self.owner.segment(
                    func.lineno,
                    func.col_offset,
                    func.end_lineno or func.lineno,
                    func.end_col_offset or 0,
                )
                parts: list[ast.expr | ast.keyword] = [*node.args, *node.keywords]
                if parts:
                    first = min(parts, key=lambda part: (part.lineno, part.col_offset))
                    last = max(
                        parts, key=lambda part: (part.end_lineno or 0, part.end_col_offset or 0)
                    )
                    args_text = self.owner.segment(
                        first.lineno,
                        first.col_offset,
                        last.end_lineno or 0,
                        last.end_col_offset or 0,
                    )
                else:
                    args_text = ""
            index = len(self.uses)
            self.uses.append(
                Use(
                    CALL,
                    intern(ref),
                    node.lineno,
                    node.col_offset,
                    node.end_lineno or node.lineno,
                    node.end_col_offset or 0,
                    flags,
                    parent,
                    keywords,
                    func_text,
                    args_text,
                )
            )
        # The callee expression itself (``a.b().c``) may hold calls and property reads.
        if isinstance(func, ast.Attribute):
            self.expr(func.value, parent=parent, lambda_arg=lambda_arg)
        elif not isinstance(func, ast.Name):
            self.expr(func, parent=parent, lambda_arg=lambda_arg)
        name = func.id if isinstance(func, ast.Name) else None
        passes = consumed and name in _PASS_THROUGH
        arg_consumed = name in _CONSUMERS or passes
        child_parent = index if index >= 0 else parent
        for argument in node.args:
            value = argument.value if isinstance(argument, ast.Starred) else argument
            self.expr(
                value,
                plain=True,
                consumed=arg_consumed,
                parent=child_parent,
                lambda_arg=lambda_arg and index < 0,
            )
        for keyword in node.keywords:
            self.expr(
                keyword.value, plain=True, parent=child_parent, lambda_arg=lambda_arg and index < 0
            )

    def unknown_ref(self, node: ast.Call) -> str | None:
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


def _argument_value(node: ast.expr, scope: Scope) -> object:
    """A call argument as a catalog ``nonblocking`` condition can test it (``...``: unknown).

    A constant is itself; a named constant (``socket.AI_NUMERICHOST``) or an OR of named
    constants is the frozenset of their references; anything else is ``...``.
    """
    if isinstance(node, ast.Constant):
        value = node.value
        return value if isinstance(value, (bool, int, float, str, type(None))) else ...
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
