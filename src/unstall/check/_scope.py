"""Name scopes for the summarizer: what a name refers to, as a symbolic reference string.

References are explained in :mod:`unstall.check._summary_types`. Scopes are flow-insensitive
on purpose (a name assigned two different things is unknown), which keeps them exact enough
for precision and cheap enough for every file of a large tree.
"""

from __future__ import annotations

import ast
import builtins
import sys

__all__ = (
    "UNKNOWN",
    "Each",
    "Entered",
    "FunctionScope",
    "ModuleScope",
    "Scope",
    "annotation_ref",
    "expr_ref",
    "resolve_relative",
)

BUILTIN_NAMES = frozenset(dir(builtins))
# Builtins whose result, iterated, gives the items of their one argument.
_SAME_ITEMS = frozenset({"sorted", "list", "tuple", "set", "frozenset", "reversed", "iter"})
# A name bound to something the analysis cannot follow.
UNKNOWN = ""
# Names a fix may write to reach a standard module (``asyncio.sleep``), or its alias
# (``_asyncio``): where the file binds one to anything else, the fix must not use it.
_MODULE_NAMES = frozenset(sys.stdlib_module_names) | frozenset(
    f"_{name}" for name in sys.stdlib_module_names
)


def resolve_relative(module: str, is_package: bool, target: str | None, level: int) -> str | None:
    """The absolute module named by ``from <level dots><target> import ...`` inside ``module``."""
    if level == 0:
        return target
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    if target:
        parts.append(target)
    return ".".join(parts) or None


class Each:
    """What a ``for`` loop binds its target name to: each item of the iterated expression.

    Its reference is ``<callee>.<each>`` for a call (``root.glob("*")`` gives
    ``...glob.<each>``: the catalog's ``yields`` of the callee) and ``<value>.<each>`` for
    anything else (an attribute's ``yields``, or an instance's ``Type.__iter__`` row).
    """

    __slots__ = ("iterable",)

    def __init__(self, iterable: ast.expr) -> None:
        self.iterable = iterable


class Entered:
    """What ``async with manager as name`` binds ``name`` to: what ``manager.__aenter__()`` returns.

    Its reference is ``<manager>.<aenter>``: often not the manager itself (a client's
    ``__aenter__`` may return a session of another type), so the resolver asks the manager's
    ``__aenter__`` and leaves the name unknown when that cannot be told.
    """

    __slots__ = ("manager",)

    def __init__(self, manager: ast.expr) -> None:
        self.manager = manager


class Scope:
    """A name scope. Bindings hold raw values resolved on demand; cycles resolve to unknown."""

    __slots__ = ("_done", "_given", "_pending", "_raw", "parent")

    def __init__(self, parent: Scope | None) -> None:
        self.parent = parent
        # name -> list of what was bound: a ready reference string, or an expression to resolve.
        self._raw: dict[str, list[str | ast.expr | Each | Entered]] = {}
        self._done: dict[str, str] = {}
        self._pending: set[str] = set()
        # name -> the value of ``name: T = value``, bound by its annotation's type
        self._given: dict[str, ast.expr] = {}

    def bind(self, name: str, value: str | ast.expr | Each | Entered) -> None:
        """Record that ``name`` is bound to a reference (or an expression, resolved in this scope)."""
        self._raw.setdefault(name, []).append(value)
        if value != name:
            self.rebinds(name)

    def rebinds(self, name: str) -> None:
        """Note that code in this scope binds ``name`` to something other than the module ``name``."""
        if name in _MODULE_NAMES:
            scope = self
            while scope.parent is not None:
                scope = scope.parent
            if isinstance(scope, ModuleScope):
                scope.rebound.add(name)

    def names(self) -> list[str]:
        """Every name bound in this very scope, in the order first bound."""
        return list(self._raw)

    def bound_once(self, name: str) -> bool:
        """Whether ``name`` is bound here exactly once (a parameter nothing rebinds)."""
        return len(self._raw.get(name, ())) == 1

    def only_value(self, name: str) -> str | ast.expr | Each | Entered | None:
        """What ``name`` is bound to here when it is bound exactly once, else ``None``."""
        values = self._raw.get(name)
        return values[0] if values is not None and len(values) == 1 else None

    def given(self, name: str, value: ast.expr) -> None:
        """Note the value of ``name: T = value``, whose binding is the annotation's type."""
        self._given[name] = value

    def given_value(self, name: str) -> ast.expr | None:
        """The value of ``name: T = value`` here, if the annotated binding gave one."""
        return self._given.get(name)

    def made_by(self, name: str) -> ast.Call | None:
        """The call ``name`` is bound to when it is bound here exactly once to a call's result
        (``q = Queue()``, ``q: Queue[int] = Queue()``), else ``None``."""
        value = self.only_value(name)
        if isinstance(value, str):
            value = self._given.get(name)
        return value if isinstance(value, ast.Call) else None

    def binds(self, name: str) -> bool:
        """Whether ``name`` is bound in this very scope."""
        return name in self._raw

    def local(self, name: str) -> str:
        """The reference bound to ``name`` here (``UNKNOWN`` when ambiguous or unknowable)."""
        done = self._done.get(name)
        if done is not None:
            return done
        if name in self._pending:
            return UNKNOWN
        self._pending.add(name)
        try:
            result: str | None = None
            for value in self._raw[name]:
                ref = value if isinstance(value, str) else self.value_ref(value)
                if ref is None:
                    continue  # ``x = None`` placeholders do not make a name ambiguous
                if result is None:
                    result = ref
                elif ref != result:
                    result = UNKNOWN
                    break
        finally:
            self._pending.discard(name)
        final = result if result is not None else UNKNOWN
        self._done[name] = final
        return final

    def value_ref(self, value: ast.expr | Each | Entered) -> str | None:
        """The reference of an assigned value; ``None`` for a constant ``None`` (ignored)."""
        if isinstance(value, Entered):
            ref = expr_ref(value.manager, self)
            return f"{ref}.<aenter>" if ref else UNKNOWN
        if isinstance(value, Each):
            iterable = value.iterable
            while (
                isinstance(iterable, ast.Call)
                and isinstance(iterable.func, ast.Name)
                and iterable.func.id in _SAME_ITEMS
                and len(iterable.args) == 1
                and not isinstance(iterable.args[0], ast.Starred)
                and self.lookup(iterable.func.id) == f"builtins.{iterable.func.id}"
            ):
                # ``sorted(root.glob("*"))``: the same items, in another container or order.
                iterable = iterable.args[0]
            if isinstance(iterable, ast.Call):
                ref = expr_ref(iterable.func, self)
            else:
                ref = expr_ref(iterable, self)
            return f"{ref}.<each>" if ref else UNKNOWN
        if isinstance(value, ast.Constant) and value.value is None:
            return None
        return expr_ref(value, self) or UNKNOWN

    def lookup(self, name: str) -> str | None:
        """The reference of ``name`` as code in this scope sees it, or ``None`` when unknown."""
        raise NotImplementedError


