"""The names a block of statements binds, for the summarizer's scopes (nested scopes excluded)."""

from __future__ import annotations

import ast

from unstall.check._scope import (
    UNKNOWN,
    Each,
    Entered,
    FunctionScope,
    Scope,
    annotation_ref,
    resolve_relative,
)

__all__ = ("Binder",)

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class Binder:
    """Binds names into scopes: imports, definitions, assignments, loop, ``with`` and ``except`` targets.

    Star imports at a module's top level are collected in :attr:`star_imports`.
    """

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.star_imports: list[str] = []

    def absolute(self, node: ast.ImportFrom) -> str | None:
        """The absolute module an ``ImportFrom`` names (relative imports resolved)."""
        return resolve_relative(self.module, self.is_package, node.module, node.level)

    def block(self, body: list[ast.stmt], scope: Scope, *, prefix: str, top: bool) -> None:
        """Bind the names a block of statements assigns (nested scopes excluded).

        ``prefix`` is the reference of the scope's owner: definitions are bound below it.
        """
        for node in body:
            self.statement(node, scope, prefix=prefix, top=top)

    def statement(self, node: ast.stmt, scope: Scope, *, prefix: str, top: bool) -> None:
        """Bind what one statement binds (and, for compound statements, their blocks)."""
        if isinstance(node, _DEFINITIONS):
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
                self.target(target, node.value, scope)
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name):
                typed = annotation_ref(node.annotation, scope)
                scope.bind(node.target.id, typed if typed else (node.value or UNKNOWN))
                if typed and node.value is not None:
                    scope.given(node.target.id, node.value)
        elif isinstance(node, ast.AugAssign):
            self.target(node.target, None, scope)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
                # ``for path in root.glob("*")``: each item, typed when the catalog knows it.
                scope.bind(node.target.id, Each(node.iter))
            else:
                self.target(node.target, None, scope)
            self.block(node.body, scope, prefix=prefix, top=top)
            self.block(node.orelse, scope, prefix=prefix, top=top)
        elif isinstance(node, ast.AsyncWith):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    # What ``__aenter__`` returns, which may not be the manager itself.
                    scope.bind(item.optional_vars.id, Entered(item.context_expr))
                elif item.optional_vars is not None:
                    self.target(item.optional_vars, None, scope)
            self.block(node.body, scope, prefix=prefix, top=top)
        elif isinstance(node, ast.With):
            for item in node.items:
                if item.optional_vars is not None:
                    self.target(item.optional_vars, item.context_expr, scope)
            self.block(node.body, scope, prefix=prefix, top=top)
        elif isinstance(node, (ast.If, ast.While)):
            self.block(node.body, scope, prefix=prefix, top=top)
            self.block(node.orelse, scope, prefix=prefix, top=top)
        elif isinstance(node, (ast.Try, ast.TryStar)):
            self.block(node.body, scope, prefix=prefix, top=top)
            for handler in node.handlers:
                if handler.name:
                    scope.bind(handler.name, UNKNOWN)
                self.block(handler.body, scope, prefix=prefix, top=top)
            self.block(node.orelse, scope, prefix=prefix, top=top)
            self.block(node.finalbody, scope, prefix=prefix, top=top)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None) or getattr(sub, "rest", None)
                    if isinstance(name, str):
                        scope.bind(name, UNKNOWN)
                self.block(case.body, scope, prefix=prefix, top=top)
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and isinstance(scope, FunctionScope):
            scope.globals.update(node.names)

    def target(self, target: ast.expr, value: ast.expr | None, scope: Scope) -> None:
        """Bind an assignment target to ``value`` (unpacked targets are unknown)."""
        if isinstance(target, ast.Name):
            scope.bind(target.id, value if value is not None else UNKNOWN)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.target(element, None, scope)
        elif isinstance(target, ast.Starred):
            self.target(target.value, None, scope)
