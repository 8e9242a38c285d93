"""Which ``async def`` runs only while the process starts or stops: the start-up tier.

A *lifecycle root* is an ``async def`` a framework runs at start-up or shutdown: decorated as
such (``@app.before_server_start``), registered as such (``app.on_startup.append(init)``,
``Starlette(lifespan=...)``), a server's ``startup`` / ``shutdown`` method, a coroutine handed
to a loop entry (``asyncio.run(main())``), or a root the project declares
(``lifecycle-roots``). An ``async def`` runs once per process when it is a lifecycle root, or
when every call to it in the project is made, outside any loop, by an ``async def`` that runs
once, and it is never passed along by reference (a callback may be called any time). A finding
in a function that runs once, at a call outside its loops, belongs to the start-up tier.
"""

from __future__ import annotations

from collections.abc import Iterable

from unstall.catalog import BoundaryKind, Catalog
from unstall.check._resolve import Project, ValueKind
from unstall.check._summary_types import CALL, IN_LOOP, REFERENCE, Use

__all__ = ("Lifecycle",)

# A function of the project, by its summary's index and key.
Function = tuple[int, str]


class Lifecycle:
    """The ``async def`` functions of a project that run once per process, and why."""

    def __init__(self, project: Project, catalog: Catalog, roots: Iterable[str] = ()) -> None:
        self.project = project
        self.catalog = catalog
        self._declared = frozenset(roots)
        self.why: dict[Function, str] = {}
        self._callers: dict[Function, list[tuple[Function, bool]]] = {}
        self._escaped: set[Function] = set()
        self._scan()
        self.once = self._settle()

    def reason(self, function: Function) -> str | None:
        """Why ``function`` runs once per process (its lifecycle root's kind), or ``None``."""
        if function not in self.once:
            return None
        return self.why.get(function, "only called from start-up or shutdown")

    # -- what each function's code says ---------------------------------------------------------

    def _scan(self) -> None:
        project = self.project
        decorators = self.catalog.boundary_names(BoundaryKind.LIFECYCLE_DECORATOR)
        decorator_tails = self.catalog.boundary_suffixes(BoundaryKind.LIFECYCLE_DECORATOR)
        methods = self.catalog.boundary_suffixes(BoundaryKind.LIFECYCLE_METHOD)
        for index, functions in enumerate(project.functions):
            for key, info in functions.items():
                function = (index, key)
                if info.is_async:
                    qualified = project.qualified(index, key)
                    if qualified in self._declared:
                        self.why[function] = "declared start-up or shutdown code"
                    elif "." in key and key.rpartition(".")[2] in methods:
                        self.why[function] = f"{key.rpartition('.')[2]} method"
                    for ref in info.decorators:
                        name = self._name(ref.removesuffix("()"))
                        tail = ref.removesuffix("()").rpartition(".")[2]
                        if name in decorators or tail in decorator_tails:
                            self.why[function] = f"@{tail} handler"
                for use in info.uses:
                    self._use(function, info.uses, use)

    def _use(self, caller: Function, uses: tuple[Use, ...], use: Use) -> None:
        if use.kind not in (CALL, REFERENCE):
            return
        target = self._async_function(use.ref)
        if target is None:
            return
        parent = uses[use.parent] if 0 <= use.parent < len(uses) else None
        if use.kind == REFERENCE:
            why = self._registration(parent, use) if parent is not None else None
            if why is not None:
                self.why[target] = why
            else:
                self._escaped.add(target)  # passed along: whoever holds it may call it any time
            return
        if parent is not None and self._is_loop_entry(parent):
            self.why[target] = "the coroutine a loop runs"
            return
        self._callers.setdefault(target, []).append((caller, bool(use.flags & IN_LOOP)))

    def _async_function(self, ref: str) -> Function | None:
        value = self.project.resolve(ref)
        if value is None or value.kind is not ValueKind.FUNCTION:
            return None
        info = self.project.functions[value.summary].get(value.name)
        if info is None or not info.is_async:
            return None
        return (value.summary, value.name)

    def _name(self, ref: str) -> str | None:
        value = self.project.resolve(ref)
        if value is None:
            return None
        if value.kind is ValueKind.OUTSIDE:
            return value.name
        if value.kind in (ValueKind.FUNCTION, ValueKind.CLASS):
            return self.project.qualified(value.summary, value.name)
        return None

    def _matches(self, ref: str, kind: BoundaryKind) -> str | None:
        """The boundary of ``kind`` a call reference is, by qualified name or by its tail."""
        name = self._name(ref)
        for row in self.catalog.boundaries:
            if row.kind is not kind:
                continue
            if name == row.name or (row.suffix is not None and ref.endswith("." + row.suffix)):
                return row.name
        return None

    def _registration(self, parent: Use, use: Use) -> str | None:
        """Why a function passed to the call ``parent`` is start-up or shutdown code, if it is."""
        found = self._matches(parent.ref, BoundaryKind.LIFECYCLE_REGISTRATION)
        if found is None:
            return None
        row = self.catalog.boundary(found)
        keyword = next((name for key, name in use.keywords if key == "="), None)
        if row is not None and row.keywords and keyword not in row.keywords:
            return None
        return f"{keyword} handler" if keyword else f"registered with {found.rpartition('.')[2]}"

    def _is_loop_entry(self, parent: Use) -> bool:
        return self._matches(parent.ref, BoundaryKind.LOOP_ENTRY) is not None

    # -- once per process ---------------------------------------------------------------------

    def _settle(self) -> frozenset[Function]:
        """Lifecycle roots, then every function all of whose calls come once from those."""
        once = set(self.why)
        candidates = [
            function
            for function, calls in self._callers.items()
            if function not in once and function not in self._escaped and calls
        ]
        changed = True
        while changed:
            changed = False
            for function in candidates:
                if function in once:
                    continue
                calls = self._callers[function]
                if all(caller in once and not in_loop for caller, in_loop in calls):
                    once.add(function)
                    changed = True
        return frozenset(once)
