"""Find, by the syntax alone, the places the concurrency rules (UNS3xx) may report.

Part of the summarizer: one pass over a parsed module gives its :class:`Fact` records (see
:mod:`unstall.check._concurrency_facts`). Nothing here knows what a call is: that is settled
by the analysis from the call's use. What is settled here is what the code does with a call's
result (throws it away, keeps it in a local that is never read, returns it, closes it), and,
for the serial-await rule, whether the passes of a loop depend on each other.
"""

from __future__ import annotations

import ast
import collections
import re
from collections.abc import Iterator, Sequence

from unstall.check._concurrency_facts import (
    CONSECUTIVE,
    DROPPED,
    IN_ASYNC,
    LOOP,
    OWN_LINES,
    RESOURCE,
    RETURNED,
    SYNC_WITH,
    TASK_TAKEN,
    UNUSED,
    Fact,
    Span,
)

__all__ = ("concurrency_facts",)

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Methods that add to a container in place: a loop that only fills a container this way
# (``found.append(await fetch(item))``) carries nothing from one pass to the next.
_FILLS = frozenset(
    {"append", "extend", "add", "update", "insert", "appendleft", "extendleft", "put_nowait"}
)
_SUSPENDS = (ast.Await, ast.AsyncFor, ast.AsyncWith)
_HELD: Span = (0, 0, 0, 0)
_TASK = re.compile(r"\btask\b")


def concurrency_facts(tree: ast.Module, text: str) -> tuple[Fact, ...]:
    """Every :class:`Fact` of a parsed module; ``text`` is its source (for where fixes may go)."""
    facts: list[Fact] = []
    lines = text.splitlines()
    _Body(facts, lines, tree, tree.body, is_async=False, scoped=False).walk()
    return tuple(facts)


def _span(node: ast.expr | ast.stmt) -> Span:
    return (node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or 0)


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else ``None``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _end(node: ast.expr | ast.stmt) -> tuple[int, int]:
    return (node.end_lineno or node.lineno, node.end_col_offset or 0)


