"""The call graph of the analysis: what each sync function reached from an ``async def`` runs.

:class:`CallGraph` explores, from the uses of every ``async def``, the sync code they run on
the loop's thread (functions, methods, constructors, properties, consumed generators,
decorator wrappers, lazily imported modules), stopping at offload boundaries; then
:meth:`CallGraph.chains` walks backwards, breadth first, from the calls the catalog knows to
block, giving each function that can block its shortest chain to one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from unstall.catalog import BoundaryKind, Catalog, Entry, Kind
from unstall.check._resolve import Project
from unstall.check._summary_types import (
    CALL,
    CONSUMED,
    ENTER,
    IMPORT,
    IN_LAMBDA,
    ITERATES,
    MODULE_CODE,
    READ,
    REFERENCE,
    FunctionInfo,
    ModuleSummary,
    Use,
)

__all__ = ("AnalysisSettings", "CallGraph", "Node", "Step")


class Node(NamedTuple):
    """A function of the project: its module summary's index and its key in that module."""

    summary: int
    key: str


class Step(NamedTuple):
    """One link of a chain: the use (by index) in a function, and what it runs next.

    ``next`` is the project function the use calls on the way to a blocking call, or the
    catalog entry of the blocking call itself.
    """

    use: int
    next: Node | Entry


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """What the configuration adds beyond the catalog (whose boundaries include the project's
    offload helpers and thread-pool decorators): the names never reported.

    ``allow`` are qualified names never reported, with everything below them: a function,
    class or module of the project, or a blocking callable (``time.sleep``) or a library
    (``requests``) of the catalog.
    """

    allow: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Site:
    """A blocking call: the use's index in its function and the catalog entry."""

    use: int
    entry: Entry


@dataclass(frozen=True, slots=True)
class _Edge:
    use: int
    target: Node


