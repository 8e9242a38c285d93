"""Walk function bodies (and a module's top-level code) and record their uses.

Part of the summarizer (:mod:`unstall.check._summary`): a :class:`Body` walks one body
once, resolving names through its scope into symbolic references, and records the calls,
property-candidate reads and imports that may run other code. Expressions are handled by
:class:`~unstall.check._walk_expr.ExpressionWalker`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from sys import intern
from typing import Any, ClassVar, NamedTuple

from unstall.check._file_context import ClassBuilder, FileContext
from unstall.check._guards import (
    cache_aside,
    exits,
    first_use,
    first_use_handler,
    loaded_module,
    nonempty_queue,
    work_awaited,
)
from unstall.check._loop_guard import handler_without_loop, without_loop
from unstall.check._scope import UNKNOWN, FunctionScope, annotation_ref, expr_ref
from unstall.check._summary_types import (
    ASSIGN,
    CALL,
    IMPORT,
    IN_LOOP,
    NO_LOOP,
    FunctionInfo,
    Use,
)
from unstall.check._walk_expr import ExpressionWalker, argument_value, call_arguments

__all__ = ("Body", "ClassBuilder", "FileContext", "is_main_guard")

# A handler of one statement type: the walker (a Body or a subclass) and the node.
_StatementHandler = Callable[[Any, Any], None]

_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "cached_property_with_ttl"})


def _decorator_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class _Signature(NamedTuple):
    params: tuple[str, ...]
    keyword_only: tuple[str, ...]
    defaults: tuple[tuple[str, object], ...]
    variadic: bool


_NO_SIGNATURE = _Signature((), (), (), False)


def _makes_processes(node: ast.expr) -> bool:
    """Whether an executor made by ``node`` runs its work in processes or interpreters, by
    the name of what is called (``ProcessPoolExecutor(...)``)."""
    if isinstance(node, ast.Call):
        node = node.func
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return "Process" in name or "Interpreter" in name


class Body(ExpressionWalker):
    """Walks one function body (or the module's top-level code), recording its uses."""

    def info(
        self,
        line: int,
        col: int,
        *,
        is_property: bool = False,
        decorators: tuple[str, ...] = (),
        decorator_flags: tuple[tuple[str, ...], ...] = (),
        annotated: str | None = None,
        signature: _Signature | None = None,
    ) -> FunctionInfo:
        """The finished record of this body.

        ``annotated``: the return annotation's reference. What a generator yields is recorded
        when every ``yield`` agrees: the analysis reads it where a context-manager decorator of
        the catalog wraps the generator (``with f() as value``).
        """
        returns: str | None = None
        if self.returns and not self.is_generator:
            first = self.returns[0]
            if first and all(ref == first for ref in self.returns):
                returns = first
        if returns is None and not self.is_generator:
            returns = annotated
        yields: str | None = None
        if self.is_generator and self.yielded:
            first = self.yielded[0]
            if first and all(ref == first for ref in self.yielded):
                yields = first
        signature = signature or _NO_SIGNATURE
        return FunctionInfo(
            key=self.key,
            line=line,
            col=col,
            is_async=self.is_async,
            uses=tuple(self.placed()),
            is_generator=self.is_generator,
            is_property=is_property,
            decorators=decorators,
            decorator_flags=decorator_flags if any(decorator_flags) else (),
            returns=returns,
            yields=yields,
            params=signature.params,
            keyword_only=signature.keyword_only,
            defaults=signature.defaults,
            variadic=signature.variadic,
            guards=tuple(self.guards),
            sections=tuple(self.sections),
        )

    # -- statements --------------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> None:
        """Walk a block of statements, each by the handler of its type in :attr:`statement_handlers`."""
        handlers = self.statement_handlers
        places: list[tuple[int, int]] = []
        unload = 0
        for position, node in enumerate(body):
            try:
                handler = handlers.get(type(node))
                # No handler: nothing in it runs code (``pass``, ``break``).
                if handler is not None:
                    handler(self, node)
            except RecursionError:
                # An expression nested deeper than the walker can follow (hundreds of
                # chained calls): keep what was recorded and go on with the next statement.
                continue
            if type(node) is ast.If and not node.orelse and exits(node.body):
                # ``if not ready: return``: the rest of the block runs only where the test failed.
                rest = body[position + 1 :]
                flags = self.branch_flags(node.test, False, rest)
                flags |= cache_aside(body[:position], node, rest)
                places.append(self.enter(self.conditions(node.test, False), flags))
                loaded = loaded_module(node.test, False)
                if loaded is not None:
                    self.loaded.append(loaded)
                    unload += 1
        for place in reversed(places):
            self.leave(place)
        del self.loaded[len(self.loaded) - unload :]

    def expression_statement(self, node: ast.Expr) -> None:
        """An expression on its own line (``await`` may be put before it)."""
        self.expr(node.value, plain=True)

    def assign(self, node: ast.Assign) -> None:
        """``a = b = value``: the value, then each target."""
        self.expr(node.value, plain=True)
        for target in node.targets:
            self.target(target, node.value)
            self.rebind(target)

    def rebind(self, target: ast.expr) -> None:
        """Record each parameter a store target gives a new value (``timeout = parse(timeout)``)."""
        if not self.params:
            return
        for node in ast.walk(target):
            if isinstance(node, ast.Name) and node.id in self.params:
                self.uses.append(
                    Use(
                        ASSIGN,
                        intern(node.id),
                        node.lineno,
                        node.col_offset,
                        node.end_lineno or node.lineno,
                        node.end_col_offset or 0,
                    )
                )

    def annotated_assign(self, node: ast.AnnAssign) -> None:
        """``a: T = value``: the annotation may type the target."""
        if node.value is not None:
            self.expr(node.value, plain=True)
            self.rebind(node.target)
        self.target(node.target, node.value, node.annotation)

    def augmented_assign(self, node: ast.AugAssign) -> None:
        """``a += value``: the target is read too."""
        self.expr(node.value, plain=True)
        self.expr(node.target)
        self.rebind(node.target)

    def return_(self, node: ast.Return) -> None:
        """``return value``: what it returns is kept (see :meth:`info`)."""
        if node.value is not None:
            self.expr(node.value, plain=True)
            self.returns.append(expr_ref(node.value, self.scope))

    def for_(self, node: ast.For | ast.AsyncFor) -> None:
        """A loop: a sync ``for`` iterates its iterable on the spot; its body runs per item.

        An ``async for`` may wait for items as long as the program runs (a stream, a
        subscription): IN_LOOP; a sync one runs its body once per item of what it holds now.
        """
        self.expr(node.iter, consumed=isinstance(node, ast.For))
        place = self.enter([], IN_LOOP if isinstance(node, ast.AsyncFor) else 0)
        self.expr(node.target)
        self.rebind(node.target)
        self.block(node.body)
        self.leave(place)
        self.block(node.orelse)

    def with_(self, node: ast.With | ast.AsyncWith) -> None:
        """A ``with``: a sync one calls its items' ``__enter__`` and ``__exit__``."""
        entered: list[int] = []
        for item in node.items:
            # Not ``plain``: a context manager built in a thread is still entered on the loop
            # (``with await asyncio.to_thread(open, path)``), so no fix rewrites it.
            self.expr(item.context_expr)
            if isinstance(node, ast.With):
                before = len(self.uses)
                # ``with ThreadPoolExecutor() as pool: await loop.run_in_executor(pool, ...)``:
                # the work is over when the body ends, so the exit joins idle threads at once
                # (a process pool's exit still waits for its processes to end).
                idle = (
                    isinstance(item.optional_vars, ast.Name)
                    and not _makes_processes(item.context_expr)
                    and work_awaited(node.body, item.optional_vars.id)
                )
                self.context_manager(item.context_expr, exits=not idle)
                if len(self.uses) > before:
                    entered.append(before)  # the item's __enter__ use
            if item.optional_vars is not None:
                self.rebind(item.optional_vars)
        start = len(self.uses)
        self.block(node.body)
        self.sections.extend((enter, start, len(self.uses)) for enter in entered)

    def if_(self, node: ast.If) -> None:
        """An ``if``: each branch under what its test says of the parameters, and a first-use
        set-up (``if self._x is None: self._x = ...``) marked LAZY. A ``__main__`` guard at
        module level and ``if TYPE_CHECKING:`` never run their body."""
        if self.module_level and is_main_guard(node.test):
            self.block(node.orelse)
            return
        type_checking = _is_type_checking(node.test)
        self.expr(node.test)
        # ``if True:`` / ``if False:`` (code generated from an async original keeps the other
        # branch for its sync twin), or a module's flag bound once to one (``_IS_SYNC = False``
        # then ``if not _IS_SYNC:``): the branch the constant rules out never runs.
        constant = self.known_truth(node.test)
        for branch, holds in ((node.body, True), (node.orelse, False)):
            if not branch or (holds and type_checking):
                continue
            if isinstance(constant, bool) and constant is not holds:
                continue
            place = self.enter(
                self.conditions(node.test, holds), self.branch_flags(node.test, holds, branch)
            )
            loaded = loaded_module(node.test, holds)
            if loaded is not None:
                self.loaded.append(loaded)
            nonempty = self.nonempty_ref(node.test) if holds else None
            if nonempty is not None:
                self.nonempty.append(nonempty)
            self.block(branch)
            if nonempty is not None:
                self.nonempty.pop()
            if loaded is not None:
                self.loaded.pop()
            self.leave(place)

    def branch_flags(self, test: ast.expr, holds: bool, branch: list[ast.stmt]) -> int:
        """The flags of the code that runs where ``test`` is ``holds``: LAZY (and KEYED) for a
        first-use set-up, NO_LOOP where no event loop runs (``if not loop.is_running():``)."""
        flags = first_use(test, holds, branch, self.globals) if branch else 0
        if without_loop(test, holds, self.scope):
            flags |= NO_LOOP
        return flags

    def known_truth(self, test: ast.expr) -> object:
        """The constant an ``if`` test is: a literal, ``not`` one, or a name the module binds
        exactly once to ``True`` or ``False`` that no scope between here and there binds."""
        if isinstance(test, ast.Constant):
            return test.value
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self.known_truth(test.operand)
            return not inner if isinstance(inner, bool) else None
        if not isinstance(test, ast.Name) or test.id in self.globals:
            return None
        scope = self.scope
        while scope.parent is not None:
            if scope.binds(test.id):
                return None  # a local or an enclosing function's name
            scope = scope.parent
        value = scope.only_value(test.id)
        if isinstance(value, str):
            value = scope.given_value(test.id)
        if isinstance(value, ast.Constant) and isinstance(value.value, bool):
            return value.value
        return None

    def while_(self, node: ast.While) -> None:
        """A ``while`` loop: its test and body run again and again."""
        place = self.enter([], IN_LOOP)
        self.expr(node.test)
        nonempty = self.nonempty_ref(node.test)
        if nonempty is not None:
            self.nonempty.append(nonempty)
        self.block(node.body)
        if nonempty is not None:
            self.nonempty.pop()
        self.leave(place)
        self.block(node.orelse)

    def nonempty_ref(self, test: ast.expr) -> str | None:
        """The reference of the queue ``test`` says holds an item, or ``None``."""
        queue = nonempty_queue(test)
        return expr_ref(queue, self.scope) if queue is not None else None

    def global_(self, node: ast.Global) -> None:
        """``global name``: what the function stores in it outlives the call."""
        self.globals.update(node.names)

    def try_(self, node: ast.Try | ast.TryStar) -> None:
        """A ``try`` (or ``try``/``except*``): every block, and the exception types."""
        self.block(node.body)
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type)
            lazy = first_use_handler(node.body, handler, self.globals)
            if handler_without_loop(node.body, handler, self.scope):
                lazy |= NO_LOOP  # ``except RuntimeError:`` of ``get_running_loop()``
            place = self.enter([], lazy)
            self.block(handler.body)
            self.leave(place)
        self.block(node.orelse)
        self.block(node.finalbody)

    def match(self, node: ast.Match) -> None:
        """A ``match``: its subject, each case's guard and body."""
        self.expr(node.subject)
        for case in node.cases:
            if case.guard is not None:
                self.expr(case.guard)
            self.block(case.body)

    def import_(self, node: ast.Import) -> None:
        """``import a.b``: each module named."""
        for alias in node.names:
            self.import_use(alias.name, node)

    def import_from(self, node: ast.ImportFrom) -> None:
        """``from a import b``: the module, and each name (it may be a submodule)."""
        base = self.owner.binder.absolute(node)
        if base:
            self.import_use(base, node)
            for alias in node.names:
                if alias.name != "*":
                    self.import_use(f"{base}.{alias.name}", node)

    def expressions_of(self, node: ast.stmt) -> None:
        """``raise``, ``assert``, ``del``: their expressions."""
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)

    def import_use(self, name: str, node: ast.stmt) -> None:
        """Record an import of the absolute module ``name`` (its top-level code may run), unless
        a ``sys.modules`` test around it says the module is loaded already."""
        if name in self.loaded or (
            isinstance(node, ast.ImportFrom) and name.rpartition(".")[0] in self.loaded
        ):
            return  # loaded: importing it, or a name from it, only looks it up
        self.uses.append(
            Use(
                IMPORT,
                intern(name),
                node.lineno,
                node.col_offset,
                node.end_lineno or node.lineno,
                node.end_col_offset or 0,
            )
        )

    def target(
        self, target: ast.expr, value: ast.expr | None, annotation: ast.expr | None = None
    ) -> None:
        """Walk an assignment target; ``self.x = Factory()`` in a method types the class attribute."""
        if isinstance(target, ast.Attribute):
            # Assigning an instance's attribute runs its property setter, if it has one.
            ref = expr_ref(target, self.scope)
            if ref is not None and "()" in ref:
                self.uses.append(
                    Use(
                        CALL,
                        intern(f"{ref}.setter"),
                        target.lineno,
                        target.col_offset,
                        target.end_lineno or target.lineno,
                        target.end_col_offset or 0,
                    )
                )
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and self.class_of is not None
            and target.value.id == self.self_name
        ):
            ref = annotation_ref(annotation, self.scope) if annotation is not None else None
            if ref is None and value is not None:
                ref = self.scope.value_ref(value)
            self.class_of.attribute(target.attr, ref)
            if isinstance(value, ast.Call):
                scope = self.scope
                self.class_of.made_by(
                    target.attr, call_arguments(value, lambda node: argument_value(node, scope))
                )
            elif not (isinstance(value, ast.Constant) and value.value is None):
                self.class_of.made_by(target.attr, None)  # ``None`` is a placeholder
        elif not isinstance(target, ast.Name):
            self.expr(target)

    # -- nested definitions -------------------------------------------------------------------

    def define_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Summarize a nested function or method; its decorators and defaults run here."""
        for decorator in node.decorator_list:
            self.expr(decorator)
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.expr(default)
        names = [_decorator_name(d) for d in node.decorator_list]
        in_class = self.class_of if isinstance(self, ClassBody) else None
        if "deleter" in names or ("setter" in names and in_class is None):
            return
        key = node.name if self.module_level else f"{self.key}.{node.name}"
        if "setter" in names:
            key += ".setter"  # ``obj.prop = value`` runs it (see ``target``)
        class_ref = f"{self.owner.module}.{in_class.key}" if in_class is not None else None
        scope = FunctionScope(self.scope, class_ref)
        arguments = [*node.args.posonlyargs, *node.args.args]
        self_name: str | None = None
        is_static = "staticmethod" in names
        for index, argument in enumerate(
            [
                *arguments,
                *node.args.kwonlyargs,
                *(a for a in (node.args.vararg, node.args.kwarg) if a),
            ]
        ):
            if index == 0 and class_ref is not None and not is_static and argument in arguments:
                if "classmethod" in names:
                    scope.bind(argument.arg, class_ref)
                else:
                    self_name = argument.arg
                    scope.bind(argument.arg, f"{class_ref}()")
                continue
            typed = annotation_ref(argument.annotation, scope) if argument.annotation else None
            scope.bind(argument.arg, typed or UNKNOWN)
        self.owner.binder.block(node.body, scope, prefix=f"{self.owner.module}.{key}", top=False)
        body = Body(
            self.owner,
            scope,
            key,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            class_of=in_class,
            self_name=self_name,
        )
        body.parent = self.outer if isinstance(self, ClassBody) else self
        signature = self.signature(node, bound_first=class_ref is not None and not is_static)
        # Rebinding by assignment, ``for`` or ``with`` is recorded (ASSIGN uses); a parameter
        # rebound another way (``except E as p``, ``import p``) is left out.
        params = (*signature.params, *signature.keyword_only)
        rebound: frozenset[str] | None = frozenset()
        if any(not scope.bound_once(name) for name in params):
            rebound = _rebound_otherwise(node)
        body.params = frozenset(
            name
            for name in params
            if scope.bound_once(name) or (rebound is not None and name not in rebound)
        )
        # The enclosing functions' parameters this one reads and does not bind itself.
        body.outer_params = frozenset(
            name for name in (self.params | self.outer_params) if not scope.binds(name)
        )
        body.block(node.body)
        decorators = []
        flags: list[tuple[str, ...]] = []
        for decorator in node.decorator_list:
            ref = expr_ref(decorator, self.scope)  # ``@retry(3)`` gives ``...retry()``
            if ref:
                decorators.append(ref)
                flags.append(_true_keywords(decorator))
        self.owner.functions[key] = body.info(
            node.lineno,
            node.col_offset,
            is_property=any(name in _PROPERTY_DECORATORS for name in names),
            decorators=tuple(decorators),
            decorator_flags=tuple(flags),
            annotated=annotation_ref(node.returns, scope) if node.returns is not None else None,
            signature=signature,
        )

    def signature(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, *, bound_first: bool
    ) -> _Signature:
        """The parameters a call binds, with their constant defaults (``self``/``cls`` left out)."""
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[tuple[str, object]] = [
            (argument.arg, argument_value(default, self.scope))
            for argument, default in zip(
                positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
            )
        ]
        defaults.extend(
            (argument.arg, argument_value(default, self.scope))
            for argument, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
            if default is not None
        )
        if bound_first and positional:
            positional = positional[1:]
        return _Signature(
            params=tuple(intern(argument.arg) for argument in positional),
            keyword_only=tuple(intern(argument.arg) for argument in args.kwonlyargs),
            defaults=tuple(defaults),
            variadic=args.vararg is not None or args.kwarg is not None,
        )

    def define_class(self, node: ast.ClassDef) -> None:
        """Record a class; its body runs here, its methods are functions of their own."""
        for decorator in node.decorator_list:
            self.expr(decorator)
        bases = []
        for base in node.bases:
            self.expr(base)
            # A generic base (``Base[T]``) is the class itself for method look-up.
            ref = expr_ref(base.value if isinstance(base, ast.Subscript) else base, self.scope)
            if ref:
                bases.append(ref)
        for keyword in node.keywords:
            self.expr(keyword.value)
        key = node.name if self.module_level else f"{self.key}.{node.name}"
        builder = ClassBuilder(key, node.lineno, tuple(bases))
        self.owner.classes[key] = builder
        # The class body runs where it is defined: its uses belong to the enclosing code.
        body = ClassBody(self, builder)
        body.block(node.body)

    statement_handlers: ClassVar[dict[type[ast.stmt], _StatementHandler]] = {
        ast.FunctionDef: define_function,
        ast.AsyncFunctionDef: define_function,
        ast.ClassDef: define_class,
        ast.Expr: expression_statement,
        ast.Assign: assign,
        ast.AnnAssign: annotated_assign,
        ast.AugAssign: augmented_assign,
        ast.Return: return_,
        ast.For: for_,
        ast.AsyncFor: for_,
        ast.With: with_,
        ast.AsyncWith: with_,
        ast.If: if_,
        ast.While: while_,
        ast.Try: try_,
        ast.TryStar: try_,
        ast.Match: match,
        ast.Import: import_,
        ast.ImportFrom: import_from,
        ast.Raise: expressions_of,
        ast.Assert: expressions_of,
        ast.Delete: expressions_of,
        ast.Global: global_,
    }


class ClassBody(Body):
    """A class body: its statements run in the enclosing code; its functions are methods."""

    def __init__(self, outer: Body, builder: ClassBuilder) -> None:
        # Not async: ``await`` cannot go in a class body, so no fix texts are kept there.
        super().__init__(outer.owner, outer.scope, builder.key, is_async=False, class_of=builder)
        self.outer = outer
        self.module_level = False
        # Uses, reads and flags go to the enclosing code, which runs the class body, and so
        # does where the walk is (the guards and marks that place them).
        self.uses = outer.uses
        self.reads = outer.reads
        self.guards = outer.guards
        self.marks = outer.marks
        self.guard, self.state = outer.guard, outer.state

    def class_attribute(self, node: ast.Assign | ast.AnnAssign) -> None:
        """``name = value`` in a class body types the class attribute ``name``."""
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and self.class_of is not None:
                annotation = node.annotation if isinstance(node, ast.AnnAssign) else None
                ref = annotation_ref(annotation, self.scope) if annotation is not None else None
                factory = _field_factory(node.value)
                if ref is None and factory is not None:
                    made = expr_ref(factory, self.scope)
                    ref = f"{made}()" if made else None
                if ref is None and node.value is not None:
                    ref = self.scope.value_ref(node.value)
                self.class_of.attribute(target.id, ref)
                if factory is not None:
                    # each instance gets ``factory()``: a call with no arguments
                    self.class_of.made_by(target.id, ())
        if node.value is not None:
            self.expr(node.value, plain=True)

    statement_handlers: ClassVar[dict[type[ast.stmt], _StatementHandler]] = {
        **Body.statement_handlers,
        ast.Assign: class_attribute,
        ast.AnnAssign: class_attribute,
    }


_FIELD_FACTORIES = {"field": ("default_factory", "factory"), "Field": ("default_factory",)}


def _field_factory(value: ast.expr | None) -> ast.expr | None:
    """The class a dataclass / attrs / pydantic field makes each instance's value with
    (``field(default_factory=queue.Queue)``), when it is named; else ``None``."""
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    keys = _FIELD_FACTORIES.get(name, ())
    for keyword in value.keywords:
        if keyword.arg in keys and isinstance(keyword.value, (ast.Name, ast.Attribute)):
            return keyword.value
    return None


def is_main_guard(test: ast.expr) -> bool:
    """Whether an ``if`` test is ``__name__ == "__main__"``."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _rebound_otherwise(node: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str] | None:
    """The names the function rebinds other than by assignment, ``for`` or ``with``, in one
    walk; ``None`` when it has a ``del`` (which may unbind any of them)."""
    names: set[str] = set()
    for child in ast.walk(node):
        if child is node:
            continue
        if isinstance(child, ast.ExceptHandler):
            if child.name:
                names.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            names.update(alias.asname or alias.name.split(".")[0] for alias in child.names)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(child.name)
        elif isinstance(child, (ast.Global, ast.Nonlocal)):
            names.update(child.names)
        elif isinstance(child, ast.NamedExpr):
            names.add(child.target.id)
        elif isinstance(child, ast.Delete):
            return None
    return frozenset(names)


def _true_keywords(decorator: ast.expr) -> tuple[str, ...]:
    """The arguments a decorator's call gives a true constant: ``("thread",)`` for
    ``@work(thread=True, exclusive=False)``."""
    if not isinstance(decorator, ast.Call):
        return ()
    return tuple(
        keyword.arg
        for keyword in decorator.keywords
        if keyword.arg is not None
        and isinstance(keyword.value, ast.Constant)
        and bool(keyword.value.value)
    )
