"""Fix suggestions and mechanical edits for findings, from the catalog entry's ``fix`` template.

A rewrite is *safe* (applied by ``--fix``) only when it is exact: the template replaces the
call by an awaitable that does the same thing without ``{func}`` (``time.sleep(x)`` becomes
``await asyncio.sleep(x)``), the call sits directly in the ``async def`` (not in a lambda) and
``await`` can be put in front of it without changing how the expression parses. Moving work
to a thread (``await asyncio.to_thread(requests.get, url)``) is offered as an unsafe fix: it
changes which thread runs the code.

A rewrite never writes a module's name where the file means something else by it (``import
trio as asyncio``, a parameter or local named ``asyncio``): it imports the module under an
alias (``import asyncio as _asyncio``, ``await _asyncio.sleep(x)``), and offers no edit when
the file binds the alias too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from unstall.catalog import Entry, Offload
from unstall.check._model import Edit
from unstall.check._summary_types import (
    AWAITED,
    CALL,
    CONSUMED,
    IMPORT,
    IN_LAMBDA,
    PLAIN,
    READ,
    ModuleSummary,
    Use,
)

__all__ = ("fix_for",)

_MODULE_PREFIX = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\.")
_SHORT = 60
_PLACEHOLDER = re.compile(r"\{(func|args)\}")


def _in_lambda(use: Use, uses: Sequence[Use]) -> bool:
    for _ in range(len(uses) + 1):
        if use.flags & IN_LAMBDA:
            return True
        if not 0 <= use.parent < len(uses):
            return False
        use = uses[use.parent]
    return True


def _offload(func: str, args: str, offload: Offload) -> str:
    helper = "asyncio.to_thread" if offload is Offload.THREAD else "unstall.to_process"
    return f"await {helper}({func}{', ' + args if args else ''})"


def _shown(args: str) -> str:
    return args if len(args) <= _SHORT and "\n" not in args else "..."


def _modules(summary: ModuleSummary, template: str) -> dict[str, str] | None:
    """The name the rewrite writes for each module ``template`` names (``asyncio``, or the
    alias ``_asyncio`` where the file binds ``asyncio`` to something else); ``None`` when
    the alias is taken too."""
    names = {}
    for module in dict.fromkeys(_MODULE_PREFIX.findall(template)):
        if module in ("func", "args"):
            continue
        name = module
        if module in summary.rebound:
            name = f"_{module}"
            if name in summary.rebound:
                return None
        names[module] = name
    return names


def _imports(summary: ModuleSummary, names: dict[str, str]) -> tuple[Edit, ...]:
    # Modules the rewrite names (``asyncio.sleep``) that the file does not import yet.
    bound = dict(summary.bindings)
    edits = []
    for module, name in names.items():
        if bound.get(name) == module:
            continue
        line = summary.insert_line
        statement = f"import {module}" if name == module else f"import {module} as {name}"
        edits.append(Edit(summary.path, (line, 0), (line, 0), f"{statement}\n"))
    return tuple(edits)


def _render(template: str, func: str, args: str) -> str:
    if not args:
        template = template.replace(", {args}", "")
    # One pass: the source text put in may itself contain ``{args}``.
    values = {"func": func, "args": args}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def _rewrite(
    summary: ModuleSummary, use: Use, template: str, func: str, args: str
) -> tuple[Edit, ...]:
    """The edits of the rewrite; none when a module it names cannot be written in this file."""
    names = _modules(summary, template)
    if names is None:
        return ()
    aliased = _MODULE_PREFIX.sub(lambda match: f"{names.get(match[1], match[1])}.", template)
    text = _render(aliased, func, args)
    if use.flags & AWAITED and text.startswith("await "):
        text = text[len("await ") :]
    call = Edit(summary.path, (use.line, use.col), (use.end_line, use.end_col), text)
    return (*_imports(summary, names), call)


def fix_for(
    summary: ModuleSummary,
    use: Use,
    entry: Entry,
    *,
    uses: Sequence[Use],
    direct: bool,
    callee: str | None = None,
    inner: str | None = None,
    plain_call: bool = True,
    entered: bool = False,
) -> tuple[str, tuple[Edit, ...], bool]:
    """The fix text, the edits (possibly none) and whether they are safe, for a finding at ``use``.

    ``entered``: the callee is a context manager's generator (``@contextmanager``), whose code
    runs when a ``with`` enters it, not when it is called: calling it in a thread helps nothing.
    """
    func, args = use.func_text, use.args_text
    editable = (
        use.kind == CALL
        and func is not None
        and args is not None
        and bool(use.flags & PLAIN)
        and not _in_lambda(use, uses)
    )
    where = "a thread" if entry.offload is Offload.THREAD else "a process"
    offload_template = (
        "await asyncio.to_thread({func}, {args})" if args else "await asyncio.to_thread({func})"
    )
    if direct:
        template = entry.fix
        if template and "{func}" not in template:
            shown = _render(template, func or _short(entry), _shown(args or ""))
            if editable and func is not None and args is not None:
                edits = _rewrite(summary, use, template, func, args)
                return shown, edits, bool(edits)
            return shown, (), False
        if func is None:
            return f"use {entry.alternative}", (), False
        offload = _offload(func, _shown(args or ""), entry.offload)
        text = f"use {entry.alternative}; or move it to {where}: {offload}"
        if editable and func is not None and args is not None:
            return text, _rewrite(summary, use, template or offload_template, func, args), False
        return text, (), False
    replace = f"replace `{_short(entry)}`: {entry.alternative}"
    if inner is not None and inner.startswith("import "):
        inner = f"the top-level code of `{inner.removeprefix('import ')}`"
    else:
        inner = f"`{inner}`"
    if use.kind == IMPORT:
        # An import in the function: once at start-up, the module's code never runs on the loop.
        module = (callee or "").removeprefix("import ") or "the module"
        text = f"import `{module}` at the top of the module, so its code runs at start-up; or, in {inner}, {replace}"
        return text, (), False
    if use.kind == READ:
        text = f"read the property `{callee}` in {where}: await asyncio.to_thread(lambda: ...); or, in {inner}, {replace}"
        return text, (), False
    if use.flags & CONSUMED:
        # A generator runs while it is iterated: iterate it in the thread.
        made = f"{func}({_shown(args or '')})" if func is not None else "..."
        text = f"iterate it in {where}: await asyncio.to_thread(list, {made}); or, in {inner}, {replace}"
        return text, (), False
    target = func or callee or "it"
    if entered:
        text = (
            f"enter `{target}` in {where}: move the `with` block into a plain function and run "
            f"that with await asyncio.to_thread(...), or make `{target}` an "
            f"@asynccontextmanager that awaits the slow part; or, in {inner}, {replace}"
        )
        return text, (), False
    offload = _offload(target, _shown(args or ""), entry.offload)
    text = f"run `{target}` in {where}: {offload}; or, in {inner}, {replace}"
    if plain_call and editable and func is not None and args is not None:
        return text, _rewrite(summary, use, offload_template, func, args), False
    return text, (), False


def _short(entry: Entry) -> str:
    return entry.name.removeprefix("builtins.")
