"""Summarize one source file into a :class:`ModuleSummary` (stdlib ``ast``; user code is never imported).

One pass binds the module's top-level names (:mod:`unstall.check._bind`); then every function
body and the module's own top-level code are walked once (:mod:`unstall.check._walk`),
recording their uses with symbolic callees. See :mod:`unstall.check._summary_types` for what
is recorded and why.
"""

from __future__ import annotations

import ast
import re

from unstall.check._concurrency_walk import concurrency_facts
from unstall.check._scope import ModuleScope
from unstall.check._summary_types import MODULE_CODE, SCRIPT_CODE, ClassInfo, ModuleSummary
from unstall.check._walk import Body, FileContext, is_main_guard

__all__ = ("ModuleSummary", "summarize")


def summarize(text: str, *, path: str, module: str, is_package: bool) -> ModuleSummary:
    """Parse ``text`` and summarize it. Raises ``SyntaxError`` (or ``ValueError``) when it does not parse."""
    tree = ast.parse(text, filename=path)
    context = FileContext(text, path, module, is_package)
    scope = ModuleScope(module)
    context.binder.block(tree.body, scope, prefix=module, top=True)
    scope.has_star = bool(context.binder.star_imports)
    walker = Body(context, scope, MODULE_CODE, is_async=False, class_of=None)
    walker.block(tree.body)
    context.functions[MODULE_CODE] = walker.info(0, 0)
    script = [node for node in tree.body if isinstance(node, ast.If) and is_main_guard(node.test)]
    if script:
        runner = Body(context, scope, SCRIPT_CODE, is_async=False, class_of=None)
        for node in script:
            runner.block(node.body)
        context.functions[SCRIPT_CODE] = runner.info(script[0].lineno, script[0].col_offset)
    return ModuleSummary(
        path=path,
        module=module,
        is_package=is_package,
        functions=tuple(context.functions.values()),
        classes=tuple(
            ClassInfo(
                c.key,
                c.line,
                c.bases,
                tuple(sorted(c.attributes.items())),
                tuple(sorted((name, made) for name, made in c.made.items() if made is not None)),
            )
            for c in context.classes.values()
        ),
        bindings=tuple((name, scope.local(name)) for name in scope.names()),
        star_imports=tuple(context.binder.star_imports),
        insert_line=_insert_line(tree, text),
        rebound=tuple(sorted(scope.rebound)),
        concurrency=concurrency_facts(tree, text),
    )


# A comment or blank line at the start of a file (the shebang and the coding cookie among them).
_LEADING_LINE = re.compile(r"[ \t\f]*(#[^\r\n]*)?(?:\r\n|\r|\n)")


def _insert_line(tree: ast.Module, text: str) -> int:
    # Never above the leading comments: a coding cookie must stay on line 1 or 2, a shebang on 1.
    line = 1
    number = position = 0
    while match := _LEADING_LINE.match(text, position):
        position = match.end()
        number += 1
        if match.group(1):
            line = number + 1
    for index, node in enumerate(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            line = max(line, (node.end_lineno or node.lineno) + 1)
    return line
