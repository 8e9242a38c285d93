"""The checker never crashes: generated Python, random text and bytes, and every file of site-packages."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from unstall.check import Config
from unstall.check._discover import DEFAULT_EXCLUDES
from unstall.check._runner import run_check

Cli = Callable[..., "subprocess.CompletedProcess[str]"]
# Hypothesis may describe a draw of the recursive grammar, and warns that its repr is large.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

NAMES = st.sampled_from(
    [
        "x",
        "y",
        "time",
        "os",
        "requests",
        "open",
        "sleep",
        "self",
        "f",
        "g",
        "app",
        "Path",
        "subprocess",
    ]
)
ATTRS = st.sampled_from(
    ["sleep", "get", "run", "read_text", "connect", "open", "path", "join", "to_thread", "request"]
)
# Python 3.12 added type parameters to definitions; older versions take no such field.
TYPE_PARAMS: dict[str, Any] = {"type_params": []} if sys.version_info >= (3, 12) else {}
MODULES = st.sampled_from(
    [
        "time",
        "os",
        "os.path",
        "requests",
        "subprocess",
        "asyncio",
        "pathlib",
        "mod0",
        "mod1",
        "pkg.sub",
    ]
)


def _name(ctx: ast.expr_context | None = None) -> st.SearchStrategy[ast.Name]:
    return NAMES.map(lambda name: ast.Name(id=name, ctx=ctx or ast.Load()))


def _expressions(in_async: bool) -> st.SearchStrategy[ast.expr]:
    leaves: st.SearchStrategy[ast.expr] = st.one_of(
        _name(),
        st.one_of(st.integers(-5, 5), st.text(max_size=5), st.none(), st.booleans()).map(
            lambda v: ast.Constant(value=v)
        ),
    )

    def extend(inner: st.SearchStrategy[ast.expr]) -> st.SearchStrategy[ast.expr]:
        options: list[st.SearchStrategy[ast.expr]] = [
            st.builds(lambda v, a: ast.Attribute(value=v, attr=a, ctx=ast.Load()), inner, ATTRS),
            st.builds(
                lambda f, args, kws: ast.Call(
                    func=f, args=args, keywords=[ast.keyword(arg=k, value=v) for k, v in kws]
                ),
                inner,
                st.lists(inner, max_size=3),
                st.lists(
                    st.tuples(st.sampled_from(["timeout", "blocking", "check", "shell"]), inner),
                    max_size=2,
                    unique_by=lambda kv: kv[0],
                ),
            ),
            st.builds(lambda a, b: ast.BinOp(left=a, op=ast.Add(), right=b), inner, inner),
            st.builds(
                lambda items: ast.List(elts=items, ctx=ast.Load()), st.lists(inner, max_size=3)
            ),
            st.builds(lambda v, i: ast.Subscript(value=v, slice=i, ctx=ast.Load()), inner, inner),
            st.builds(lambda body: ast.Lambda(args=_no_args(), body=body), inner),
            st.builds(lambda a, b, c: ast.IfExp(test=a, body=b, orelse=c), inner, inner, inner),
        ]
        if in_async:
            options.append(st.builds(lambda v: ast.Await(value=v), inner))
        return st.one_of(*options)

    return st.recursive(leaves, extend, max_leaves=8)


def _no_args() -> ast.arguments:
    return ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
    )


def _args(names: list[str]) -> ast.arguments:
    arguments = _no_args()
    arguments.args = [ast.arg(arg=name) for name in dict.fromkeys(names)]
    return arguments


def _function(
    node: type[ast.FunctionDef] | type[ast.AsyncFunctionDef],
    body: st.SearchStrategy[list[ast.stmt]],
    decorators: st.SearchStrategy[list[ast.expr]],
) -> st.SearchStrategy[ast.stmt]:
    """A ``def`` or ``async def`` with a generated name, parameters, body and decorators."""
    return st.builds(
        lambda n, a, b, d: node(
            name=n,
            args=_args(a),
            body=b,
            decorator_list=d,
            returns=None,
            lineno=1,
            **TYPE_PARAMS,
        ),
        NAMES,
        st.lists(NAMES, max_size=2),
        body,
        decorators,
    )


def _statements(depth: int, in_async: bool) -> st.SearchStrategy[list[ast.stmt]]:
    expr = _expressions(in_async)
    simple: list[st.SearchStrategy[ast.stmt]] = [
        expr.map(lambda e: ast.Expr(value=e)),
        st.builds(
            lambda t, v: ast.Assign(targets=[t], value=v, lineno=1), _name(ast.Store()), expr
        ),
        st.builds(
            lambda m, a: ast.Import(names=[ast.alias(name=m, asname=a)]), MODULES, st.none() | NAMES
        ),
        st.builds(
            lambda m, n, a, level: ast.ImportFrom(
                module=m, names=[ast.alias(name=n, asname=a)], level=level
            ),
            MODULES,
            NAMES | ATTRS,
            st.none() | NAMES,
            st.integers(0, 2),
        ),
        st.builds(lambda v: ast.Return(value=v), st.none() | expr),
        st.just(ast.Pass()),
    ]
    if depth <= 0:
        return st.lists(st.one_of(*simple), min_size=1, max_size=4)
    body = _statements(depth - 1, in_async)
    async_body = _statements(depth - 1, True)
    sync_body = _statements(depth - 1, False)
    decorators = st.lists(expr, max_size=2)
    compound: list[st.SearchStrategy[ast.stmt]] = [
        st.builds(lambda t, b, o: ast.If(test=t, body=b, orelse=o), expr, body, st.just([]) | body),
        st.builds(
            lambda i, b: ast.For(
                target=ast.Name(id="item", ctx=ast.Store()), iter=i, body=b, orelse=[], lineno=1
            ),
            expr,
            body,
        ),
        st.builds(lambda t, b: ast.While(test=t, body=b, orelse=[]), expr, body),
        st.builds(
            lambda c, b: ast.With(
                items=[ast.withitem(context_expr=c, optional_vars=None)], body=b, lineno=1
            ),
            expr,
            body,
        ),
        st.builds(
            lambda b, h: ast.Try(
                body=b,
                handlers=[ast.ExceptHandler(type=None, name=None, body=h)],
                orelse=[],
                finalbody=[],
            ),
            body,
            body,
        ),
        _function(ast.FunctionDef, sync_body, decorators),
        _function(ast.AsyncFunctionDef, async_body, decorators),
        st.builds(
            lambda n, bases, b, d: ast.ClassDef(
                name=n, bases=bases, keywords=[], body=b, decorator_list=d, **TYPE_PARAMS
            ),
            NAMES,
            st.lists(_name(), max_size=1),
            sync_body,
            decorators,
        ),
    ]
    if in_async:
        compound.append(
            st.builds(
                lambda c, b: ast.AsyncWith(
                    items=[ast.withitem(context_expr=c, optional_vars=None)], body=b, lineno=1
                ),
                expr,
                body,
            )
        )
        compound.append(
            st.builds(
                lambda i, b: ast.AsyncFor(
                    target=ast.Name(id="item", ctx=ast.Store()), iter=i, body=b, orelse=[], lineno=1
                ),
                expr,
                body,
            )
        )
    return st.lists(st.one_of(*simple, *compound), min_size=1, max_size=4)


def _unparse(statements: list[ast.stmt]) -> str:
    module = ast.fix_missing_locations(ast.Module(body=statements, type_ignores=[]))
    return ast.unparse(module) + "\n"


MODULE_SOURCES = _statements(2, False).map(_unparse)
FILE_CONTENTS = st.one_of(MODULE_SOURCES, st.text(max_size=300), st.binary(max_size=300))


def _check_files(contents: list[str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pkg").mkdir()
        (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
        for index, content in enumerate(contents):
            target = root / ("pkg/sub.py" if index == 1 else f"mod{index}.py")
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", errors="surrogatepass")
        result = run_check([root], config=Config(root=root), jobs=1, use_cache=False, cwd=root)
        assert result.stats.files == len(contents) + 1
        for finding in result.findings:
            assert finding.code.startswith("UNS")
            assert finding.location.line >= 1


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(MODULE_SOURCES, min_size=1, max_size=3))
def test_generated_python_never_crashes(sources: list[str]) -> None:
    for source in sources:
        try:
            compile(source, "<generated>", "exec", flags=ast.PyCF_ONLY_AST)
        except SyntaxError:
            # ast.unparse writes a few trees it cannot round-trip (``await -1``): the random
            # text test covers invalid files, this one wants real syntax.
            assume(False)
    _check_files(list(sources))


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FILE_CONTENTS, min_size=1, max_size=3))
def test_random_text_and_bytes_never_crash(contents: list[str | bytes]) -> None:
    _check_files(contents)


def _python_files_under(folder: Path) -> int:
    """How many ``*.py`` files a run over ``folder`` checks: not in hidden or excluded folders."""
    count = 0
    for _, dirnames, filenames in os.walk(folder):
        kept = [d for d in dirnames if not d.startswith(".") and d not in DEFAULT_EXCLUDES]
        # a folder named like a module is checked too (and reported unreadable)
        count += sum(name.endswith(".py") for name in [*filenames, *kept])
        dirnames[:] = [d for d in kept if not d.endswith(".py")]
    return count


@pytest.mark.slow
def test_all_of_site_packages_in_one_run(cli: Cli, tmp_path: Path) -> None:
    purelib = Path(sysconfig.get_paths()["purelib"])
    installed = _python_files_under(purelib)
    assert installed > 0
    # a venv made by Python 3.13 carries a .gitignore of "*": the run must not respect it
    result = cli(
        "--no-cache", "--no-respect-gitignore", "--jobs", "2", "--format", "json", str(purelib)
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["files"] == installed
