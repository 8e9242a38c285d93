"""Which ``async def`` runs only while the process starts or stops: the start-up tier.

Two kinds of root. A *start-up or shutdown hook* runs, loops and all, only while the process
starts or stops: decorated as such (``@app.before_server_start``), registered as such
(``app.on_startup.append(init)``, ``Starlette(lifespan=...)``), a server's ``startup`` /
``shutdown`` method, or a root the project declares (``lifecycle-roots``). A *main coroutine*
runs once, but what it does in its loops repeats while the program serves: the coroutine handed
to a loop entry (``asyncio.run(main())``, ``anyio.run(main)``, a project helper that runs what it
is handed on a loop of its own, a decorator whose wrapper does that), a server's ``serve`` method,
and an object's ``start`` or ``stop`` method (a client's, a service's; also ``login``, ``launch``,
``aclose``... and any method whose name starts with such a word, ``_start_session``)
and a command-line command (``@app.command()`` of typer, click or cyclopts, an ``async def`` of
a ``cli`` module), each unless the project calls it from code that may run while the program
serves (calls from test code do not count).
The loops that repeat are ``while`` loops and ``async for`` (a stream, a subscription); a sync
``for`` runs once per item of what it holds when it starts.

Then, through the project's calls between ``async def`` functions (a call to a method also
counts for every override in a project subclass): a function runs wholly at start-up or
shutdown when every call to it comes from such a function; it runs once when every call to it
comes from one of those, or from a function that runs once, outside that function's loops. A
function passed along by reference (a callback) may be called any time: it is neither. A
finding belongs to the start-up tier when its ``async def`` runs wholly at start-up or
shutdown, or runs once and the finding's call is outside its loops.
"""

from __future__ import annotations

from collections.abc import Iterable

from unstall.catalog import BoundaryKind, Catalog
from unstall.check._modules import is_test_module
from unstall.check._resolve import Project, ValueKind
from unstall.check._summary_types import CALL, IN_LOOP, REFERENCE, Param, Use

__all__ = ("Lifecycle",)

# A function of the project, by its summary's index and key.
Function = tuple[int, str]


