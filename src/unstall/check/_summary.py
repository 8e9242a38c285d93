"""Summarize one source file into a :class:`ModuleSummary` (stdlib ``ast``; user code is never imported).

One pass binds the module's top-level names; then every function body (and the module's own
top-level code) is walked once, recording its uses with symbolic callees. See
:mod:`unstall.check._summary_types` for what is recorded and why.
"""

from __future__ import annotations

import ast
from sys import intern

from unstall.check._scope import (
    UNKNOWN,
    FunctionScope,
    ModuleScope,
    Scope,
    annotation_ref,
    expr_ref,
    resolve_relative,
)
from unstall.check._summary_types import (
    AWAITED,
    CALL,
    CONSUMED,
    IMPORT,
    IN_LAMBDA,
    MODULE_CODE,
    PLAIN,
    READ,
    ClassInfo,
    FunctionInfo,
    ModuleSummary,
    Use,
)

__all__ = ("ModuleSummary", "summarize")

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
_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "cached_property_with_ttl"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def summarize(text: str, *, path: str, module: str, is_package: bool) -> ModuleSummary:
    """Parse ``text`` and summarize it. Raises ``SyntaxError`` (or ``ValueError``) when it does not parse."""
    tree = ast.parse(text, filename=path)
    return _Summarizer(text, path, module, is_package).run(tree)


class _ClassBuilder:
    __slots__ = ("attributes", "bases", "key", "line")

    def __init__(self, key: str, line: int, bases: tuple[str, ...]) -> None:
        self.key = key
        self.line = line
        self.bases = bases
        self.attributes: dict[str, str] = {}

    def attribute(self, name: str, ref: str | None) -> None:
        if ref is None:
            return
        known = self.attributes.get(name)
        if known is None:
            self.attributes[name] = ref
        elif known != ref:
            self.attributes[name] = UNKNOWN


class _Summarizer:
    def __init__(self, text: str, path: str, module: str, is_package: bool) -> None:
        self.text = text
        self.path = path
        self.module = module
        self.is_package = is_package
        self.scope = ModuleScope(module)
        self.functions: dict[str, FunctionInfo] = {}
        self.classes: dict[str, _ClassBuilder] = {}
        self.star_imports: list[str] = []
        self._lines: list[bytes] | None = None

    # -- the module ------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> ModuleSummary:
        self._bind_block(tree.body, self.scope, prefix=self.module, top=True)
        self.scope.has_star = bool(self.star_imports)
        walker = _Body(self, self.scope, MODULE_CODE, is_async=False, class_of=None)
        walker.block(tree.body)
        self.functions[MODULE_CODE] = walker.info(0, 0)
        bindings = tuple((name, self.scope.local(name)) for name in self.scope._raw)
        return ModuleSummary(
            path=self.path,
            module=self.module,
            is_package=self.is_package,
            functions=tuple(self.functions.values()),
            classes=tuple(
                ClassInfo(c.key, c.line, c.bases, tuple(sorted(c.attributes.items())))
                for c in self.classes.values()
            ),
            bindings=bindings,
            star_imports=tuple(self.star_imports),
            insert_line=_insert_line(tree),
        )

    def absolute(self, node: ast.ImportFrom) -> str | None:
        return resolve_relative(self.module, self.is_package, node.module, node.level)

    def _bind_block(self, body: list[ast.stmt], scope: Scope, *, prefix: str, top: bool) -> None:
        """Bind the names a block of statements assigns (nested scopes excluded).

        ``prefix`` is the reference of the scope's owner: definitions are bound below it.
        """
        for node in body:
            self._bind_statement(node, scope, prefix=prefix, top=top)

    def _bind_statement(self, node: ast.stmt, scope: Scope, *, prefix: str, top: bool) -> None:
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            scope.bind(node.name, f"{prefix}.{node.name}")
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.bind(alias.asname, alias.name)
                else:
                    first = alias.name.split(".", 1)[0]
                    scope.bind(first, first)
        elif isinstance(node, ast.ImportFrom):
            base = self.absolute(node)
            for alias in node.names:
                if alias.name == "*":
                    if top and base:
                        self.star_imports.append(base)
                    continue
                scope.bind(alias.asname or alias.name, f"{base}.{alias.name}" if base else UNKNOWN)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self._bind_target(target, node.value, scope)
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name):
                typed = annotation_ref(node.annotation, scope)
                scope.bind(node.target.id, typed if typed else (node.value or UNKNOWN))
        elif isinstance(node, ast.AugAssign):
            self._bind_target(node.target, None, scope)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._bind_target(node.target, None, scope)
            self._bind_block(node.body, scope, prefix=prefix, top=top)
            self._bind_block(node.orelse, scope, prefix=prefix, top=top)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._bind_target(item.optional_vars, item.context_expr, scope)
            self._bind_block(node.body, scope, prefix=prefix, top=top)
        elif isinstance(node, (ast.If, ast.While)):
            self._bind_block(node.body, scope, prefix=prefix, top=top)
            self._bind_block(node.orelse, scope, prefix=prefix, top=top)
        elif isinstance(node, (ast.Try, ast.TryStar)):
            self._bind_block(node.body, scope, prefix=prefix, top=top)
            for handler in node.handlers:
                if handler.name:
                    scope.bind(handler.name, UNKNOWN)
                self._bind_block(handler.body, scope, prefix=prefix, top=top)
            self._bind_block(node.orelse, scope, prefix=prefix, top=top)
            self._bind_block(node.finalbody, scope, prefix=prefix, top=top)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None) or getattr(sub, "rest", None)
                    if isinstance(name, str):
                        scope.bind(name, UNKNOWN)
                self._bind_block(case.body, scope, prefix=prefix, top=top)
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and isinstance(scope, FunctionScope):
            scope.globals.update(node.names)

    def _bind_target(self, target: ast.expr, value: ast.expr | None, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.bind(target.id, value if value is not None else UNKNOWN)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind_target(element, None, scope)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, None, scope)

    # -- source text for fixes ---------------------------------------------------------------

    def segment(self, line: int, col: int, end_line: int, end_col: int) -> str:
        if self._lines is None:
            self._lines = [part.encode("utf-8") for part in self.text.splitlines(keepends=True)]
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


