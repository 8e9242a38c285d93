"""The project-wide analysis: which ``async def`` can reach a blocking call, through what, how often.

Works only over module summaries. From every ``async def`` it explores, through sync
functions, methods, constructors, properties, consumed generators, decorators and imports,
the code that runs on the event loop's thread (:mod:`unstall.check._graph`), pruning the
branches constant arguments decide; then, for each call (or property read, or import) in an
``async def``, it finds the blocking calls it reaches (:mod:`unstall.check._reach`) and reports
the worst, with its chain, how often it blocks (every time, on the first call only, or only at
start-up or shutdown: :mod:`unstall.check._lifecycle`), and the chains to the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from unstall.catalog import BoundaryKind, Catalog, Entry, Kind
from unstall.check._graph import (
    FIRST_IMPORT,
    LAZY_SETUP,
    AnalysisSettings,
    CallGraph,
    Edge,
    Node,
    Site,
)
from unstall.check._lifecycle import Lifecycle
from unstall.check._locks import QuietLocks
from unstall.check._model import ChainStep, Finding, Frequency, Location
from unstall.check._reach import Link, Path, Reach, Reached
from unstall.check._resolve import ValueKind
from unstall.check._suggest import fix_for
from unstall.check._summary_types import (
    AWAITED,
    CALL,
    CONSUMED,
    IMPORT,
    IN_LOOP,
    LAZY,
    MODULE_CODE,
    ModuleSummary,
    Use,
)

__all__ = ("AnalysisSettings", "analyze")


def analyze(
    summaries: Sequence[ModuleSummary],
    *,
    catalog: Catalog,
    settings: AnalysisSettings | None = None,
) -> list[Finding]:
    """Every place where an ``async def`` of the project can reach a blocking call, as findings."""
    settings = settings or AnalysisSettings()
    graph = CallGraph(summaries, catalog, settings)
    project = graph.project
    roots: list[Node] = []
    for index, functions in enumerate(project.functions):
        for key, info in functions.items():
            if info.is_async and not graph.allowed(project.qualified(index, key)):
                roots.append(Node(index, key))
    lifecycle = Lifecycle(project, catalog, settings.lifecycle_roots)
    graph.warm_caches(startup=[Node(index, key) for index, key in lifecycle.starting()])
    builders = _Builders(graph, catalog.boundary_names(BoundaryKind.CONSTRUCTION_DECORATOR))
    constructors = {root: builders.of(root) for root in roots}
    graph.explore(roots, [node for nodes in constructors.values() for node in nodes])
    locks = QuietLocks(graph)
    locks.prune()
    reach = Reach(graph, lambda entry: catalog.kind_info(entry.kind).severity)
    findings: list[Finding] = []
    for root in roots:
        findings.extend(_Root(graph, reach, lifecycle, root, locks, constructors[root]).findings())
    return findings


# The methods that build an object before any other method of it can run.
_CONSTRUCTORS = ("__init__", "__post_init__")


class _Builders:
    """What builds the object an ``async def`` method belongs to, found once per class: the
    project constructor of its class (its own or a base's ``__init__``) and the methods a
    construction decorator marks (a pydantic validator) in the class and its project bases.
    They have run, and filled what they fill once, before the method can run."""

    def __init__(self, graph: CallGraph, hooks: frozenset[str]) -> None:
        self.graph = graph
        self.hooks = hooks
        self._known: dict[tuple[int, str], tuple[Node, ...]] = {}

    def of(self, root: Node) -> tuple[Node, ...]:
        """The builders of ``root``'s object, or ``()`` when it is no method of a project class."""
        owner = root.key.rpartition(".")[0]
        if not owner or owner not in self.graph.project.classes[root.summary]:
            return ()
        known = self._known.get((root.summary, owner))
        if known is None:
            known = self._known[(root.summary, owner)] = self._find(root.summary, owner)
        return known

    def _find(self, summary: int, owner: str) -> tuple[Node, ...]:
        graph, project = self.graph, self.graph.project
        found: list[Node] = []
        for name in _CONSTRUCTORS:
            value = project.member(summary, owner, name)
            if value is not None and value.kind == ValueKind.FUNCTION:
                info = project.functions[value.summary].get(value.name)
                if info is not None and not info.is_async:
                    found.append(Node(value.summary, value.name))
                    break
        if not self.hooks:
            return tuple(found)
        for index, cls, _ in project.lineage(summary, owner):
            prefix = cls + "."
            found.extend(
                Node(index, key)
                for key, info in project.functions[index].items()
                if key.startswith(prefix)
                and "." not in key[len(prefix) :]
                and not info.is_async
                and any(
                    graph.name_of(ref.removesuffix("()")) in self.hooks for ref in info.decorators
                )
            )
        return tuple(found)


class _Root:
    """The findings of one ``async def``: one per place in its source that reaches a blocking call."""

    def __init__(
        self,
        graph: CallGraph,
        reach: Reach,
        lifecycle: Lifecycle,
        root: Node,
        locks: QuietLocks,
        constructor: Sequence[Node] = (),
    ) -> None:
        self.graph = graph
        self.constructor = constructor
        self.locks = locks
        self.reach = reach
        self.root = root
        self.info = graph.info(root)
        self.summary = graph.project.summaries[root.summary]
        self.function = graph.project.qualified(root.summary, root.key)
        self.lifecycle = lifecycle

    def findings(self) -> Iterable[Finding]:
        graph, info = self.graph, self.info
        offloaded = graph.offloaded(self.root)
        edges = graph.root_edges(self.root)
        by_use: dict[int, list[Edge]] = {}
        for edge in edges:
            by_use.setdefault(edge.use, []).append(edge)
        # One place in the source is one finding, even when several uses share it (``from m
        # import a, b``; a ``with`` statement's ``__enter__`` and ``__exit__``); nested calls
        # starting at one column (``get().engine()``) give one finding per position and code.
        reported: set[tuple[int, int, int, int]] = set()
        positions: set[tuple[int, int, str]] = set()
        # what the first-call-only findings reported so far in this function fill (the first
        # call pays, and is reported; the calls after it find it warm)
        paid: set[Link] = set()
        for index, use in enumerate(info.uses):
            span = (use.line, use.col, use.end_line, use.end_col)
            if offloaded[index] or span in reported:
                continue
            entry = graph.blocking_entry(use, uses=info.uses)
            if entry is not None and self.locks.is_quiet(self.root, index, entry):
                continue  # a lock only ever held for in-memory work
            if entry is not None:
                finding = self._direct(use, entry)
            else:
                starts = by_use.get(index, [])
                once = (
                    FIRST_IMPORT if use.kind == IMPORT else LAZY_SETUP if use.flags & LAZY else None
                )
                reached = (
                    self.reach.reached(starts, once=once, loaded=self._loaded) if starts else None
                )
                if reached is None or self._warm(starts, reached, paid):
                    continue
                finding = self._chained(use, reached)
            reported.add(span)
            if (use.line, use.col, finding.code) in positions:
                continue
            positions.add((use.line, use.col, finding.code))
            yield finding

    def _warm(self, starts: Sequence[Edge], reached: Reached, paid: set[Link]) -> bool:
        """Whether what makes a first-call-only chain run once (a memo, a lazy set-up, an
        import) is already filled by what ran before it: the constructor of the method's
        object, or the call of a finding earlier in the function with the same cause (noted
        in ``paid`` as it is reported)."""
        if reached.every:
            return False
        link = self.reach.once_link(starts, reached.path, reached.site)
        if link is None:
            return False
        if any(link in self.reach.once_links_from(node) for node in self.constructor):
            return True
        if link in paid:
            return True
        if self._lasting(link):
            paid.add(link)
        return False

    def _lasting(self, link: Link) -> bool:
        """Whether what ``link`` fills stays filled for the rest of the call: not a memo kept
        per object (``cached_property``), which the next object fills again."""
        if link[0] != "memo" or not isinstance(link[1], Node):
            return True
        return self.graph.memoized(link[1]) in self.graph.lasting_memoizers

    def _loaded(self) -> frozenset[str]:
        # Modules loaded by the time the root runs (asked only when an import is on the way).
        return self.graph.loaded_at_run(self.root.summary, self.reach.import_universe)

    def _frequency(self, use: Use, once: str | None) -> tuple[Frequency, str | None]:
        startup = self.lifecycle.reason(
            (self.root.summary, self.root.key), in_loop=bool(use.flags & IN_LOOP)
        )
        if startup is not None:
            return Frequency.STARTUP, startup
        if once is not None:
            return Frequency.FIRST, once
        return Frequency.EVERY, None

    def _direct(self, use: Use, entry: Entry) -> Finding:
        graph = self.graph
        title = graph.catalog.kind_info(entry.kind).title
        location = _use_location(self.summary.path, use)
        if use.flags & AWAITED:
            code = "UNS201"
            message = (
                f"`{self.root.key}` awaits the result of `{_short(entry)}`, a {title}: the call "
                "runs and blocks the event loop before `await` sees its result."
            )
        else:
            code = entry.code
            message = f"`{self.root.key}` can block the event loop: `{_short(entry)}` ({title})."
        once = LAZY_SETUP if use.flags & LAZY else entry.once
        frequency, reason = self._frequency(use, once)
        fix, edits, safe = fix_for(self.summary, use, entry, uses=self.info.uses, direct=True)
        return Finding(
            code,
            message,
            location,
            self.function,
            entry.name,
            (ChainStep(_short(entry), location),),
            fix,
            edits,
            safe,
            frequency=frequency,
            reason=reason,
        )

    def _chained(self, use: Use, reached: Reached) -> Finding:
        graph = self.graph
        entry = reached.site.entry
        steps, names = self._steps(reached.path, reached.site)
        title = graph.catalog.kind_info(entry.kind).title
        first = reached.path[0][0]
        imported = first.key == MODULE_CODE
        code = entry.code
        chain = " → ".join(f"`{name}`" for name in names)
        if imported:
            # A first import is reported as the import: its module's top-level code blocks once.
            code = graph.catalog.kind_info(Kind.IMPORT).code
            message = (
                f"`{self.root.key}` imports `{graph.project.summaries[first.summary].module}` at "
                f"run time, and its top-level code blocks the first time: {chain} ({title})."
            )
        else:
            message = f"`{self.root.key}` can block the event loop: {chain} ({title})."
        more = len(reached.others)
        if more:
            message += f" (+{more} more blocking call{'s' if more > 1 else ''} from here)"
        frequency, reason = self._frequency(use, None if reached.every else reached.once)
        fix, edits, safe = fix_for(
            self.summary,
            use,
            entry,
            uses=self.info.uses,
            direct=False,
            callee=names[0],
            inner=names[-2],
            plain_call=use.kind == CALL and not imported and not _is_constructor(first.key, use),
            entered=use.kind == CALL and not imported and graph.is_context_manager(first),
        )
        return Finding(
            code,
            message,
            _use_location(self.summary.path, use),
            self.function,
            entry.name,
            tuple(steps),
            fix,
            edits,
            safe,
            frequency=frequency,
            reason=reason,
            more=tuple(tuple(self._steps(path, site)[0]) for site, path in reached.others),
        )

    def _steps(self, path: Path, site: Site) -> tuple[list[ChainStep], list[str]]:
        """The chain: each function where it is defined, then the blocking call itself."""
        graph = self.graph
        steps: list[ChainStep] = []
        names: list[str] = []
        for node, _ in path:
            info = graph.info(node)
            name = _step_name(graph, node)
            where = graph.project.summaries[node.summary].path
            steps.append(ChainStep(name, Location(where, max(info.line, 1), info.col)))
            names.append(name)
        last = graph.info(site.node).uses[site.use]
        where = graph.project.summaries[site.node.summary].path
        steps.append(ChainStep(_short(site.entry), _use_location(where, last)))
        names.append(_short(site.entry))
        return steps, names


def _short(entry: Entry) -> str:
    return entry.name.removeprefix("builtins.")


def _use_location(path: str, use: Use) -> Location:
    return Location(path, use.line, use.col, use.end_line, use.end_col)


def _step_name(graph: CallGraph, node: Node) -> str:
    if node.key == MODULE_CODE:
        return f"import {graph.project.summaries[node.summary].module}"
    return node.key


def _is_constructor(key: str, use: Use) -> bool:
    # A call that reached ``__init__`` was a class instantiation: offloading it changes nothing useful.
    return (
        key.endswith(("__init__", "__post_init__"))
        or bool(use.flags & CONSUMED)
        or use.kind != CALL
    )