class Lifecycle:
    """The ``async def`` functions of a project that run at start-up or shutdown, and why."""

    def __init__(self, project: Project, catalog: Catalog, roots: Iterable[str] = ()) -> None:
        self.project = project
        self.catalog = catalog
        self._declared = frozenset(roots)
        self.why: dict[Function, str] = {}
        # The ones marked by a name that says they run as the program starts (a ``startup``
        # method, a ``lifespan`` handler, ``@before_server_start``): see :meth:`starting`.
        self._starts_up: set[Function] = set()
        self._main: set[Function] = set()
        self._callers: dict[Function, list[tuple[Function, bool]]] = {}
        self._escaped: set[Function] = set()
        # Start/stop methods and command-line commands: they run once (per object, per
        # invocation) unless called from code that serves. Each with the reason to give.
        self._once_unless_served: dict[Function, str] = {}
        self._subclasses = self._subclass_index()
        self._descendants_of: dict[Function, list[Function]] = {}
        self._runners, self._runner_decorators = self._loop_runners()
        self._scan()
        self.whole, self.once = self._settle()

    def starting(self) -> list[Function]:
        """The functions that run while the program starts, before it serves, by what marks
        them (a lifespan or start-up handler, a start method): where a cache they fill is
        warm for every request. Shutdown code, and code marked for both, are left out."""
        found = {function for function in self._starts_up if function in self.whole}
        # and what only they call (a lifespan's ``await initialize()``)
        changed = True
        while changed:
            changed = False
            for function in self.whole - found:
                calls = self._callers.get(function)
                if calls and all(caller in found for caller, _ in calls):
                    found.add(function)
                    changed = True
        return sorted(found)

    def reason(self, function: Function, *, in_loop: bool) -> str | None:
        """Why a call in ``function`` (``in_loop``: inside one of its loops) runs only at
        start-up or shutdown, or ``None`` when it may run while the program serves."""
        if function in self.whole or (function in self.once and not in_loop):
            return self.why.get(function, "only called at start-up or shutdown")
        return None

    # -- what each function's code says ---------------------------------------------------------

    def _scan(self) -> None:
        project = self.project
        decorators = self.catalog.boundary_names(BoundaryKind.LIFECYCLE_DECORATOR)
        decorator_tails = self.catalog.boundary_suffixes(BoundaryKind.LIFECYCLE_DECORATOR)
        methods = self.catalog.boundary_suffixes(BoundaryKind.LIFECYCLE_METHOD)
        mains = self.catalog.boundary_suffixes(BoundaryKind.MAIN_METHOD)
        starts = self.catalog.boundary_suffixes(BoundaryKind.START_METHOD)
        commands = self.catalog.boundary_names(BoundaryKind.COMMAND_DECORATOR)
        command_words = frozenset(name.rpartition(".")[2] for name in commands)
        for index, functions in enumerate(project.functions):
            summary = project.summaries[index]
            in_tests = is_test_module(summary.module, summary.is_package)
            command_line = _is_command_line(summary.module)
            for key, info in functions.items():
                function = (index, key)
                if info.is_async:
                    owner, _, method = key.rpartition(".")
                    if not owner:
                        method = ""  # a module-level function: no method name to go by
                    if project.qualified(index, key) in self._declared:
                        self.why[function] = "declared start-up or shutdown code"
                    elif method in methods:
                        self.why[function] = f"{method} method"
                        self._note_start(function, method)
                    elif method in mains:
                        self.why[function] = f"{method} method"
                        self._main.add(function)
                    elif method in starts:
                        self._once_unless_served[function] = (
                            f"{method} method: it runs once per object it starts"
                        )
                    elif method and (word := _leading_word(method)) in starts:
                        self._once_unless_served[function] = (
                            f"named for a {word} (`{method}`): it runs once per object it "
                            "starts or stops"
                        )
                    elif command_line:
                        self._once_unless_served[function] = (
                            "a command of a command-line module: it runs once per invocation"
                        )
                    for ref in info.decorators:
                        name = self._name(ref.removesuffix("()"))
                        tail = ref.removesuffix("()").rpartition(".")[2]
                        if name in decorators or tail in decorator_tails:
                            self.why[function] = f"@{tail} handler"
                            self._note_start(function, name or tail)
                        elif name in commands or (
                            tail in command_words
                            and self._marked_command(ref.removesuffix("()"), commands)
                        ):
                            self._once_unless_served[function] = (
                                f"a command-line command (@{tail}): it runs once per invocation"
                            )
                        elif self._runner_decorators and self._is_project_function(
                            ref, self._runner_decorators
                        ):
                            self._run_by_loop(function)
                if in_tests:
                    continue  # a test drives what it calls; it says nothing of a serving program
                # A command-line module's sync code that calls an ``async def`` directly calls
                # a command its decorator made runnable (``def main(): cli()`` with asyncclick):
                # once per invocation, as if nothing called it.
                invokes = command_line and not info.is_async
                for use in info.uses:
                    self._use(function, info.uses, use, invokes=invokes)

    def _use(
        self, caller: Function, uses: tuple[Use, ...], use: Use, *, invokes: bool = False
    ) -> None:
        if use.kind not in (CALL, REFERENCE):
            return
        target = self._async_function(use.ref)
        if target is None:
            return
        if (
            invokes
            and use.kind == CALL
            and _is_command_line(self.project.summaries[target[0]].module)
        ):
            return
        parent = uses[use.parent] if 0 <= use.parent < len(uses) else None
        if use.kind == REFERENCE:
            runner = self._through_partial(uses, parent)
            if runner is not None and (
                self._is_loop_entry(runner) or self._main_registration(runner, use)
            ):
                self._run_by_loop(target)  # ``anyio.run(main)``, ``run(partial(serve, app))``
                return
            found = (
                self._registered(parent, use, BoundaryKind.LIFECYCLE_REGISTRATION)
                if parent is not None
                else None
            )
            if found is not None:
                name, keyword = found
                self.why[target] = (
                    f"{keyword} handler"
                    if keyword
                    else f"registered with {name.rpartition('.')[2]}"
                )
                self._note_start(target, keyword or name)
            else:
                self._escaped.add(target)  # passed along: whoever holds it may call it any time
            return
        if parent is not None and self._is_loop_entry(parent):
            self._run_by_loop(target)
            return
        in_loop = bool(use.flags & IN_LOOP)
        for function in (target, *self._overrides(target)):
            self._callers.setdefault(function, []).append((caller, in_loop))

    def _run_by_loop(self, target: Function) -> None:
        """``target`` is the coroutine a loop runs from start to end: a main coroutine."""
        self.why.setdefault(target, "the coroutine a loop runs")
        if self.why[target] == "the coroutine a loop runs":
            self._main.add(target)

    def _through_partial(self, uses: tuple[Use, ...], parent: Use | None) -> Use | None:
        """The call a function reference is handed to, looking through ``functools.partial``."""
        if parent is None:
            return None
        if self._matches(parent.ref, BoundaryKind.PARTIAL) is not None:
            return uses[parent.parent] if 0 <= parent.parent < len(uses) else None
        return parent

    def _loop_runners(self) -> tuple[frozenset[Function], frozenset[Function]]:
        """The project's plain functions that run a coroutine they are handed on a loop of their
        own (``def run_sync(coro_func): return loop.run_until_complete(coro_func())``,
        ``def run(coro): asyncio.run(coro)``: a call to one is a loop entry too), and the
        decorators whose wrapper does that with the function they decorate
        (``return asyncio.run(func(*args, **kwargs))``: what they decorate is a main coroutine)."""
        runners: set[Function] = set()
        decorators: set[Function] = set()
        for index, functions in enumerate(self.project.functions):
            for key, info in functions.items():
                if info.is_async:
                    continue
                for use in info.uses:
                    handed: list[object]
                    if use.kind == REFERENCE and 0 <= use.parent < len(info.uses):
                        # ``pool.submit(asyncio.run, coro)``: the entry runs, in a thread, the
                        # coroutine handed with it.
                        if self._matches(use.ref, BoundaryKind.LOOP_ENTRY) is None:
                            continue
                        use = info.uses[use.parent]
                        handed = [
                            value.name for _, value in use.keywords if isinstance(value, Param)
                        ]
                        if not handed:
                            continue
                    else:
                        handed = [
                            value.name if isinstance(value, Param) else value
                            for name, value in use.keywords
                            if name == "()" or isinstance(value, Param)
                        ]
                        if (
                            use.kind != CALL
                            or not handed
                            or self._matches(use.ref, BoundaryKind.LOOP_ENTRY) is None
                        ):
                            continue
                    for name in handed:
                        if name in info.params or name in info.keyword_only:
                            runners.add((index, key))
                            continue
                        outer = key.rpartition(".")[0]
                        while outer:
                            enclosing = functions.get(outer)
                            if enclosing is not None and name in enclosing.params:
                                decorators.add((index, outer))
                                break
                            outer = outer.rpartition(".")[0]
        return frozenset(runners), frozenset(decorators)

    def _subclass_index(self) -> dict[Function, list[Function]]:
        """Each project class's direct project subclasses."""
        found: dict[Function, list[Function]] = {}
        for index, classes in enumerate(self.project.classes):
            for key, info in classes.items():
                for base in info.bases:
                    value = self.project.resolve(base)
                    if value is not None and value.kind is ValueKind.CLASS:
                        found.setdefault((value.summary, value.name), []).append((index, key))
        return found

    def _overrides(self, method: Function) -> list[Function]:
        """The methods of project subclasses that override ``method`` (a call may run any of them)."""
        index, key = method
        owner, _, name = key.rpartition(".")
        if not owner or (index, owner) not in self._subclasses:
            return []
        found: list[Function] = []
        for current in self._descendants((index, owner)):
            override = f"{current[1]}.{name}"
            if override in self.project.functions[current[0]]:
                found.append((current[0], override))
        return found

    def _descendants(self, owner: Function) -> list[Function]:
        """A project class's project subclasses, direct or not (the first 200), found once."""
        known = self._descendants_of.get(owner)
        if known is not None:
            return known
        found: list[Function] = []
        pending = list(self._subclasses[owner])
        seen: set[Function] = set()
        while pending and len(seen) < 200:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            found.append(current)
            pending.extend(self._subclasses.get(current, ()))
        self._descendants_of[owner] = found
        return found

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

    def _note_start(self, function: Function, name: str) -> None:
        """``function`` is start-up or shutdown code by ``name`` (a method name, a decorator's
        or a registration's name, a keyword): note it when the name says start-up."""
        if not _STARTING.isdisjoint(name.split(".")):
            self._starts_up.add(function)

    def _main_registration(self, parent: Use, use: Use) -> bool:
        """Whether the function ``use`` passes to the call ``parent`` becomes a main coroutine
        (``subparser.set_defaults(func=pair)``)."""
        return self._registered(parent, use, BoundaryKind.MAIN_REGISTRATION) is not None

    def _registered(
        self, parent: Use, use: Use, kind: BoundaryKind
    ) -> tuple[str, str | None] | None:
        """The registration of ``kind`` the call ``parent`` is, and the keyword ``use`` is
        passed as, when the row takes it there (a row with ``keywords`` takes only those)."""
        found = self._matches(parent.ref, kind)
        if found is None:
            return None
        row = self.catalog.boundary(found)
        keyword = next((str(name) for key, name in use.keywords if key == "="), None)
        if row is not None and row.keywords and keyword not in row.keywords:
            return None
        return found, keyword

    def _is_loop_entry(self, parent: Use) -> bool:
        if self._matches(parent.ref, BoundaryKind.LOOP_ENTRY) is not None:
            return True
        return bool(self._runners) and self._is_project_function(parent.ref, self._runners)

    def _marked_command(self, ref: str, commands: frozenset[str]) -> bool:
        """Whether ``ref`` (``group.command``) is a decorator of a project function that a
        command decorator marks: a click group's ``@group.command()``."""
        value = self.project.resolve(ref.rpartition(".")[0])
        if value is None or value.kind is not ValueKind.FUNCTION:
            return False
        info = self.project.functions[value.summary].get(value.name)
        return info is not None and any(
            self._name(marker.removesuffix("()")) in commands for marker in info.decorators
        )

    def _is_project_function(self, ref: str, among: frozenset[Function]) -> bool:
        value = self.project.resolve(ref)
        return (
            value is not None
            and value.kind is ValueKind.FUNCTION
            and (value.summary, value.name) in among
        )

    # -- once per process ---------------------------------------------------------------------

    def _settle(self) -> tuple[frozenset[Function], frozenset[Function]]:
        """The functions that run wholly at start-up or shutdown, and those that run once."""
        whole = {function for function in self.why if function not in self._main}
        once = set(self.why)
        candidates = [
            function
            for function, calls in self._callers.items()
            if function not in once and function not in self._escaped and calls
        ]
        # Such a method or command runs once even when nothing in the project calls it.
        candidates.extend(
            function
            for function in self._once_unless_served
            if function not in once
            and function not in self._escaped
            and function not in self._callers
        )
        changed = True
        while changed:
            changed = False
            for function in candidates:
                calls = self._callers.get(function, [])
                if calls and function not in whole and all(caller in whole for caller, _ in calls):
                    whole.add(function)
                    once.add(function)
                    changed = True
                elif function not in once and all(
                    caller in whole or (caller in once and not in_loop) for caller, in_loop in calls
                ):
                    once.add(function)
                    changed = True
                    if function in self._once_unless_served:
                        self.why[function] = self._once_unless_served[function]
        return frozenset(whole), frozenset(once)