def _insert_line(tree: ast.Module) -> int:
    line = 1
    for index, node in enumerate(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            line = (node.end_lineno or node.lineno) + 1
    return line


def _decorator_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class _Body:
    """Walks one function body (or the module's top-level code), recording its uses."""

    def __init__(
        self,
        owner: _Summarizer,
        scope: Scope,
        key: str,
        *,
        is_async: bool,
        class_of: _ClassBuilder | None,
        self_name: str | None = None,
    ) -> None:
        self.owner = owner
        self.scope = scope
        self.key = key
        self.is_async = is_async
        self.class_of = class_of
        self.self_name = self_name
        self.uses: list[Use] = []
        self.reads: set[str] = set()
        self.is_generator = False
        self.returns: list[str | None] = []
        self.module_level = key == MODULE_CODE

    def info(
        self,
        line: int,
        col: int,
        *,
        is_property: bool = False,
        decorators: tuple[str, ...] = (),
        annotated: str | None = None,
    ) -> FunctionInfo:
        returns: str | None = None
        if self.returns and not self.is_generator:
            first = self.returns[0]
            if first and all(ref == first for ref in self.returns):
                returns = first
        if returns is None and not self.is_generator:
            returns = annotated
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
        )

    # -- statements --------------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> None:
        for node in body:
            try:
                self.statement(node)
            except RecursionError:
                # An expression nested deeper than the walker can follow (hundreds of
                # chained calls): keep what was recorded and go on with the next statement.
                continue

    def statement(self, node: ast.stmt) -> None:
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
            base = self.owner.absolute(node)
            if base:
                self.import_use(base, node)
                for alias in node.names:
                    if alias.name != "*":
                        self.import_use(f"{base}.{alias.name}", node)
        elif isinstance(node, (ast.Raise, ast.Assert, ast.Delete)):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)

    def context_manager(self, node: ast.expr) -> None:
        # ``with lock:`` runs ``lock.__enter__()`` and ``__exit__()``: a lock's acquire, an
        # executor's shutdown, or a project class's own methods.
        ref = expr_ref(node, self.scope)
        if ref is None:
            return
        end_line, end_col = node.end_lineno or node.lineno, node.end_col_offset or 0
        for method in ("__enter__", "__exit__"):
            self.uses.append(
                Use(
                    CALL, intern(f"{ref}.{method}"), node.lineno, node.col_offset, end_line, end_col
                )
            )

    def import_use(self, name: str, node: ast.stmt) -> None:
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
        # ``self.x = Factory()`` in a method records the attribute's type on the class.
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
        for decorator in node.decorator_list:
            self.expr(decorator)
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.expr(default)
        names = [_decorator_name(d) for d in node.decorator_list]
        if any(name in ("setter", "deleter") for name in names):
            return
        in_class = self.class_of if isinstance(self, _ClassBody) else None
        key = node.name if self.module_level else f"{self.key}.{node.name}"
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
        self.owner._bind_block(node.body, scope, prefix=f"{self.owner.module}.{key}", top=False)
        body = _Body(
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
            ref = expr_ref(
                decorator.func if isinstance(decorator, ast.Call) else decorator, self.scope
            )
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
        builder = _ClassBuilder(key, node.lineno, tuple(bases))
        self.owner.classes[key] = builder
        # The class body runs where it is defined: its uses belong to the enclosing code.
        body = _ClassBody(self, builder)
        body.block(node.body)

    # -- expressions --------------------------------------------------------------------------

    def expr(
        self,
        node: ast.expr,
        *,
        plain: bool = False,
        consumed: bool = False,
        parent: int = -1,
        lambda_arg: bool = False,
    ) -> None:
        # Iterative over simple wrappers, recursive over branching nodes.
        if isinstance(node, ast.Call):
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
                self.read(node)
            self.expr(node.value, parent=parent, lambda_arg=lambda_arg)
        elif isinstance(node, ast.Name | ast.Constant):
            return
        elif isinstance(node, ast.Lambda):
            if parent >= 0:
                self.expr(node.body, parent=parent, lambda_arg=True)
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for generator in node.generators:
                self.expr(
                    generator.iter,
                    consumed=not generator.is_async,
                    parent=parent,
                    lambda_arg=lambda_arg,
                )
                for condition in generator.ifs:
                    self.expr(condition, parent=parent, lambda_arg=lambda_arg)
            if isinstance(node, ast.DictComp):
                self.expr(node.key, parent=parent, lambda_arg=lambda_arg)
                self.expr(node.value, parent=parent, lambda_arg=lambda_arg)
            else:
                self.expr(node.elt, parent=parent, lambda_arg=lambda_arg)
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            self.is_generator = True
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

    def read(self, node: ast.Attribute) -> None:
        ref = expr_ref(node, self.scope)
        # Only reads on instances can run a property getter; module and class reads cannot.
        if ref is None or "()" not in ref or ref in self.reads:
            return
        self.reads.add(ref)
        self.uses.append(
            Use(
                READ,
                intern(ref),
                node.lineno,
                node.col_offset,
                node.end_lineno or node.lineno,
                node.end_col_offset or 0,
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
        func = node.func
        ref = expr_ref(func, self.scope)
        if ref is None:
            ref = self.unknown_ref(node)
        flags = (
            (AWAITED if awaited else 0) | (CONSUMED if consumed else 0) | (PLAIN if plain else 0)
        )
        flags |= IN_LAMBDA if lambda_arg else 0
        index = -1
        if ref is not None:
            keywords = tuple(
                (keyword.arg, keyword.value.value)
                for keyword in node.keywords
                if keyword.arg is not None
                and isinstance(keyword.value, ast.Constant)
                and isinstance(keyword.value.value, (bool, int, float, str, type(None)))
            )
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


class _ClassBody(_Body):
    """A class body: its statements run in the enclosing code; its functions are methods."""

    def __init__(self, outer: _Body, builder: _ClassBuilder) -> None:
        super().__init__(
            outer.owner, outer.scope, builder.key, is_async=outer.is_async, class_of=builder
        )
        self.outer = outer
        self.module_level = False
        # Uses, reads and flags go to the enclosing code, which runs the class body.
        self.uses = outer.uses
        self.reads = outer.reads

    def statement(self, node: ast.stmt) -> None:
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
