"""Which blocking calls a call reaches, how often, and the chain to each.

Over the explored call graph (:mod:`unstall.check._graph`), :class:`Reach` gives every function
two sets of blocking calls (*sites*): those it reaches every time it runs, through edges and
sites that are not first-call-only, and those it reaches at all. For one call in an
``async def``, :meth:`Reach.findings_of` picks the worst site (the highest severity among the
every-time ones, else among all; the shortest chain on a tie), says why it runs on a first call
only when it does, and lists the chains to the others.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Sequence
from typing import NamedTuple

from unstall.catalog import Entry, Kind
from unstall.check._context import complete
from unstall.check._graph import FIRST_IMPORT, LAZY_SETUP, CallGraph, Edge, Node, Site
from unstall.check._summary_types import KEYED, MODULE_CODE

__all__ = ("Link", "Reach", "Reached")

# A chain: each function on the way (the node and the index of its use that goes on), the last
# one holding the blocking call.
Path = tuple[tuple[Node, int], ...]
# What a first-call-only link fills (a memo's cache, a lazy set-up, an import): see
# :meth:`Reach.once_link`.
Link = tuple[object, ...]


class Reached(NamedTuple):
    """The worst blocking call a call reaches: its site, the path to it, whether it runs every
    time, why not (``once``), and the paths to the other sites, worst first."""

    site: Site
    path: Path
    every: bool
    once: str | None
    others: tuple[tuple[Site, Path], ...]


class Reach:
    """Every explored function's reachable sites, as bit sets over a numbered list of sites."""

    def __init__(
        self, graph: CallGraph, severity: Callable[[Entry], int], *, more: int = 20
    ) -> None:
        self.graph = graph
        self.severity = severity
        self.more = more
        nodes = sorted(graph.sites, key=lambda node: (graph.order(node), node.context.__repr__()))
        self.sites: list[Site] = [site for node in nodes for site in graph.sites[node]]
        self.number: dict[Site, int] = {site: number for number, site in enumerate(self.sites)}
        self.every: dict[Node, int] = {}
        self.any: dict[Node, int] = {}
        self.own: dict[Node, int] = {}  # each function's own sites
        # The explored module-level code (what an import runs).
        self.module_nodes = [
            node for node in graph.sites.keys() | graph.edges.keys() if node.key == MODULE_CODE
        ]
        self._skips: dict[frozenset[str], frozenset[Node]] = {}
        self._warmed_by: dict[Node, frozenset[Link]] = {}
        callers: dict[Node, list[tuple[Node, Edge]]] = {}
        for node, edges in graph.edges.items():
            for edge in edges:
                callers.setdefault(edge.target, []).append((node, edge))
        for number, site in enumerate(self.sites):
            bit = 1 << number
            self.any[site.node] = self.any.get(site.node, 0) | bit
            self.own[site.node] = self.own.get(site.node, 0) | bit
            if site.once is None:
                self.every[site.node] = self.every.get(site.node, 0) | bit
        self._propagate(callers)
        # The modules whose import can matter: their top-level code reaches a site.
        summaries = graph.project.summaries
        self.import_universe = frozenset(
            summaries[node.summary].module for node in self.module_nodes if self.any.get(node)
        )

    def _propagate(self, callers: dict[Node, list[tuple[Node, Edge]]]) -> None:
        """Carry each function's sets to its callers until nothing changes."""
        pending = deque(node for node in self.any)
        queued = set(pending)
        while pending:
            node = pending.popleft()
            queued.discard(node)
            reach_any = self.any.get(node, 0)
            reach_every = self.every.get(node, 0)
            for caller, edge in callers.get(node, ()):
                if not self.graph.allowed(self.graph.project.qualified(caller.summary, caller.key)):
                    changed = False
                    merged = self.any.get(caller, 0) | reach_any
                    if merged != self.any.get(caller, 0):
                        self.any[caller] = merged
                        changed = True
                    if edge.once is None and reach_every:
                        merged = self.every.get(caller, 0) | reach_every
                        if merged != self.every.get(caller, 0):
                            self.every[caller] = merged
                            changed = True
                    if changed and caller not in queued:
                        queued.add(caller)
                        pending.append(caller)

    def reached(
        self,
        starts: Sequence[Edge],
        *,
        once: str | None = None,
        loaded: Callable[[], frozenset[str]] | None = None,
    ) -> Reached | None:
        """The worst site the edges of one call reach (``once``: the call itself runs once), or
        ``None``. An import of a module ``loaded()`` names (loaded before the calling ``async
        def`` runs; asked only when an import may be on the way) runs nothing: chains through
        one are left out."""
        reach_any, reach_every = self._bits(starts, once)
        if not reach_any:
            return None
        skip: frozenset[Node] = frozenset()
        if loaded is not None and (
            reach_any & ~reach_every or any(edge.target.key == MODULE_CODE for edge in starts)
        ):
            skip = self._imports_of(loaded())
            if skip:
                starts = [edge for edge in starts if edge.target not in skip]
                reach_any, reach_every = self._bits(starts, once)
                if not reach_any:
                    return None
        if skip and reach_any & ~reach_every:
            # Sites reached only through imports: keep those an import not done yet leads to.
            reach_any &= self._mask(self._search(starts, every_only=False, skip=skip))
            if not reach_any:
                return None
        every = bool(reach_every)
        parents = self._search(starts, every_only=every, skip=skip)
        chosen = self._worst(reach_every if every else reach_any, parents)
        path = _path(parents, chosen)
        reason = once if not every else None
        if not every:
            reason = reason or self._reason(starts, path, chosen)
        others: list[tuple[Site, Path]] = []
        rest = reach_any & ~(1 << self.number[chosen])
        if rest:
            every_parents = parents
            parents = self._search(starts, every_only=False, skip=skip) if every else parents
            for site in self._ranked(rest, parents)[: self.more]:
                found = _path(every_parents, site) if site.node in every_parents else None
                others.append((site, found or _path(parents, site)))
        return Reached(chosen, path, every, reason, tuple(others))

    def once_link(self, starts: Sequence[Edge], path: Path, site: Site) -> Link | None:
        """What makes the chain to ``site`` run on a first call only (its first first-call-only
        link, as :meth:`_reason` finds it), told by what stays warm after it: a memo's cache
        (the memoized function with its complete arguments), a lazy set-up (its place in the
        code), a module's first import (the module)."""
        first = self._first_once(starts, path)
        return self._link(*first) if first is not None else self._site_link(site)

    def once_links_from(self, node: Node) -> frozenset[Link]:
        """Every first-call-only link that running ``node`` (explored) fills: after it, those
        caches, set-ups and imports are warm."""
        found = self._warmed_by.get(node)
        if found is None:
            graph = self.graph
            links = [
                link
                for reached in self._search([Edge(-1, node, None)], every_only=False)
                for link in (
                    *(self._link(edge, reached) for edge in graph.edges.get(reached, ())),
                    *(self._site_link(site) for site in graph.sites.get(reached, ())),
                )
                if link is not None
            ]
            found = self._warmed_by[node] = frozenset(links)
        return found

    def _site_link(self, site: Site) -> Link | None:
        if site.once is None:
            return None
        if site.once == LAZY_SETUP and self.graph.info(site.node).uses[site.use].flags & KEYED:
            return None  # a set-up per key
        if site.entry.kind is Kind.IMPORT and not complete(
            self.graph.info(site.node), site.node.context
        ):
            return None  # ``import_module(name)``: which module, the call does not say
        return ("site", site.node, site.use)

    def _link(self, edge: Edge, node: Node | None) -> Link | None:
        if edge.once is None:
            return None
        if edge.once == FIRST_IMPORT:
            return ("import", edge.target)
        if edge.once == LAZY_SETUP:
            # a set-up per key: filling one key warms no other
            if node is None or self.graph.info(node).uses[edge.use].flags & KEYED:
                return None
            return ("lazy", node, edge.use)
        # a memo: warm for the same arguments, when all of them are known
        info = self.graph.info(edge.target)
        return ("memo", edge.target) if complete(info, edge.target.context) else None

    def _bits(self, starts: Sequence[Edge], once: str | None) -> tuple[int, int]:
        """The sites the edges reach at all, and those they reach every time."""
        reach_any = 0
        reach_every = 0
        for edge in starts:
            reach_any |= self.any.get(edge.target, 0)
            if edge.once is None and once is None:
                reach_every |= self.every.get(edge.target, 0)
        return reach_any, reach_every

    def _imports_of(self, loaded: frozenset[str]) -> frozenset[Node]:
        """The explored module-level code of the modules named in ``loaded``."""
        if not loaded:
            return frozenset()
        found = self._skips.get(loaded)
        if found is None:
            summaries = self.graph.project.summaries
            found = frozenset(
                node for node in self.module_nodes if summaries[node.summary].module in loaded
            )
            self._skips[loaded] = found
        return found

    def _mask(self, parents: dict[Node, tuple[Node | None, int, int]]) -> int:
        """The sites held by the functions a search found."""
        bits = 0
        for node in parents:
            bits |= self.own.get(node, 0)
        return bits

    def _search(
        self,
        starts: Sequence[Edge],
        *,
        every_only: bool,
        skip: frozenset[Node] = frozenset(),
    ) -> dict[Node, tuple[Node | None, int, int]]:
        """Breadth first from the call's edges: each node's parent, the use leading on, the
        depth; never into a node of ``skip``."""
        parents: dict[Node, tuple[Node | None, int, int]] = {}
        queue: deque[Node] = deque()
        for edge in starts:
            if every_only and edge.once is not None:
                continue
            if edge.target not in parents:
                parents[edge.target] = (None, edge.use, 0)
                queue.append(edge.target)
        edges = self.graph.edges
        while queue:
            node = queue.popleft()
            depth = parents[node][2] + 1
            for edge in edges.get(node, ()):
                if every_only and edge.once is not None:
                    continue
                if edge.target not in parents and edge.target not in skip:
                    parents[edge.target] = (node, edge.use, depth)
                    queue.append(edge.target)
        return parents

    def _ranked(self, bits: int, parents: dict[Node, tuple[Node | None, int, int]]) -> list[Site]:
        sites = [self.sites[number] for number in _numbers(bits)]
        reachable = [site for site in sites if site.node in parents]
        return sorted(
            reachable,
            key=lambda site: (
                -self.severity(site.entry),
                parents[site.node][2],
                self.number[site],
            ),
        )

    def _worst(self, bits: int, parents: dict[Node, tuple[Node | None, int, int]]) -> Site:
        ranked = self._ranked(bits, parents)
        return ranked[0] if ranked else self.sites[next(iter(_numbers(bits)))]

    def _reason(self, starts: Sequence[Edge], path: Path, site: Site) -> str | None:
        """Why the chain to ``site`` runs on a first call only: its first first-call-only link."""
        first = self._first_once(starts, path)
        return first[0].once if first is not None else site.once

    def _first_once(self, starts: Sequence[Edge], path: Path) -> tuple[Edge, Node | None] | None:
        """The first first-call-only edge on a chain, with the function it leaves (``None``
        for one of the call's own edges), or ``None`` when only the site may be one."""
        if path:
            first_node = path[0][0]
            for edge in starts:
                if edge.target == first_node and edge.once is not None:
                    return edge, None
        for (node, use), (following, _) in itertools.pairwise(path):
            for edge in self.graph.edges.get(node, ()):
                if edge.use == use and edge.target == following and edge.once is not None:
                    return edge, node
        return None


def _numbers(bits: int) -> list[int]:
    """The positions of the set bits, lowest first."""
    found = []
    while bits:
        lowest = bits & -bits
        found.append(lowest.bit_length() - 1)
        bits ^= lowest
    return found


def _path(parents: dict[Node, tuple[Node | None, int, int]], site: Site) -> Path:
    """The functions from the call to ``site``'s function, each with the use that goes on."""
    steps: list[tuple[Node, int]] = [(site.node, site.use)]
    node = site.node
    while node in parents:
        parent, use, _ = parents[node]
        if parent is None:
            break
        steps.append((parent, use))
        node = parent
    return tuple(reversed(steps))
