"""The call graph of the analysis: what each sync function reached from an ``async def`` runs.

:class:`CallGraph` explores, from the uses of every ``async def``, the sync code they run on
the loop's thread (functions, methods, constructors, properties, consumed generators,
decorator wrappers, lazily imported modules), stopping at offload boundaries. A function is
explored once per *context*: the constants its call binds to the parameters it tests or passes
on (:mod:`unstall.check._context`), so a branch a constant argument decides is pruned. Each
explored function keeps its blocking calls (:class:`Site`) and the calls it makes
(:class:`Edge`); an edge or site that runs on a first call only (a memoized callee, a lazy
set-up, a first import) says why. A memoized function that module-level code already calls
with the same constant arguments is a cache hit from the loop: that edge is left out.
:mod:`unstall.check._reach` then finds, for each call, the blocking calls it reaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from unstall.catalog import BoundaryKind, Catalog, Condition, Entry, Kind, Match
from unstall.check._context import (
    Context,
    argument,
    assignments,
    bind,
    complete,
    live,
    relevant,
    visible,
)
from unstall.check._modules import is_test_module
from unstall.check._resolve import Project
from unstall.check._summary_types import (
    ASSIGN,
    CALL,
    CONSUMED,
    ENTER,
    IMPORT,
    IN_LAMBDA,
    ITERATES,
    LAZY,
    MODULE_CODE,
    NO_LOOP,
    READ,
    REFERENCE,
    FunctionInfo,
    ModuleSummary,
    Use,
)

__all__ = ("FIRST_IMPORT", "LAZY_SETUP", "AnalysisSettings", "CallGraph", "Edge", "Node", "Site")

# Why an edge or a site runs on a first call only (besides a memo decorator's name).
LAZY_SETUP = "lazy set-up"
FIRST_IMPORT = "first import"


class Node(NamedTuple):
    """A function of the project as explored: its module summary's index, its key in that
    module, and the context its callers gave it (``()`` when nothing is known)."""

    summary: int
    key: str
    context: Context = ()


class Site(NamedTuple):
    """A blocking call in an explored function: the use's index and the catalog entry;
    ``once`` says why it runs on a first call only, or is ``None``."""

    node: Node
    use: int
    entry: Entry
    once: str | None


class Edge(NamedTuple):
    """A call from an explored function: the use's index and the function it runs;
    ``once`` says why it runs on a first call only, or is ``None``."""

    use: int
    target: Node
    once: str | None


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """What the configuration adds beyond the catalog (whose boundaries include the project's
    offload helpers and thread-pool decorators): the names never reported.

    ``allow`` are qualified names never reported, with everything below them: a function,
    class or module of the project, or a blocking callable (``time.sleep``) or a library
    (``requests``) of the catalog. ``lifecycle_roots`` are qualified names of ``async def``
    functions the project runs only at start-up or shutdown.
    """

    allow: tuple[str, ...] = ()
    lifecycle_roots: tuple[str, ...] = ()


# how many importers up :meth:`CallGraph._through_importers` follows the ways into a module
_IMPORT_DEPTH = 40


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
        # each thread-pool decorator, with the arguments its call must set true (``thread``)
        self.threadpool = {
            row.name: frozenset(row.keywords)
            for row in catalog.boundaries
            if row.kind is BoundaryKind.THREADPOOL_DECORATOR
        }
        self.context_managers = frozenset(
            row.name
            for row in catalog.boundaries
            if row.kind is BoundaryKind.CONTEXT_MANAGER and not row.asynchronous
        )
        self.memoizers = catalog.boundary_names(BoundaryKind.MEMOIZE)
        # the memos whose value lasts (start-up code warms them for good)
        self.lasting_memoizers = frozenset(
            row.name
            for row in catalog.boundaries
            if row.kind is BoundaryKind.MEMOIZE and not row.forgets
        )
        self._allow = frozenset(settings.allow)
        # Per explored sync function: its blocking calls and its edges.
        self.sites: dict[Node, list[Site]] = {}
        self.edges: dict[Node, list[Edge]] = {}
        self._offloaded: dict[tuple[int, str], list[bool]] = {}
        # Per catalog entry: whether every receiver of it the project makes meets a condition.
        self._makings: dict[str, bool] = {}
        self._threadpool_memo: dict[tuple[int, str], bool] = {}
        self._memo: dict[tuple[int, str], str | None] = {}
        self._relevant: dict[tuple[int, str], frozenset[str]] = {}
        # Memoized functions module-level code calls, with the complete context of the call.
        self.warm: set[Node] = set()
        self._loaded: dict[tuple[int, bool], frozenset[str]] = {}
        self._closures: dict[str, frozenset[str]] = {}
        self._at_run: dict[int, frozenset[str]] = {}
        self._through: dict[str, frozenset[str]] = {}
        self._importer_index: dict[str, set[int]] | None = None

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
        """For each use of a function, whether it runs off the loop: inside a lambda given to
        an offload call, or in a branch that runs only when no loop is running (NO_LOOP)."""
        known = self._offloaded.get(node[:2])
        if known is not None:
            return known
        uses = self.info(node).uses
        result = [False] * len(uses)
        for index, use in enumerate(uses):
            if use.flags & NO_LOOP:
                result[index] = True
                continue
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
        self._offloaded[node[:2]] = result
        return result

    def blocking_entry(
        self,
        use: Use,
        context: Mapping[str, object] | None = None,
        uses: Sequence[Use] = (),
    ) -> Entry | None:
        """The catalog entry a call use blocks in, when it resolves to one and no argument makes
        it non-blocking (an argument the caller's ``context`` binds included; a condition on
        the receiver's creation is read from the creating call among ``uses``)."""
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
            bound = context or {}
            made = _creator_arguments(use, uses)
            receiver = any(condition.receiver for condition in entry.nonblocking)
            if made is None and receiver:
                # ``self._queue.put(...)``: how the attribute was made, if the class says.
                made = self.project.made_arguments(use.ref.rpartition(".")[0])
            if made is None and receiver and self._every_making_meets(entry):
                return None  # a queue handed in: every one the project makes is unbounded
            for condition in entry.nonblocking:
                arguments = use.keywords
                if condition.receiver:
                    if made is None:
                        continue
                    arguments = made
                if _meets(condition, arguments, bound):
                    return None
        return entry

    def _every_making_meets(self, entry: Entry) -> bool:
        """Whether the project makes receivers of ``entry`` (``queue.Queue()`` for
        ``queue.Queue.put``) and every call that makes one meets a receiver condition of the
        entry (no ``maxsize``): then a receiver whose making the call cannot see (a queue
        handed to a constructor or a function) is one of those."""
        known = self._makings.get(entry.name)
        if known is None:
            conditions = [condition for condition in entry.nonblocking if condition.receiver]
            makings = list(self._makings_of({name.rpartition(".")[0] for name in entry.names}))
            known = self._makings[entry.name] = bool(makings) and all(
                any(_meets(condition, use.keywords, {}) for condition in conditions)
                for use in makings
            )
        return known

    def _makings_of(self, classes: set[str]) -> Iterator[Use]:
        """The project's calls that make an instance of one of ``classes``, or may: a call of
        that class name the analysis cannot resolve (``ctx.Queue()`` of a ``multiprocessing``
        context) counts, one that resolves to another class (``asyncio.Queue``) does not."""
        tails = {name.rpartition(".")[2] for name in classes}
        for functions in self.project.functions:
            for info in functions.values():
                for use in info.uses:
                    if use.kind != CALL or use.ref.rpartition(".")[2] not in tails:
                        continue
                    value = self.project.resolve(use.ref)
                    if value is None or (value.kind == "x" and value.name in classes):
                        yield use

    def runs_in_threadpool(self, node: Node) -> bool:
        """Whether a thread-pool decorator wraps the function (calling it runs nothing here)."""
        known = self._threadpool_memo.get(node[:2])
        if known is None:
            info = self.info(node)
            flags = info.decorator_flags
            known = False
            for position, ref in enumerate(info.decorators):
                wanted = self.threadpool.get(self.name_of(ref.removesuffix("()")) or "")
                given = flags[position] if position < len(flags) else ()
                if wanted is not None and wanted.issubset(given):
                    known = True
                    break
            self._threadpool_memo[node[:2]] = known
        return known

    def memoized(self, node: Node) -> str | None:
        """The memo decorator wrapping the function (``functools.cache``), or ``None``."""
        key = node[:2]
        if key not in self._memo:
            found = None
            for ref in self.info(node).decorators:
                name = self.name_of(ref.removesuffix("()"))
                if name in self.memoizers:
                    found = name
                    break
            self._memo[key] = found
        return self._memo[key]

    def wrappers(self, node: Node) -> list[Node]:
        """The sync wrappers the project's decorators of ``node`` return: they run when it is called.

        The wrapper is what the decorator returns (``return wrapper``); when that cannot be
        told, every sync function nested in the decorator, unless ``node`` is an ``async def``
        and the decorator has an ``async`` wrapper too: one that wraps sync and async functions
        alike picks the async wrapper for a coroutine function (``if
        inspect.iscoroutinefunction(func): return async_wrapper``).
        """
        project = self.project
        found: list[Node] = []
        is_async = self.info(node).is_async
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
                if is_async and any(self.info(item).is_async for item in candidates):
                    continue
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

    def loaded_at_run(self, summary: int, within: frozenset[str]) -> frozenset[str]:
        """Modules loaded by the time an ``async def`` of ``summary`` runs.

        What :meth:`loaded` says, and what every way into ``summary``'s module through the
        project's modules loads (:meth:`_through_importers`): the program reached the module
        through one of the modules that import it at their top level (an application module
        importing its routes and handlers), and reached that one the same way, up to a module
        nothing in the project imports. Test modules, and modules inside the package (they
        import their package, they do not load it), are not counted; with no such importer,
        nothing more is known. What the ways in load is kept ``within`` the modules whose import
        can matter (the same set on every call of one analysis: the answers are kept).
        """
        known = self._at_run.get(summary)
        if known is not None:
            return known
        module = self.project.summaries[summary].module
        known = self.loaded(summary, top_level=False) | self._through_importers(
            module, within, set(), 0
        )
        self._at_run[summary] = known
        return known

    def _through_importers(
        self, module: str, within: frozenset[str], active: set[str], depth: int
    ) -> frozenset[str]:
        """The modules loaded on every way into ``module`` through its project importers: for
        each importer, what its own top-level code imports and what the ways into it load; the
        intersection over the importers. An importer already on the way (an import cycle), or
        one too far up, counts with its own imports only, which is never more than the truth."""
        known = self._through.get(module)
        if known is not None:
            return known
        project = self.project
        common: frozenset[str] | None = None
        active.add(module)
        for importer in self._importers().get(module, ()):
            name = project.summaries[importer].module
            reach = self._closure(name) & within
            if name not in active and depth < _IMPORT_DEPTH:
                reach = reach | self._through_importers(name, within, active, depth + 1)
            common = reach if common is None else common & reach
            if not common:
                break
        active.discard(module)
        known = common or frozenset()
        self._through[module] = known  # kept even where a cycle was cut: it may be less, never more
        return known

    def _importers(self) -> dict[str, set[int]]:
        # module name -> the project modules (not tests) whose top-level code imports it
        if self._importer_index is None:
            project = self.project
            index: dict[str, set[int]] = {}
            for number, summary in enumerate(project.summaries):
                top = project.functions[number].get(MODULE_CODE)
                if top is None or is_test_module(summary.module, summary.is_package):
                    continue
                for use in top.uses:
                    if use.kind != IMPORT:
                        continue
                    pieces = use.ref.split(".")
                    for end in range(1, len(pieces) + 1):
                        name = ".".join(pieces[:end])
                        if (
                            name in project.modules
                            and name != summary.module
                            and not summary.module.startswith(name + ".")
                        ):
                            index.setdefault(name, set()).add(number)
            self._importer_index = index
        return self._importer_index

    def _cycle_deferred(self, name: str, importer: str) -> bool:
        """Whether a function's import of ``name`` in ``importer`` is deferred to break an import
        cycle: ``name`` loads ``importer`` through its top-level imports (an application module
        that imports its routes, a route that imports the application back at run time). The
        program is taken to have loaded ``importer`` through ``name``. (An optional part that
        imports the core, which imports it back on first use, is the exception this misses.)"""
        return importer in self._closure(name)

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
        if use.kind in (REFERENCE, ASSIGN):
            return []  # passed along, or a parameter's new value: nothing runs
        if use.kind == IMPORT:
            parts = use.ref.split(".")
            candidates = [
                (name, project.modules[name])
                for name in (".".join(parts[:end]) for end in range(1, len(parts) + 1))
                if name in project.modules
            ]
            if not candidates:
                return []
            top_level = owner.key == MODULE_CODE
            loaded = self.loaded(owner.summary, top_level=top_level)
            importer = project.summaries[owner.summary].module
            return [
                Node(module, MODULE_CODE)
                for name, module in candidates
                if name not in loaded and (top_level or not self._cycle_deferred(name, importer))
            ]
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

    def edges_of(
        self, use: Use, owner: Node, caller: Mapping[str, object] | None = None
    ) -> list[Edge]:
        """The calls a use of ``owner`` makes into the project, each with its callee's context
        (``caller``: what ``owner``'s context still says where the use is).

        A memoized callee whose whole cache key module-level code already warmed is left out:
        from the loop it is a cache hit.
        """
        targets = self.targets(use, owner)
        if not targets:
            return []
        once: str | None = None
        if use.kind == IMPORT:
            once = FIRST_IMPORT
        elif use.flags & LAZY:
            once = LAZY_SETUP
        if caller is None:
            caller = dict(owner.context)
        found: list[Edge] = []
        for target in targets:
            info = self.info(target)
            memo = self.memoized(target)
            wanted = self._wanted(target, info, memo is not None)
            context = bind(info, use, caller, wanted) if wanted else ()
            node = Node(target.summary, target.key, context)
            if memo is not None and complete(info, context) and node in self.warm:
                continue
            found.append(Edge(0, node, once or memo))
        return found

    def _wanted(self, node: Node, info: FunctionInfo, memoized: bool) -> frozenset[str]:
        key = node[:2]
        known = self._relevant.get(key)
        if known is None:
            known = self._relevant[key] = relevant(info, memoized=memoized)
        return known

    def warm_caches(self, startup: Iterable[Node] = ()) -> None:
        """Find the memoized functions module-level code calls, with the context of each call,
        and those start-up code (``startup``: what runs wholly while the program starts) calls.

        Module-level code runs when the module is imported, before any request: a memo it fills
        with constant arguments answers every later call with the same ones from the cache. So
        does a start-up handler's, unless the memo forgets (a time-to-live cache) or keeps one
        value per object (``cached_property``): those start-up code does not warm.
        """
        modules = [
            Node(index, MODULE_CODE)
            for index, functions in enumerate(self.project.functions)
            if MODULE_CODE in functions
        ]
        self._warm_from(modules, self.memoizers)
        self._warm_from(list(startup), self.lasting_memoizers)

    def _warm_from(self, stack: list[Node], memoizers: frozenset[str]) -> None:
        seen: set[Node] = set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            info = self.info(node)
            memo = self.memoized(node) if node.key != MODULE_CODE else None
            if memo in memoizers and complete(info, node.context):
                self.warm.add(node)
            context = dict(node.context)
            assigned = assignments(info) if context else ()
            offloaded = self.offloaded(node)
            for index, use in enumerate(info.uses):
                here = visible(info, index, context, assigned)
                if offloaded[index] or use.kind == IMPORT or not live(info, use, here):
                    continue
                stack.extend(
                    edge.target
                    for edge in self.edges_of(use, node, dict(here))
                    if edge.target.key != MODULE_CODE and edge.target not in seen
                )

    def explore(self, roots: Iterable[Node], functions: Iterable[Node] = ()) -> None:
        """Compute the blocking calls and the edges of every sync function the roots can reach,
        and of ``functions`` (sync ones, such as the constructors of the roots' classes) with
        what they reach."""
        stack: list[Node] = list(functions)
        for root in roots:
            stack.extend(edge.target for edge in self.root_edges(root))
        while stack:
            node = stack.pop()
            if node in self.sites:
                continue
            info = self.info(node)
            if self.allowed(self.project.qualified(node.summary, node.key)):
                self.sites[node] = []
                self.edges[node] = []
                continue
            offloaded = self.offloaded(node)
            context = dict(node.context)
            assigned = assignments(info) if context else ()
            sites: list[Site] = []
            edges: list[Edge] = []
            for index, use in enumerate(info.uses):
                here = visible(info, index, context, assigned)
                if offloaded[index] or not live(info, use, here):
                    continue
                entry = self.blocking_entry(use, here, info.uses)
                if entry is not None:
                    if not _critical_section(use, entry):
                        sites.append(Site(node, index, entry, _site_once(use, entry)))
                    continue
                for edge in self.edges_of(use, node, dict(here)):
                    edges.append(edge._replace(use=index))
                    if edge.target not in self.sites:
                        stack.append(edge.target)
            self.sites[node] = _outermost_first(sites, info.uses)
            self.edges[node] = edges

    def root_edges(self, root: Node) -> list[Edge]:
        """The edges of an ``async def`` (explored as a root, with no context)."""
        offloaded = self.offloaded(root)
        info = self.info(root)
        return [
            edge._replace(use=index)
            for index, use in enumerate(info.uses)
            if not offloaded[index]
            for edge in self.edges_of(use, root)
        ]

    def order(self, node: Node) -> tuple[str, int, str]:
        """A stable order of functions: by path, line and key."""
        info = self.info(node)
        return (self.project.summaries[node.summary].path, info.line, node.key)


def _creator_arguments(use: Use, uses: Sequence[Use]) -> tuple[tuple[str, object], ...] | None:
    """The arguments of the call that created the use's receiver, when the summary links it:
    ``("^", index)`` names a use of the same function, ``("^=", arguments)`` carries those of
    a call in an enclosing function (a closure's receiver)."""
    for key, value in use.keywords:
        if key == "^" and isinstance(value, int) and 0 <= value < len(uses):
            return uses[value].keywords
        if key == "^=" and isinstance(value, tuple):
            return tuple(
                pair
                for pair in value
                if isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
            )
    return None


def _meets(
    condition: Condition, arguments: Sequence[tuple[str, object]], context: Mapping[str, object]
) -> bool:
    """Whether a call with ``arguments`` meets a ``nonblocking`` condition."""
    keys = condition.keys
    if condition.match is Match.ABSENT:
        count = next((value for key, value in arguments if key == "#"), 0)
        starred = any(key == "*" for key, _ in arguments)
        by_position = (
            condition.position is not None and isinstance(count, int) and count > condition.position
        )
        return not starred and not by_position and not any(key in keys for key, _ in arguments)
    return any(
        key in keys and condition.accepts(argument(given, context)) for key, given in arguments
    )


def _site_once(use: Use, entry: Entry) -> str | None:
    if use.flags & LAZY:
        return LAZY_SETUP
    # ``importlib.import_module`` says so (the module is in sys.modules afterwards); a
    # metadata lookup or a ``reload`` does its work every time
    return entry.once


def _outermost_first(sites: list[Site], uses: Sequence[Use]) -> list[Site]:
    """The sites of one function that count: the first of each kind in source order.

    ``open(p).read()`` blocks in ``open`` first, and ``with open(p) as f: f.read()`` is one
    file operation: further calls of a kind already reached in the same function add nothing
    a reader needs (the function is fixed as a whole).
    """
    if len(sites) < 2:
        return sites
    kept: dict[Kind, Site] = {}
    for site in sorted(sites, key=lambda site: _span(uses[site.use])):
        kept.setdefault(site.entry.kind, site)
    return list(kept.values())


def _critical_section(use: Use, entry: Entry) -> bool:
    """A ``with lock:`` block in a sync helper: the thread-safety idiom, waited on only briefly.

    Reported where an ``async def`` takes the lock itself, not through every helper that
    guards its data with one (an executor's ``with`` waits for all its work: still reported).
    """
    return bool(use.flags & ENTER) and entry.kind is Kind.THREAD


def _span(use: Use) -> tuple[int, int, int, int]:
    return (use.line, use.col, use.end_line, use.end_col)
