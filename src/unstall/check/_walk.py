"""Walk function bodies (and a module's top-level code) and record their uses.

Part of the summarizer (:mod:`unstall.check._summary`): a :class:`Body` walks one body
once, resolving names through its scope into symbolic references, and records the calls,
property-candidate reads and imports that may run other code. Expressions are handled by
:class:`~unstall.check._walk_expr.ExpressionWalker`.
"""

from __future__ import annotations

import ast
from sys import intern

from unstall.check._scope import UNKNOWN, FunctionScope, annotation_ref, expr_ref
from unstall.check._summary_types import CALL, IMPORT, FunctionInfo, Use
from unstall.check._walk_expr import ClassBuilder, ExpressionWalker, FileContext

__all__ = ("Body", "ClassBuilder", "FileContext")

_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "cached_property_with_ttl"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _decorator_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class Body(ExpressionWalker):
    """Walks one function body (or the module's top-level code), recording its uses."""

    def info(
        self,
        line: int,
        col: int,
        *,
        is_property: bool = False,
        decorators: tuple[str, ...] = (),
        annotated: str | None = None,
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
        return FunctionInfo(
            key=self.key,
            line=line,
            col=col,
            is_async=self.is_async,
            uses=tuple(self.uses),
            is_generator=self.is_generator,
            is_property=is_property,
            decorators=decorators,
            returns=returns,
            yields=yields,
        )

    # -- statements --------------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> None:
        """Walk a block of statements."""
        for node in body:
            try:
                self.statement(node)
            except RecursionError:
                # An expression nested deeper than the walker can follow (hundreds of
                # chained calls): keep what was recorded and go on with the next statement.
                continue

    def statement(self, node: ast.stmt) -> None:
        """Walk one statement: record what it may run, define what it defines."""
        if isinstance(node, _FUNCTIONS):
            self.define_function(node)
        elif isinstance(node, ast.ClassDef):
            self.define_class(node)
        elif isinstance(node, ast.Expr):
            self.expr(node.value, plain=True)
        elif isinstance(node, ast.Assign):
            self.expr(node.value, plain=True)
            for target in node.targets:
                self.target(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.expr(node.value, plain=True)
            self.target(node.target, node.value, node.annotation)
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value, plain=True)
            self.expr(node.target)
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.expr(node.value, plain=True)
                self.returns.append(expr_ref(node.value, self.scope))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.expr(node.iter, consumed=isinstance(node, ast.For))
            self.expr(node.target)
            self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.expr(item.context_expr, plain=True)
                if isinstance(node, ast.With):
                    self.context_manager(item.context_expr)
            self.block(node.body)
        elif isinstance(node, ast.If):
            if self.module_level and _is_main_guard(node.test):
                self.block(node.orelse)
                return
            type_checking = _is_type_checking(node.test)
            self.expr(node.test)
            if not type_checking:
                self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, ast.While):
            self.expr(node.test)
            self.block(node.body)
            self.block(node.orelse)
        elif isinstance(node, (ast.Try, ast.TryStar)):
            self.block(node.body)
            for handler in node.handlers:
                if handler.type is not None:
                    self.expr(handler.type)
                self.block(handler.body)
            self.block(node.orelse)
            self.block(node.finalbody)
        elif isinstance(node, ast.Match):
            self.expr(node.subject)
            for case in node.cases:
                if case.guard is not None:
                    self.expr(case.guard)
                self.block(case.body)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                self.import_use(alias.name, node)
        elif isinstance(node, ast.ImportFrom):
            base = self.owner.binder.absolute(node)
            if base:
                self.import_use(base, node)
                for alias in node.names:
                    if alias.name != "*":
                        self.import_use(f"{base}.{alias.name}", node)
        elif isinstance(node, (ast.Raise, ast.Assert, ast.Delete)):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)

    def import_use(self, name: str, node: ast.stmt) -> None:
        """Record an import of the absolute module ``name`` (its top-level code may run)."""
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
        body.block(node.body)
        decorators = []
        for decorator in node.decorator_list:
            ref = expr_ref(decorator, self.scope)  # ``@retry(3)`` gives ``...retry()``
            if ref:
                decorators.append(ref)
        self.owner.functions[key] = body.info(
            node.lineno,
            node.col_offset,
            is_property=any(name in _PROPERTY_DECORATORS for name in names),
            decorators=tuple(decorators),
            annotated=annotation_ref(node.returns, scope) if node.returns is not None else None,
        )

    def define_class(self, node: ast.ClassDef) -> None:
        """Record a class; its body runs here, its methods are functions of their own."""
        for decorator in node.decorator_list:
            self.expr(decorator)
        bases = []
        for base in node.bases:
            self.expr(base)
            ref = expr_ref(base, self.scope)
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

    # -- expressions --------------------------------------------------------------------------


class ClassBody(Body):
    """A class body: its statements run in the enclosing code; its functions are methods."""

    def __init__(self, outer: Body, builder: ClassBuilder) -> None:
        # Not async: ``await`` cannot go in a class body, so no fix texts are kept there.
        super().__init__(outer.owner, outer.scope, builder.key, is_async=False, class_of=builder)
        self.outer = outer
        self.module_level = False
        # Uses, reads and flags go to the enclosing code, which runs the class body.
        self.uses = outer.uses
        self.reads = outer.reads

    def statement(self, node: ast.stmt) -> None:
        """Walk one statement: record what it may run, define what it defines."""
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and self.class_of is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    annotation = node.annotation if isinstance(node, ast.AnnAssign) else None
                    ref = annotation_ref(annotation, self.scope) if annotation is not None else None
                    if ref is None and node.value is not None:
                        ref = self.scope.value_ref(node.value)
                    self.class_of.attribute(target.id, ref)
            if node.value is not None:
                self.expr(node.value, plain=True)
            return
        super().statement(node)


def _is_main_guard(test: ast.expr) -> bool:
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