class ModuleScope(Scope):
    """A module's top level: imports, definitions and assignments; builtins behind them.

    ``rebound`` collects the standard modules' names (and ``_name`` aliases) that this scope
    or any scope in it binds to something other than the module of that name.
    """

    __slots__ = ("has_star", "module", "rebound")

    def __init__(self, module: str) -> None:
        super().__init__(None)
        self.module = module
        self.has_star = False
        self.rebound: set[str] = set()

    def lookup(self, name: str) -> str | None:
        """Module names resolve through the module; builtins by name; anything else is unknown."""
        if name in self._raw:
            ref = self.local(name)
            return ref or None
        if self.has_star:
            return f"{self.module}.{name}"
        if name in BUILTIN_NAMES:
            return f"builtins.{name}"
        return None


class FunctionScope(Scope):
    """A function's locals; names it does not bind come from enclosing functions, then the module."""

    __slots__ = ("class_ref", "globals")

    def __init__(self, parent: Scope, class_ref: str | None = None) -> None:
        super().__init__(parent)
        self.globals: set[str] = set()
        # The class a method belongs to, for ``super()``.
        self.class_ref = class_ref

    def lookup(self, name: str) -> str | None:
        """Local first (unknown locals shadow everything outside), then outward."""
        if name in self._raw and name not in self.globals:
            ref = self.local(name)
            return ref or None
        scope = self.parent
        if name in self.globals:
            while scope is not None and scope.parent is not None:
                scope = scope.parent
        return scope.lookup(name) if scope is not None else None


def expr_ref(node: ast.expr, scope: Scope) -> str | None:
    """The symbolic reference of a name, attribute chain or call result; ``None`` when unknown."""
    suffix: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            suffix.append("." + node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id == "super" and not node.args:
                owner: Scope | None = scope
                while isinstance(owner, FunctionScope) and owner.class_ref is None:
                    owner = owner.parent
                if not isinstance(owner, FunctionScope) or owner.class_ref is None:
                    return None
                # ``super()`` looks attributes up on the bases of the method's class.
                return f"{owner.class_ref}.<super>" + "".join(reversed(suffix))
            suffix.append("()")
            node = node.func
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            # ``path / "name"``: the operator method's result (a path stays a path).
            suffix.append(".__truediv__()")
            node = node.left
        elif isinstance(node, ast.Subscript):
            # ``client["db"]``: what the type's ``__getitem__`` returns.
            suffix.append(".__getitem__()")
            node = node.value
        elif isinstance(node, ast.Name):
            base = scope.lookup(node.id)
            if base is None:
                return None
            return base + "".join(reversed(suffix))
        else:
            return None


def annotation_ref(node: ast.expr | None, scope: Scope) -> str | None:
    """The instance reference an annotation promises (``requests.Session`` gives ``requests.Session()``)."""
    for _ in range(6):
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200:
            try:
                node = ast.parse(node.value, mode="eval").body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return None
            continue
        if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)):
            outer = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
            members = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if outer == "Optional" or (outer == "Annotated" and members):
                node = members[0]
            elif outer == "Union":
                kept = [m for m in members if not (isinstance(m, ast.Constant) and m.value is None)]
                if len(kept) != 1:
                    return None
                node = kept[0]
            else:
                node = node.value  # a generic class (``Box[int]``): an instance of the class
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            if isinstance(node.right, ast.Constant) and node.right.value is None:
                node = node.left
                continue
            if isinstance(node.left, ast.Constant) and node.left.value is None:
                node = node.right
                continue
            return None
        if isinstance(node, (ast.Name, ast.Attribute)):
            ref = expr_ref(node, scope)
            return f"{ref}()" if ref else None
        return None
    return None