def _children(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes under ``node`` that run with it: not the bodies of nested definitions."""
    pending = list(ast.iter_child_nodes(node))
    while pending:
        child = pending.pop()
        yield child
        if isinstance(child, _DEFINITIONS):
            # Decorators, defaults and bases run here; the body does not.
            if isinstance(child, ast.Lambda):
                continue
            pending.extend(child.decorator_list)
            if isinstance(child, ast.ClassDef):
                pending.extend(child.bases)
            else:
                pending.extend(d for d in (*child.args.defaults, *child.args.kw_defaults) if d)
            continue
        pending.extend(ast.iter_child_nodes(child))


def _names_in(node: ast.AST) -> set[str]:
    """The names ``node`` reads (nested lambdas and comprehensions included)."""
    return {
        child.id
        for child in ast.walk(node)
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)
    }


def _stored(target: ast.expr) -> list[str]:
    return [
        node.id
        for node in ast.walk(target)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    ]


def _awaited_call(node: ast.stmt) -> tuple[ast.Call, list[str]] | None:
    """The call a statement awaits on its own (``await f()``, ``x = await f()``), with the names it binds."""
    targets: list[ast.expr]
    if isinstance(node, ast.Expr):
        value, targets = node.value, []
    elif isinstance(node, ast.Assign):
        value, targets = node.value, node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        value, targets = node.value, [node.target]
    else:
        return None
    if not (isinstance(value, ast.Await) and isinstance(value.value, ast.Call)):
        return None
    if not all(isinstance(t, (ast.Name, ast.Tuple)) for t in targets):
        return None
    return value.value, [name for target in targets for name in _stored(target)]


class _Body:
    """One function body (or a module's top-level code): its facts, then its nested functions'."""

    def __init__(
        self,
        facts: list[Fact],
        lines: Sequence[str],
        node: ast.AST,
        body: list[ast.stmt],
        *,
        is_async: bool,
        scoped: bool,
    ) -> None:
        self.facts = facts
        self.lines = lines
        self.node = node
        self.body = body
        self.is_async = is_async
        # Whether names it binds are locals that die with the call (not a module's globals).
        self.scoped = scoped
        self.declared: set[str] = set()  # ``global`` / ``nonlocal`` names
        self.assigned: list[tuple[ast.Assign | ast.AnnAssign, ast.Call, list[str]]] = []
        self.returned: list[ast.Name] = []
        # ``RETURNED`` facts wait here: they stand only when every return gives a call's result.
        self.returning: list[Fact] = []
        self.other_returns = False
        self._parents: dict[int, ast.AST] | None = None
        self._names: dict[str, list[ast.Name]] = {}
        self._task_taken: int | None = None
        self.nested: list[tuple[ast.AST, list[ast.stmt], bool]] = []

    # -- the walk ----------------------------------------------------------------------------

    def walk(self) -> None:
        self.block(self.body, around=())
        if self.scoped:
            self.locals()
            # A function that may return something else (``None`` at its end included) is
            # no factory of tasks or coroutines.
            ends = bool(self.body) and isinstance(self.body[-1], (ast.Return, ast.Raise))
            if ends and not self.other_returns:
                self.facts.extend(self.returning)
        for node, body, is_async in self.nested:
            _Body(self.facts, self.lines, node, body, is_async=is_async, scoped=True).walk()

    def block(
        self, body: list[ast.stmt], around: tuple[Span, ...], *, in_class: bool = False
    ) -> None:
        if self.is_async:
            self.consecutive(body)
        for node in body:
            self.statement(node, around, in_class)

    def statement(self, node: ast.stmt, around: tuple[Span, ...], in_class: bool) -> None:
        if isinstance(node, _FUNCTIONS):
            self.nested.append((node, node.body, isinstance(node, ast.AsyncFunctionDef)))
            return
        if isinstance(node, ast.ClassDef):
            self.block(node.body, around, in_class=True)
            return
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            self.declared.update(node.names)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            self.dropped(node, node.value)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and not in_class:
            self.assignment(node)
        elif isinstance(node, ast.Return):
            if isinstance(node.value, ast.Call):
                self.returning.append(Fact(RETURNED, _span(node.value)))
            elif isinstance(node.value, ast.Name):
                self.returned.append(node.value)
            else:
                self.other_returns = True
        elif isinstance(node, ast.With):
            self.sync_with(node)
        elif isinstance(node, ast.For) and self.is_async:
            self.loop(node, around)
        if isinstance(node, ast.AsyncWith):
            # A lock or limiter held by name (``async with lock:``) is marked by an empty span.
            around = (
                *around,
                *(
                    _span(item.context_expr) if isinstance(item.context_expr, ast.Call) else _HELD
                    for item in node.items
                ),
            )
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                self.block(inner, around, in_class=in_class)
        for handler in getattr(node, "handlers", ()):
            self.block(handler.body, around, in_class=in_class)
        for case in getattr(node, "cases", ()):
            self.block(case.body, around, in_class=in_class)

    # -- results thrown away, never read, returned ---------------------------------------------

    def flags(self, node: ast.stmt) -> int:
        flags = IN_ASYNC if self.is_async else 0
        first = node.lineno - 1
        last = (node.end_lineno or node.lineno) - 1
        if 0 <= first <= last < len(self.lines):
            head = self.lines[first].encode("utf-8")[: node.col_offset]
            tail = self.lines[last].encode("utf-8")[node.end_col_offset or 0 :].strip()
            if not head.strip(b" ") and (not tail or tail.startswith(b"#")):
                flags |= OWN_LINES
        return flags

    def dropped(self, node: ast.Expr, call: ast.Call) -> None:
        self.facts.append(
            Fact(
                DROPPED,
                _span(call),
                self.flags(node) | self.task_name(),
                _dotted(call.func) or "",
                (node.lineno, node.col_offset),
            )
        )

    def task_name(self) -> int:
        """``TASK_TAKEN`` when the function already has a name ``task`` (a fix would bind one)."""
        if self._task_taken is None:
            start = getattr(self.node, "lineno", 1) - 1
            end = getattr(self.node, "end_lineno", None) or len(self.lines)
            text = "\n".join(self.lines[start:end])
            self._task_taken = TASK_TAKEN if _TASK.search(text) else 0
        return self._task_taken

    def assignment(self, node: ast.Assign | ast.AnnAssign) -> None:
        value = node.value
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1:
            return
        target = targets[0]
        if isinstance(target, ast.Name):
            names = [target.id]
        elif isinstance(target, ast.Tuple) and all(isinstance(t, ast.Name) for t in target.elts):
            names = [t.id for t in target.elts if isinstance(t, ast.Name)]
        else:
            return
        self.assigned.append((node, value, names))

    def parents(self) -> dict[int, ast.AST]:
        if self._parents is None:
            self._index()
            assert self._parents is not None
        return self._parents

    def _index(self) -> None:
        """One walk of the function: every node's parent, and its names by identifier.

        Breadth first, as ``ast.walk``, so each name's list is in its order; the fields are
        read directly (``ast.iter_child_nodes`` is a generator per node), and a name's
        ``ctx`` marker, which no fact asks the parent of, is skipped.
        """
        parents: dict[int, ast.AST] = {}
        names: dict[str, list[ast.Name]] = {}
        queue = collections.deque([self.node])
        pop, push = queue.popleft, queue.append
        node_type, name_type, list_type = ast.AST, ast.Name, list
        while queue:
            parent = pop()
            for field in parent._fields:
                value = getattr(parent, field, None)
                if type(value) is list_type:
                    for child in value:
                        if isinstance(child, node_type):
                            parents[id(child)] = parent
                            push(child)
                            if type(child) is name_type:
                                names.setdefault(child.id, []).append(child)
                elif isinstance(value, node_type) and field != "ctx":
                    parents[id(value)] = parent
                    push(value)
                    if type(value) is name_type:
                        names.setdefault(value.id, []).append(value)
        self._parents = parents
        self._names = names

    def locals(self) -> None:
        """``UNUSED``, ``RETURNED`` through a local, and ``RESOURCE`` facts of a function's locals."""
        if not self.assigned and not self.returned:
            return
        self.parents()
        names = self._names
        returned = {name.id for name in self.returned}
        matched: set[str] = set()
        for statement, call, targets in self.assigned:
            if any(target in self.declared for target in targets):
                continue
            uses = [n for t in targets for n in names.get(t, []) if isinstance(n.ctx, ast.Load)]
            stores = [
                n for t in targets for n in names.get(t, []) if not isinstance(n.ctx, ast.Load)
            ]
            awaited = isinstance(statement.value, ast.Await)
            if not uses and len(targets) == 1 and not awaited:
                self.facts.append(
                    Fact(
                        UNUSED,
                        _span(call),
                        self.flags(statement),
                        targets[0],
                        (statement.lineno, statement.col_offset),
                    )
                )
                continue
            if len(stores) != len(targets):
                continue  # a local given another value too: what it holds is not this call's
            if (
                len(targets) == 1
                and targets[0] in returned
                and not awaited
                and all(self.parent_of(use) in self.returns() for use in uses)
            ):
                self.returning.append(Fact(RETURNED, _span(call)))
                matched.add(targets[0])
                continue
            self.resource(statement, call, targets, uses)
        if returned - matched:
            self.other_returns = True  # a local that holds something else is returned too

    def returns(self) -> set[int]:
        return {id(self.parents()[id(name)]) for name in self.returned}

    def parent_of(self, node: ast.AST) -> int:
        return id(self.parents().get(id(node)))

    def resource(
        self, statement: ast.stmt, call: ast.Call, targets: list[str], uses: list[ast.Name]
    ) -> None:
        """A local that holds a call's result and is only read, tested or has methods called:
        the methods called on it, each with whether that call surely runs."""
        parents = self.parents()
        methods: list[tuple[str, bool]] = []
        for use in uses:
            parent = parents.get(id(use))
            if isinstance(parent, ast.Attribute):
                above = parents.get(id(parent))
                if isinstance(above, ast.Call) and above.func is parent:
                    methods.append((parent.attr, self.surely_runs(statement, above)))
                continue  # an attribute read
            if _is_test(use, parent):
                continue
            return  # passed on, returned, stored, managed by ``with``: not this function's to close
        if not self.inside_function(uses):
            return
        self.facts.append(
            Fact(
                RESOURCE,
                _span(call),
                self.flags(statement),
                ",".join(targets),
                (statement.lineno, statement.col_offset),
                methods=tuple(methods),
            )
        )

    def inside_function(self, uses: list[ast.Name]) -> bool:
        """Whether every use is in this function's own code (not in a nested function or lambda)."""
        parents = self.parents()
        for use in uses:
            node: ast.AST | None = parents.get(id(use))
            while node is not None and node is not self.node:
                if isinstance(node, _DEFINITIONS):
                    return False
                node = parents.get(id(node))
        return True

    def surely_runs(self, opened: ast.stmt, call: ast.Call) -> bool:
        """Whether a call on a local runs even when an exception or a cancellation interrupts
        the code after ``opened``: in a ``finally:`` or ``except`` block, or with nothing that
        may suspend (``await``, ``async for``, ``async with``) in between."""
        parents = self.parents()
        child: ast.AST = call
        node = parents.get(id(call))
        while node is not None and node is not self.node:
            if isinstance(node, ast.ExceptHandler):
                return True
            if isinstance(node, (ast.Try, ast.TryStar)) and any(
                child is item for item in node.finalbody
            ):
                return True
            child, node = node, parents.get(id(node))
        start = (opened.end_lineno or opened.lineno, opened.end_col_offset or 0)
        end = (call.lineno, call.col_offset)
        own = parents.get(id(call))
        for node in _children(self.node):
            if isinstance(node, _SUSPENDS) and node is not own:
                position = (node.lineno, node.col_offset)
                if start <= position < end:
                    return False
        return True

    # -- with ----------------------------------------------------------------------------------

    def sync_with(self, node: ast.With) -> None:
        spans = tuple(_span(item.context_expr) for item in node.items)
        flags = IN_ASYNC if self.is_async else 0
        for span in spans:
            self.facts.append(
                Fact(SYNC_WITH, span, flags, at=(node.lineno, node.col_offset), spans=spans)
            )

    # -- serial awaits ---------------------------------------------------------------------------

    def consecutive(self, body: list[ast.stmt]) -> None:
        """Runs of two or more statements that each await a call none of whose names an
        earlier one of the run binds."""
        run: list[ast.Call] = []
        bound: set[str] = set()
        for node in [*body, None]:
            found = _awaited_call(node) if node is not None else None
            if found is not None:
                call, names = found
                if not (_names_in(call) & bound) and not (set(names) & bound):
                    run.append(call)
                    bound.update(names)
                    continue
            if len(run) > 1:
                self.facts.append(
                    Fact(CONSECUTIVE, _span(run[0]), IN_ASYNC, spans=tuple(_span(c) for c in run))
                )
            run, bound = ([found[0]], set(found[1])) if found is not None else ([], set())

    def loop(self, node: ast.For, around: tuple[Span, ...]) -> None:
        """A ``for`` loop whose passes await calls made with its item and carry nothing over."""
        if node.orelse or _HELD in around:
            return
        scan = _LoopScan(_stored(node.target))
        if not scan.statements(node.body, top=True) or scan.carried():
            return
        calls = [call for call in scan.awaited if _names_in(call) & scan.derived]
        if not calls:
            return
        self.facts.append(
            Fact(
                LOOP,
                _span(calls[0]),
                IN_ASYNC,
                spans=tuple(_span(call) for call in calls),
                lines=(node.lineno, node.end_lineno or node.lineno),
                around=around,
            )
        )


def _is_test(use: ast.Name, parent: ast.AST | None) -> bool:
    """``if x:``, ``x is None``, ``not x``: a test of the local, which keeps nothing."""
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is use:
        return True
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return True
    if isinstance(parent, ast.BoolOp):
        return True
    return isinstance(parent, ast.Compare) and all(
        isinstance(item, ast.Constant) and item.value is None for item in parent.comparators
    )


class _LoopScan:
    """What a loop's body does, pass by pass: what it awaits, binds and reads, in order."""

    def __init__(self, targets: list[str]) -> None:
        self.derived = set(targets)  # the item, and locals computed from it in the body
        self.awaited: list[ast.Call] = []
        # (position, key, event): event is "set" (a plain assignment at the body's top level),
        # "store" (any other binding), "load" or "fill" (filled in place: append, d[k] = v).
        self.events: list[tuple[tuple[int, int], str, str]] = []

    def statements(self, body: list[ast.stmt], *, top: bool, depth: int = 0) -> bool:
        """Scan statements; ``False`` when the loop cannot run its passes together."""
        for node in body:
            if isinstance(node, (ast.Return, ast.Global, ast.Nonlocal)):
                return False
            if isinstance(node, ast.Break) and depth == 0:
                return False
            if isinstance(node, _DEFINITIONS):
                continue
            if not self.statement(node, top=top, depth=depth):
                return False
        return True

    def statement(self, node: ast.stmt, *, top: bool, depth: int) -> bool:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            if not self.expression(node.value):
                return False
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            reads = _names_in(node.value)
            after = _end(node)  # the value is read before the targets are bound
            for target in targets:
                self.target(target, "set" if top else "store", after)
                if reads & self.derived:
                    self.derived.update(_stored(target))
            return True
        if isinstance(node, ast.AugAssign):
            if not self.expression(node.value):
                return False
            key = _dotted(node.target)
            if key is not None:
                position = (node.lineno, node.col_offset)
                self.events += [(position, key, "load"), (position, key, "store")]
            elif isinstance(node.target, ast.Subscript):
                self.fill(node.target)
            return True
        inner_depth = depth + isinstance(node, (ast.For, ast.AsyncFor, ast.While))
        for field, child in ast.iter_fields(node):
            if field in ("body", "orelse", "finalbody") and isinstance(child, list):
                if not self.statements(
                    child, top=False, depth=inner_depth if field == "body" else depth
                ):
                    return False
            elif field == "handlers":
                for handler in child:
                    if handler.name:
                        self.events.append(
                            ((handler.lineno, handler.col_offset), handler.name, "store")
                        )
                    if not self.statements(handler.body, top=False, depth=depth):
                        return False
            elif field == "cases":
                for case in child:
                    if not self.statements(case.body, top=False, depth=depth):
                        return False
            elif field == "items":
                for item in child:
                    if isinstance(node, ast.AsyncWith):
                        if not isinstance(item.context_expr, ast.Call):
                            return False  # ``async with lock:`` in a pass: serialized on purpose
                        self.awaited.append(item.context_expr)
                    if not self.expression(item.context_expr):
                        return False
                    if item.optional_vars is not None:
                        self.target(item.optional_vars, "store", _end(item.context_expr))
                        if _names_in(item.context_expr) & self.derived:
                            self.derived.update(_stored(item.optional_vars))
            elif field == "target" and isinstance(node, (ast.For, ast.AsyncFor)):
                self.target(node.target, "store", _end(node.iter))
                if _names_in(node.iter) & self.derived:
                    self.derived.update(_stored(node.target))
            elif isinstance(child, ast.expr) and not self.expression(child):
                return False
        return True

    def target(self, target: ast.expr, event: str, position: tuple[int, int]) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self.target(item, "store", position)
            return
        if isinstance(target, ast.Starred):
            self.target(target.value, "store", position)
            return
        if isinstance(target, ast.Subscript):
            self.fill(target)
            return
        key = _dotted(target)
        if key is not None:
            self.events.append((position, key, event))
            if isinstance(target, ast.Attribute):
                self.loads(target.value)

    def fill(self, target: ast.Subscript) -> None:
        key = _dotted(target.value)
        if key is not None:
            self.events.append(((target.lineno, target.col_offset), key, "fill"))
        else:
            self.loads(target.value)
        self.loads(target.slice)

    def expression(self, node: ast.expr) -> bool:
        """Record what an expression awaits and reads; ``False`` for ``yield`` (a generator streams its passes)."""
        for child in ast.walk(node):
            if isinstance(child, (ast.Yield, ast.YieldFrom)):
                return False
            if isinstance(child, ast.Await) and isinstance(child.value, ast.Call):
                self.awaited.append(child.value)
            if isinstance(child, ast.NamedExpr):
                self.events.append((_end(child), child.target.id, "store"))
        self.loads(node)
        return True

    def loads(self, node: ast.expr) -> None:
        """Record the reads of ``node``: each name and attribute chain, but a container filled
        in place (``found.append(x)``) as filled, not read."""
        pending: list[ast.AST] = [node]
        while pending:
            child = pending.pop()
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                key = _dotted(child.func.value)
                if key is not None and child.func.attr in _FILLS:
                    self.events.append(((child.lineno, child.col_offset), key, "fill"))
                    pending.extend(child.args)
                    pending.extend(k.value for k in child.keywords)
                    continue
            if isinstance(child, (ast.Name, ast.Attribute)) and isinstance(child.ctx, ast.Load):
                key = _dotted(child)
                if key is not None:
                    position = (child.lineno, child.col_offset)
                    parts = key.split(".")
                    self.events.extend(
                        (position, ".".join(parts[:end]), "load")
                        for end in range(1, len(parts) + 1)
                    )
                    continue
            pending.extend(ast.iter_child_nodes(child))

    def carried(self) -> bool:
        """Whether a pass may read what an earlier pass left: a name or attribute read in the
        body that the body also binds, unless a plain assignment at the body's top level binds
        it before any read; or a container both filled and read."""
        first: dict[str, str] = {}
        seen: dict[str, set[str]] = {}
        for _, key, event in sorted(self.events, key=lambda item: item[0]):
            first.setdefault(key, event)
            seen.setdefault(key, set()).add(event)
        for key, events in seen.items():
            if "load" not in events:
                continue
            if ("store" in events or "set" in events) and first[key] != "set":
                return True
            if "fill" in events:
                return True
        return False
