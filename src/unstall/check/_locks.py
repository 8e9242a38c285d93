"""Which ``threading`` locks are only ever held for in-memory work: taking one does not stall.

Taking a ``threading.Lock`` / ``RLock`` parks the loop's thread only while another thread
holds it. When every ``with`` section of that lock in the project runs nothing that blocks (a
dict update, a counter, a flag), the wait is microseconds: such a lock is *quiet*, and taking it
is not reported. A lock is kept when any of its sections reaches a blocking call (the thread
that holds it may hold it for seconds), and when the project takes it with a bare ``acquire()``
anywhere (what that holds cannot be told). A lock is known by where it lives: an instance
attribute by its class and name, anything else (a module global, a local) by its module and the
call that made it, so the globals of one module made alike count as one lock.
"""

from __future__ import annotations

from unstall.catalog import Entry
from unstall.check._graph import CallGraph, Node
from unstall.check._summary_types import CALL

__all__ = ("QuietLocks",)

# The catalog entries of taking a thread lock (their aliases, such as ``__enter__``, resolve to them).
LOCK_ENTRIES = frozenset({"threading.Lock.acquire", "threading.RLock.acquire"})

# A lock: (module summary index, or -1 for an instance attribute of a project class, its reference).
Identity = tuple[int, str]


def identity(summary: int, ref: str) -> Identity | None:
    """The lock a ``.__enter__`` or ``.acquire`` call's reference takes, or ``None``."""
    for method in (".__enter__", ".acquire"):
        if ref.endswith(method):
            base = ref[: -len(method)]
            # ``app.Cache()._lock``: an attribute of a project class's instances, one lock per
            # class wherever it is taken. Otherwise the module's own.
            return (-1, base) if "()." in base else (summary, base)
    return None


class QuietLocks:
    """The locks of a project whose every section is in-memory work, after exploration."""

    def __init__(self, graph: CallGraph) -> None:
        self.graph = graph
        self._reaches: dict[Node, bool] = {}
        project = graph.project
        holders: list[Node] = []
        sections: dict[Identity, list[tuple[Node, int, int]]] = {}
        bare: set[Identity] = set()
        for index, functions in enumerate(project.functions):
            for key, info in functions.items():
                node = Node(index, key)
                for use in info.uses:
                    if use.kind == CALL and use.ref.endswith(".acquire"):
                        found = identity(index, use.ref)
                        if found is not None:
                            bare.add(found)
                for enter, start, end in info.sections:
                    use = info.uses[enter]
                    entry = graph.blocking_entry(use, uses=info.uses)
                    if entry is None or entry.name not in LOCK_ENTRIES:
                        continue
                    found = identity(index, use.ref)
                    if found is None:
                        continue
                    sections.setdefault(found, []).append((node, start, end))
                    holders.append(node)
        if not sections:
            self.quiet: frozenset[Identity] = frozenset()
            return
        graph.explore(holders)  # what sync code that holds a lock calls
        self.quiet = frozenset(
            lock
            for lock, held in sections.items()
            if lock not in bare and not any(self._blocks(*section) for section in held)
        )

    def is_quiet(self, node: Node, use: int, entry: Entry) -> bool:
        """Whether the call ``use`` of ``node``, blocking in ``entry``, takes a quiet lock."""
        if entry.name not in LOCK_ENTRIES or not self.quiet:
            return False
        found = identity(node.summary, self.graph.info(node).uses[use].ref)
        return found is not None and found in self.quiet

    def prune(self) -> None:
        """Leave the explored blocking calls that take a quiet lock out of the call graph."""
        if not self.quiet:
            return
        sites = self.graph.sites
        for node, found in sites.items():
            sites[node] = [site for site in found if not self.is_quiet(node, site.use, site.entry)]

    def _blocks(self, node: Node, start: int, end: int) -> bool:
        """Whether the uses ``start``-``end`` of ``node`` (a section) can block."""
        graph = self.graph
        uses = graph.info(node).uses
        for use in uses[start:end]:
            entry = graph.blocking_entry(use, uses=uses)
            if entry is not None and entry.name not in LOCK_ENTRIES:
                return True
            if any(self._reaches_site(edge.target) for edge in graph.edges_of(use, node)):
                return True
        return False

    def _reaches_site(self, start: Node) -> bool:
        """Whether an explored function reaches any blocking call."""
        known = self._reaches.get(start)
        if known is not None:
            return known
        graph = self.graph
        seen = {start}
        stack = [start]
        found = False
        while stack and not found:
            node = stack.pop()
            if graph.sites.get(node) or self._reaches.get(node):
                found = True
                break
            for edge in graph.edges.get(node, ()):
                if edge.target not in seen:
                    seen.add(edge.target)
                    stack.append(edge.target)
        if found:
            self._reaches[start] = True
        else:
            for node in seen:
                self._reaches[node] = False
        return found
