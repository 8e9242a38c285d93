"""Resolve the symbolic references of module summaries against the whole project and the catalog.

A reference (see :mod:`unstall.check._summary_types`) resolves to a :class:`Value` of one
:class:`ValueKind`:

- ``MODULE``: a project module;
- ``FUNCTION`` / ``CLASS``: a function or class of the project;
- ``INSTANCE``: an instance of a project class;
- ``OUTSIDE``: something outside the project, by qualified name (``requests.get``);
- ``OUTSIDE_INSTANCE``: an instance of an outside type (``sqlite3.Connection``);
- ``CONTEXT_MANAGER``: what calling a ``contextlib.contextmanager`` generator function of the
  project gives: ``with`` binds what it yields, and attributes are looked up there;
- ``SUPER``: the bases of a project class, bound to an instance (``super()``).

Anything else is ``None``: unknown values are never guessed, which is what keeps the
analysis precise. Results are memoized per reference, so a project resolves in near-linear time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from unstall.catalog import BoundaryKind, Catalog
from unstall.check._scope import BUILTIN_NAMES
from unstall.check._summary_types import ClassInfo, FunctionInfo, ModuleSummary

__all__ = ("Project", "Value", "ValueKind")

_MAX_DEPTH = 40
# The reference segment for each item of an iteration (see ``unstall.check._scope.Each``).
_EACH = "<each>"
# The reference segment for what ``async with`` binds (see ``unstall.check._scope.Entered``).
_ENTERED = "<aenter>"
# What an annotation of ``__aenter__`` gives when it returns its own instance.
_SELF_TYPES = frozenset({"typing.Self", "typing_extensions.Self"})


class ValueKind:
    """What a resolved reference is (see the module docstring): plain string constants.

    Not an Enum: the analysis compares kinds on its hottest paths, where an Enum's member
    lookups and its str subclass's comparisons cost measurably more. Values live only in
    memory, never in a cache.
    """

    MODULE: Final = "m"
    FUNCTION: Final = "f"
    CLASS: Final = "c"
    INSTANCE: Final = "i"
    OUTSIDE: Final = "x"
    OUTSIDE_INSTANCE: Final = "t"
    CONTEXT_MANAGER: Final = "y"
    SUPER: Final = "s"


@dataclass(frozen=True, slots=True)
class Value:
    """A resolved reference of one :class:`ValueKind`.

    ``summary`` indexes the project's summaries (``-1`` outside the project); ``name`` is the
    key inside that module, or the qualified name for ``OUTSIDE`` and ``OUTSIDE_INSTANCE``.
    """

    kind: str  # a ValueKind constant
    summary: int = -1
    name: str = ""


class Project:
    """Every module summary of one run, indexed for resolution."""

    def __init__(self, summaries: Sequence[ModuleSummary], catalog: Catalog) -> None:
        self.summaries = list(summaries)
        self.catalog = catalog
        self.modules: dict[str, int] = {}
        self.functions: list[dict[str, FunctionInfo]] = []
        self.classes: list[dict[str, ClassInfo]] = []
        self.bindings: list[dict[str, str]] = []
        for index, summary in enumerate(self.summaries):
            # Two files with one module name (scripts in different folders): the first wins
            # for imports, but both are analyzed.
            self.modules.setdefault(summary.module, index)
            self.functions.append({info.key: info for info in summary.functions})
            self.classes.append({info.key: info for info in summary.classes})
            self.bindings.append(dict(summary.bindings))
        self._memo: dict[str, Value | None] = {}
        self._active: set[str] = set()

    def qualified(self, summary: int, key: str) -> str:
        """The qualified name of a function or class of the project (``app.db.Repo.load``)."""
        return f"{self.summaries[summary].module}.{key}"

    # -- references ----------------------------------------------------------------------------

    def resolve(self, ref: str) -> Value | None:
        """The value of a reference, or ``None`` when it cannot be known."""
        if ref in self._memo:
            return self._memo[ref]
        if ref.startswith("?") or ref in self._active or len(self._active) > _MAX_DEPTH:
            return None
        self._active.add(ref)
        try:
            value = self._resolve(ref)
        finally:
            self._active.discard(ref)
        self._memo[ref] = value
        return value

    def _resolve(self, ref: str) -> Value | None:
        segments = ref.split(".")
        names = [segment.rstrip("()") for segment in segments]
        calls = [
            (len(segment) - len(name)) // 2 for segment, name in zip(segments, names, strict=True)
        ]
        start = 0
        value: Value | None = None
        for end in range(len(names), 0, -1):
            if any(calls[: end - 1]):
                continue
            module = self.modules.get(".".join(names[:end]))
            if module is not None:
                value, start = Value(ValueKind.MODULE, module), end - 1
                break
        if value is None:
            value = Value(ValueKind.OUTSIDE, name=names[0])
        else:
            # The module segment itself was consumed; apply its calls (none make sense).
            if calls[start]:
                return None
            return self._follow(value, names, calls, start + 1)
        for _ in range(calls[0]):
            value = self.call(value)
        return self._follow(value, names, calls, 1)

    def _follow(
        self, value: Value | None, names: list[str], calls: list[int], start: int
    ) -> Value | None:
        """Apply the segments from ``start`` on (attributes, then their calls) to ``value``."""
        for index in range(start, len(names)):
            if value is None:
                return None
            previous = value
            value = self._step(value, names[index], calls[index])
            if (
                value is not None
                and value.kind is ValueKind.OUTSIDE
                and not calls[index]
                and index + 1 < len(names)
                and names[index + 1] != _EACH
            ):
                # An outside attribute read and then used (``path.parent.read_text``): the
                # catalog's type table may say what it holds, by name or, on an instance, by
                # its type's ``__getattr__`` row (``client.app_db`` is a pymongo Database).
                held = self.catalog.returns(value.name)
                if held is None and previous.kind is ValueKind.OUTSIDE_INSTANCE:
                    held = self.catalog.returns(f"{previous.name}.__getattr__")
                if held is not None:
                    value = Value(ValueKind.OUTSIDE_INSTANCE, name=held)
        return value

    def _step(self, value: Value | None, name: str, calls: int) -> Value | None:
        if name == _EACH:
            # Each item of iterating: what a callable's result (``root.glob.<each>``) or an
            # attribute (``path.parents.<each>``) yields, or an instance's ``__iter__`` row.
            if value is None or value.kind not in (ValueKind.OUTSIDE, ValueKind.OUTSIDE_INSTANCE):
                return None
            key = value.name if value.kind is ValueKind.OUTSIDE else f"{value.name}.__iter__"
            element = self.catalog.element(key)
            return Value(ValueKind.OUTSIDE_INSTANCE, name=element) if element else None
        if name == _ENTERED:
            return self.entered(value)
        if name == "<super>":
            # ``super()`` in a method of the class ``value``: its bases, bound to the instance.
            if value is None or value.kind is not ValueKind.CLASS:
                return None
            return Value(ValueKind.SUPER, value.summary, value.name)
        value = self.attribute(value, name)
        for _ in range(calls):
            if value is None:
                return None
            value = self.call(value)
        return value

    def attribute(self, value: Value | None, name: str) -> Value | None:
        """The value of ``value.name``."""
        if value is None:
            return None
        kind = value.kind
        if kind in (ValueKind.OUTSIDE, ValueKind.OUTSIDE_INSTANCE):
            return Value(ValueKind.OUTSIDE, name=f"{value.name}.{name}")
        if kind is ValueKind.CONTEXT_MANAGER:
            # A context manager's own protocol is its generator's; anything else is looked
            # up on what it yields (``with get_db() as db: db.query(...)``).
            if name.startswith("__"):
                return None
            yielded = self.functions[value.summary][value.name].yields
            return self.attribute(self.resolve(yielded), name) if yielded else None
        if kind is ValueKind.MODULE:
            return self._module_attribute(value.summary, name)
        summary, key = value.summary, value.name
        if kind is ValueKind.SUPER:
            return self.member(summary, key, name, skip_self=True)
        if kind is ValueKind.FUNCTION:
            nested = f"{key}.{name}"
            if nested in self.functions[summary]:
                return Value(ValueKind.FUNCTION, summary, nested)
            if nested in self.classes[summary]:
                return Value(ValueKind.CLASS, summary, nested)
            return None
        return self.member(summary, key, name)

    def entered(self, value: Value | None) -> Value | None:
        """What ``async with value as name`` binds: what ``value.__aenter__()`` returns.

        A project class's ``__aenter__`` gives what it returns (``return self``, an annotation,
        a constructor), or nothing known; one inherited from an outside base, and an outside
        type's, give the catalog's row for it or, as such managers do, the instance itself.
        """
        if value is None:
            return None
        kind = value.kind
        if kind is ValueKind.INSTANCE:
            enter = self.member(value.summary, value.name, "__aenter__")
            if enter is None:
                return None
            if enter.kind is ValueKind.OUTSIDE:
                returned = self.catalog.returns(enter.name)
                return Value(ValueKind.OUTSIDE_INSTANCE, name=returned) if returned else value
            if enter.kind is not ValueKind.FUNCTION:
                return None
            info = self.functions[enter.summary][enter.name]
            if not info.returns:
                return None
            owner = enter.name.rpartition(".")[0]
            if info.returns == f"{self.summaries[enter.summary].module}.{owner}()":
                return value  # ``return self`` in a base class: the subclass's instance
            entered = self.resolve(info.returns)
            if (
                entered is not None
                and entered.kind is ValueKind.OUTSIDE_INSTANCE
                and entered.name in _SELF_TYPES
            ):
                return value
            return entered
        if kind is ValueKind.OUTSIDE_INSTANCE:
            returned = self.catalog.returns(f"{value.name}.__aenter__")
            return Value(ValueKind.OUTSIDE_INSTANCE, name=returned) if returned else value
        if kind in (ValueKind.OUTSIDE, ValueKind.CONTEXT_MANAGER):
            return value
        return None

    def _module_attribute(self, summary: int, name: str) -> Value | None:
        if name in self.functions[summary]:
            return Value(ValueKind.FUNCTION, summary, name)
        if name in self.classes[summary]:
            return Value(ValueKind.CLASS, summary, name)
        bound = self.bindings[summary].get(name)
        if bound is not None:
            return self.resolve(bound) if bound else None
        module = self.summaries[summary].module
        sub = self.modules.get(f"{module}.{name}")
        if sub is not None:
            return Value(ValueKind.MODULE, sub)
        stars = self.summaries[summary].star_imports
        for star in stars:
            inner = self.modules.get(star)
            if inner is not None:
                found = self._module_attribute(inner, name) if inner != summary else None
                if found is not None:
                    return found
            elif f"{star}.{name}" in self.catalog:
                return Value(ValueKind.OUTSIDE, name=f"{star}.{name}")
        if stars and name in BUILTIN_NAMES:
            return Value(ValueKind.OUTSIDE, name=f"builtins.{name}")
        return None

    def made_arguments(self, receiver: str) -> tuple[tuple[str, object], ...] | None:
        """The arguments of the one call a project instance's attribute was given, for a
        receiver ``app.Store()._queue`` (``self._queue = queue.Queue()`` in ``Store``)."""
        owner, _, name = receiver.rpartition(".")
        if not owner.endswith("()"):
            return None
        value = self.resolve(owner)
        if value is None or value.kind is not ValueKind.INSTANCE:
            return None
        for _, _, info in self.lineage(value.summary, value.name):
            if info is None:
                continue
            for attribute, arguments in info.made:
                if attribute == name:
                    return arguments
            if any(attribute == name for attribute, _ in info.attributes):
                return None  # given something else here
        return None

    def lineage(self, summary: int, key: str) -> Iterator[tuple[int, str, ClassInfo | None]]:
        """A project class and its project bases, nearest first, each once (at most
        ``_MAX_DEPTH`` + 1 of them): ``(summary, key, info)``."""
        seen: set[tuple[int, str]] = set()
        pending = [(summary, key)]
        while pending:
            current = pending.pop(0)
            if current in seen or len(seen) > _MAX_DEPTH:
                continue
            seen.add(current)
            index, class_key = current
            info = self.classes[index].get(class_key)
            yield index, class_key, info
            for base in info.bases if info is not None else ():
                resolved = self.resolve(base)
                if resolved is not None and resolved.kind is ValueKind.CLASS:
                    pending.append((resolved.summary, resolved.name))

    def member(self, summary: int, key: str, name: str, *, skip_self: bool = False) -> Value | None:
        """Look ``name`` up on a project class and its bases (methods, nested classes, attribute types).

        ``skip_self`` starts at the bases, as ``super()`` does.
        """
        outside: Value | None = None
        for index, class_key, info in self.lineage(summary, key):
            if skip_self:
                skip_self = False
            else:
                nested = f"{class_key}.{name}"
                if nested in self.functions[index]:
                    return Value(ValueKind.FUNCTION, index, nested)
                if nested in self.classes[index]:
                    return Value(ValueKind.CLASS, index, nested)
                for attribute, ref in info.attributes if info is not None else ():
                    if attribute == name:
                        return self.resolve(ref) if ref else None
            if info is None or outside is not None:
                continue
            for base in info.bases:
                resolved = self.resolve(base)  # known already: the lineage resolved it
                if resolved is not None and resolved.kind is ValueKind.OUTSIDE:
                    outside = Value(ValueKind.OUTSIDE, name=f"{resolved.name}.{name}")
                    break
        return outside

    def call(self, value: Value | None) -> Value | None:
        """The value a call of ``value`` returns."""
        if value is None:
            return None
        kind = value.kind
        if kind is ValueKind.CLASS:
            return Value(ValueKind.INSTANCE, value.summary, value.name)
        if kind is ValueKind.FUNCTION:
            info = self.functions[value.summary][value.name]
            if info.yields and self._is_context_manager(info):
                return Value(ValueKind.CONTEXT_MANAGER, value.summary, value.name)
            return self.resolve(info.returns) if info.returns else None
        if kind is ValueKind.OUTSIDE_INSTANCE:
            # Calling an instance: its type's ``__call__`` row (a sessionmaker makes a Session).
            returned = self.catalog.returns(f"{value.name}.__call__")
            return Value(ValueKind.OUTSIDE_INSTANCE, name=returned) if returned else None
        if kind is ValueKind.OUTSIDE:
            name = value.name
            returned = self.catalog.returns(name)
            if returned is not None:
                return Value(ValueKind.OUTSIDE_INSTANCE, name=returned)
            owner, _, method = name.rpartition(".")
            if method == "__truediv__":
                return Value(
                    ValueKind.OUTSIDE_INSTANCE, name=owner
                )  # ``/`` on an outside type keeps the type
            if name.rpartition(".")[2][:1].isupper():
                return Value(
                    ValueKind.OUTSIDE_INSTANCE, name=name
                )  # an outside class: calling it makes an instance
        return None

    def _is_context_manager(self, info: FunctionInfo) -> bool:
        """Whether ``contextlib.contextmanager`` (or its async twin) decorates the function."""
        for ref in info.decorators:
            decorator = self.resolve(ref)
            if (
                decorator is not None
                and decorator.kind is ValueKind.OUTSIDE
                and decorator.name in self.catalog.boundary_names(BoundaryKind.CONTEXT_MANAGER)
            ):
                return True
        return False