# Module names of a program's command line: ``pkg/cli.py``, ``pkg/cli/__init__.py``,
# ``pkg/__main__.py``. Not the rest of a ``cli`` package: a server the command line starts
# often lives there (``pkg/cli/fileserver.py``), and its handlers serve.
_COMMAND_LINE = frozenset({"cli", "__main__"})


# The names (or parts of a dotted name) that mark code run as the program starts: a start-up
# method, a start-up handler's decorator or registration, a registration's keyword.
_STARTING = frozenset(
    {
        "lifespan",
        "on_startup",
        "startup",
        "start",
        "async_start",
        "before_serving",
        "setup_hook",
        "post_init",
        "before_server_start",
        "after_server_start",
        "main_process_start",
        "main_process_ready",
        "initialize",
    }
)


def _leading_word(name: str) -> str:
    """The first word of a method's name, without leading underscores or an ``async_`` prefix:
    ``start`` for ``_start_session`` and ``async_start_server``."""
    return name.lstrip("_").removeprefix("async_").partition("_")[0]


def _is_command_line(module: str) -> bool:
    """Whether the module of dotted name ``module`` is a program's command line, whose ``async
    def`` commands run once per invocation (what they do in loops repeats)."""
    return module.rpartition(".")[2] in _COMMAND_LINE