class CallGraph:
    """The project's summaries, resolved and explored from its ``async def`` functions."""

    def __init__(
        self, summaries: Sequence[ModuleSummary], catalog: Catalog, settings: AnalysisSettings
    ) -> None:
        self.project = Project(summaries, catalog)
        self.catalog = catalog
        self.settings = settings
        self.offload_names = catalog.boundary_names(BoundaryKind.OFFLOAD)
        self.offload_methods = catalog.boundary_methods(BoundaryKind.OFFLOAD)
        self.partials = catalog.boundary_names(BoundaryKind.PARTIAL)
        self.partial_methods = catalog.boundary_methods(BoundaryKind.PARTIAL)
        self.threadpool = catalog.boundary_names(BoundaryKind.THREADPOOL_DECORATOR)
        self.context_managers = frozenset(
            row.name
            for row in catalog.boundaries
            if row.kind is BoundaryKind.CONTEXT_MANAGER and not row.asynchronous
        )
        self._allow = frozenset(settings.allow)
        # Per explored sync function: its first blocking call and its edges.
        self.sites: dict[Node, _Site | None] = {}
        self.edges: dict[Node, list[_Edge]] = {}
        self._offloaded: dict[Node, list[bool]] = {}
        self._threadpool_memo: dict[Node, bool] = {}
        self._loaded: dict[tuple[int, bool], frozenset[str]] = {}
        self._closures: dict[str, frozenset[str]] = {}

    # -- helpers ---------------------------------------------------------------------------------

    def allowed(self, name: str) -> bool:
        """Whether ``settings.allow`` names ``name`` or something it belongs to (its module, class)."""
        if not self._allow:
            return False
        parts = name.split(".")
        return any(".".join(parts[:end]) in self._allow for end in range(len(parts), 0, -1))

    def info(self, node: Node) -> FunctionInfo:
        """The summary of a function node."""
        return self.project.functions[node.summary][node.key]

    def name_of(self, ref: str) -> str | None:
        """The qualified name a reference resolves to (outside or project), if any."""
        value = self.project.resolve(ref)
        if value is None:
            return None
        if value.kind == "x":
            return value.name
        if value.kind in ("f", "c"):
            return self.project.qualified(value.summary, value.name)
        return None

    def is_offload(self, use: Use) -> bool:
        """Whether a call runs what it is given off the loop (by name, or by method name)."""
        if use.kind != CALL:
            return False
        if use.ref.rpartition(".")[2] in self.offload_methods:
            return True
        name = self.name_of(use.ref)
        return name is not None and (
            name in self.offload_names or name.rpartition(".")[2] in self.offload_methods
        )

    def is_partial(self, use: Use) -> bool:
        """Whether a call is ``functools.partial`` (what it wraps goes where it goes)."""
        if use.kind != CALL:
            return False
        if use.ref.rpartition(".")[2] in self.partial_methods:
            return True
        return self.name_of(use.ref) in self.partials

    def offloaded(self, node: Node) -> list[bool]:
        """For each use of a function, whether it runs off the loop (inside a lambda given to an offload call)."""
        known = self._offloaded.get(node)
        if known is not None:
            return known
        uses = self.info(node).uses
        result = [False] * len(uses)
        for index, use in enumerate(uses):
            parent = use.parent
            if not 0 <= parent < index:
                continue
            if result[parent]:
                result[index] = True
            elif use.flags & IN_LAMBDA:
                boundary = parent
                while 0 <= boundary < index and self.is_partial(uses[boundary]):
                    boundary = uses[boundary].parent
                result[index] = 0 <= boundary < index and self.is_offload(uses[boundary])
        self._offloaded[node] = result
        return result

    def blocking_entry(self, use: Use) -> Entry | None:
        """The catalog entry a call use blocks in, when it resolves to one and no argument makes it non-blocking."""
        if use.kind != CALL or use.flags & ITERATES:
            return None
        value = self.project.resolve(use.ref)
        if value is None:
            return None
        if value.kind == "x":
            entry = self.catalog.lookup(value.name)
            if entry is not None and use.ref.endswith(".setter") and value.name not in entry.names:
                # Assigning an attribute of a ``Type.*`` instance runs no method of the type.
                return None
        elif value.kind in ("f", "c"):
            # A library checked along with the project is still known by its catalog name.
            entry = self.catalog.lookup(self.project.qualified(value.summary, value.name))
            if entry is None and value.kind == "c":
                # A project class without its own __init__ runs its outside base's constructor.
                init = self.project.member(value.summary, value.name, "__init__")
                if init is not None and init.kind == "x":
                    entry = self.catalog.lookup(init.name.removesuffix(".__init__"))
        else:
            return None
        if entry is None or any(self.allowed(name) for name in entry.names):
            return None
        if entry.nonblocking and use.keywords:
            for condition in entry.nonblocking:
                keys = condition.keys
                if any(key in keys and condition.accepts(given) for key, given in use.keywords):
                    return None
        return entry

    def runs_in_threadpool(self, node: Node) -> bool:
        """Whether a thread-pool decorator wraps the function (calling it runs nothing here)."""
        known = self._threadpool_memo.get(node)
        if known is None:
            info = self.info(node)
            known = any(
                self.name_of(ref.removesuffix("()")) in self.threadpool for ref in info.decorators
            )
            self._threadpool_memo[node] = known
        return known

    def wrappers(self, node: Node) -> list[Node]:
        """The sync wrappers the project's decorators of ``node`` return: they run when it is called.

        The wrapper is what the decorator returns (``return wrapper``); when that cannot be
        told, every sync function nested in the decorator.
        """
        project = self.project
        found: list[Node] = []
        for ref in self.info(node).decorators:
            decorator = project.resolve(ref)
            if decorator is None or decorator.kind != "f":
                continue
            wrapper = project.call(decorator)
            if wrapper is not None and wrapper.kind == "f":
                candidates = [Node(wrapper.summary, wrapper.name)]
            else:
                prefix = decorator.name + "."
                candidates = [
                    Node(decorator.summary, inner)
                    for inner in project.functions[decorator.summary]
                    if inner.startswith(prefix)
                ]
            found.extend(item for item in candidates if not self.info(item).is_async)
        return found

    def loaded(self, summary: int, *, top_level: bool) -> frozenset[str]:
        """Modules surely imported while code of ``summary`` runs.

        That is its packages and, in its functions (not its top-level code), the module itself;
        then, transitively, every project module those import at their top level.
        """
        known = self._loaded.get((summary, top_level))
        if known is None:
            parts = self.project.summaries[summary].module.split(".")
            names: set[str] = set()
            for end in range(1, len(parts) + (0 if top_level else 1)):
                names |= self._closure(".".join(parts[:end]))
            known = frozenset(names)
            self._loaded[summary, top_level] = known
        return known

    def _closure(self, start: str) -> frozenset[str]:
        # ``start`` and every module its top-level code imports, transitively.
        known = self._closures.get(start)
        if known is not None:
            return known
        project = self.project
        names = {start}
        pending = [start] if start in project.modules else []
        while pending:
            name = pending.pop()
            done = self._closures.get(name) if name != start else None
            if done is not None:
                names |= done  # closed already: nothing more to follow from there
                continue
            top = project.functions[project.modules[name]].get(MODULE_CODE)
            for use in top.uses if top is not None else ():
                if use.kind != IMPORT:
                    continue
                pieces = use.ref.split(".")
                for end in range(1, len(pieces) + 1):
                    imported = ".".join(pieces[:end])
                    if imported not in names:
                        names.add(imported)
                        if imported in project.modules:
                            pending.append(imported)
        result = frozenset(names)
        self._closures[start] = result
        return result

    def targets(self, use: Use, owner: Node) -> list[Node]:
        """The project functions a use of the function ``owner`` runs synchronously."""
        project = self.project
        if use.kind == REFERENCE:
            return []  # passed along, not called here
        if use.kind == IMPORT:
            parts = use.ref.split(".")
            candidates = [
                (name, project.modules[name])
                for name in (".".join(parts[:end]) for end in range(1, len(parts) + 1))
                if name in project.modules
            ]
            if not candidates:
                return []
            loaded = self.loaded(owner.summary, top_level=owner.key == MODULE_CODE)
            return [Node(module, MODULE_CODE) for name, module in candidates if name not in loaded]
        value = project.resolve(use.ref)
        if value is not None and value.kind == "i" and use.kind == CALL:
            # Calling an instance of a project class runs its ``__call__``.
            value = project.member(value.summary, value.name, "__call__")
        if value is None or value.kind not in ("f", "c"):
            return []
        summary, key = value.summary, value.name
        if use.flags & ITERATES:
            # Iterating what an earlier call returned: only a generator's body runs now.
            if value.kind != "f":
                return []
            info = project.functions[summary][key]
            return [Node(summary, key)] if info.is_generator and not info.is_async else []
        if use.kind == READ:
            if value.kind == "f" and project.functions[summary][key].is_property:
                return [Node(summary, key)]
            return []
        if value.kind == "c":
            found = []
            for method in ("__init__", "__post_init__"):
                init = project.member(summary, key, method)
                if init is not None and init.kind == "f":
                    found.append(Node(init.summary, init.name))
            return [node for node in found if not self.info(node).is_async]
        node = Node(summary, key)
        info = project.functions[summary][key]
        if self.runs_in_threadpool(node):
            return []
        found = self.wrappers(node) if info.decorators else []
        if info.is_async:
            return found
        if info.is_generator and not use.flags & CONSUMED and not self.is_context_manager(node):
            return found
        return [*found, node]

    def is_context_manager(self, node: Node) -> bool:
        """Whether a generator function is a ``contextlib.contextmanager`` (``with`` runs it)."""
        return any(
            self.name_of(ref.removesuffix("()")) in self.context_managers
            for ref in self.info(node).decorators
        )

    # -- exploration ---------------------------------------------------------------------------

    def explore(self, roots: Iterable[Node]) -> None:
        """Compute the blocking call and the edges of every sync function the roots can reach."""
        stack: list[Node] = []
        for root in roots:
            stack.extend(self._targets_of(root))
        while stack:
            node = stack.pop()
            if node in self.sites:
                continue
            info = self.info(node)
            if self.allowed(self.project.qualified(*node)):
                self.sites[node] = None
                self.edges[node] = []
                continue
            offloaded = self.offloaded(node)
            site: _Site | None = None
            edges: list[_Edge] = []
            for index, use in enumerate(info.uses):
                if offloaded[index]:
                    continue
                entry = self.blocking_entry(use)
                if entry is not None:
                    # The first to run: ``open(p).read()`` blocks in ``open`` before ``read``.
                    if not _critical_section(use, entry) and (
                        site is None or _span(use) < _span(info.uses[site.use])
                    ):
                        site = _Site(index, entry)
                    continue
                for target in self.targets(use, node):
                    edges.append(_Edge(index, target))
                    if target not in self.sites:
                        stack.append(target)
            self.sites[node] = site
            self.edges[node] = edges

    def _targets_of(self, node: Node) -> list[Node]:
        offloaded = self.offloaded(node)
        return [
            target
            for index, use in enumerate(self.info(node).uses)
            if not offloaded[index]
            for target in self.targets(use, node)
        ]

    def chains(self) -> dict[Node, Step]:
        """For each explored function that can block: its first step on the shortest chain to a blocking call."""
        reverse: dict[Node, list[tuple[Node, int]]] = {}
        for node, edges in self.edges.items():
            for edge in edges:
                reverse.setdefault(edge.target, []).append((node, edge.use))
        result: dict[Node, Step] = {}
        queue: deque[Node] = deque()
        for node in sorted(self.sites, key=self._order):
            site = self.sites[node]
            if site is not None:
                result[node] = Step(site.use, site.entry)
                queue.append(node)
        while queue:
            node = queue.popleft()
            for caller, use in reverse.get(node, ()):
                if caller in result or self.allowed(self.project.qualified(*caller)):
                    continue
                result[caller] = Step(use, node)
                queue.append(caller)
        return result

    def _order(self, node: Node) -> tuple[str, int, str]:
        info = self.info(node)
        return (self.project.summaries[node.summary].path, info.line, node.key)


def _critical_section(use: Use, entry: Entry) -> bool:
    """A ``with lock:`` block in a sync helper: the thread-safety idiom, waited on only briefly.

    Reported where an ``async def`` takes the lock itself, not through every helper that
    guards its data with one (an executor's ``with`` waits for all its work: still reported).
    """
    return bool(use.flags & ENTER) and entry.kind is Kind.THREAD


def _span(use: Use) -> tuple[int, int, int, int]:
    return (use.line, use.col, use.end_line, use.end_col)
