"""Value types of the catalog of blocking callables."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = (
    "Boundary",
    "BoundaryKind",
    "Condition",
    "Entry",
    "Kind",
    "KindInfo",
    "Match",
    "Offload",
    "Rule",
)


class Kind(enum.Enum):
    """What kind of work a blocking callable does; each kind has one rule code."""

    SLEEP = "sleep"
    FILE = "file"
    NETWORK = "network"
    DNS = "dns"
    SSL = "ssl"
    SUBPROCESS = "subprocess"
    DATABASE = "database"
    THREAD = "thread"
    CPU = "cpu"
    IMPORT = "import"


class Offload(enum.Enum):
    """Where work of a kind belongs when it cannot be made async-native."""

    THREAD = "thread"
    PROCESS = "process"


@dataclass(frozen=True, slots=True)
class KindInfo:
    """A kind's rule: its code, a short title, why it blocks, and the usual fix.

    ``severity`` orders kinds when one call reaches several blocking calls (the highest is
    reported first: a network call before a ``stat``). ``not_flagged`` says what looks like
    this kind of work but is left out on purpose (pure
    path-string functions for the file system), for the rule reference. ``equivalents`` are
    other linters' codes for the same problem (flake8-async and ruff's ``ASYNC251`` for a
    blocking sleep): their ``# noqa`` comments suppress this rule too.
    """

    kind: Kind
    code: str
    title: str
    why: str
    offload: Offload
    not_flagged: str = ""
    equivalents: tuple[str, ...] = ()
    severity: int = 0


class Match(enum.Enum):
    """How a :class:`Condition` tests the argument it names."""

    EQUALS = "equals"  # the argument is this literal (``blocking=False``)
    GIVEN = "given"  # the argument is given, with any value but ``None`` (``fileobj=*``)
    FLAG = "flag"  # the argument holds this named constant, alone or OR-ed with others
    ABSENT = "absent"  # the argument is not given at all (``Queue()`` without ``maxsize``)
    MADE = "made"  # the argument is a new object of this class (``io.BytesIO()``: in memory)


@dataclass(frozen=True, slots=True)
class Condition:
    """One argument with which a blocking callable returns at once: a parsed ``nonblocking`` item.

    ``keyword`` names the argument; ``position`` is its index when given positionally (from 0,
    not counting ``self``), or ``None`` when only the keyword counts. ``value`` is the literal
    for :attr:`Match.EQUALS` and the dotted constant (``"socket.AI_NUMERICHOST"``) for
    :attr:`Match.FLAG`. ``text`` is the item as written in the table (``"flags@5=socket.AI_NUMERICHOST"``).
    ``receiver`` makes it a condition on the call that created the receiver instead
    (``new.type@1=socket.SOCK_DGRAM``: ``connect`` on a socket made for UDP returns at once).
    """

    keyword: str
    position: int | None
    match: Match
    value: bool | int | float | str | None
    text: str
    receiver: bool = False

    def __str__(self) -> str:
        return self.text

    @property
    def keys(self) -> frozenset[str]:
        """How the analysis names the argument: the keyword, and ``"@N"`` for position N."""
        if self.position is None:
            return frozenset({self.keyword})
        return frozenset({self.keyword, f"@{self.position}"})

    def accepts(self, given: object) -> bool:
        """Whether an argument value meets the condition.

        ``given`` is a literal (``False``, ``0``, ``"x"``), a frozenset of the dotted named
        constants OR-ed together (``frozenset({"socket.AI_NUMERICHOST"})``) or of the new
        in-memory buffer it is (``frozenset({"io.BytesIO()"})``), or ``...`` for a value not
        known before run time (which meets only :attr:`Match.GIVEN`).
        """
        if self.match is Match.ABSENT:
            return False  # met only where the argument is missing (see the analysis)
        if self.match is Match.GIVEN:
            return given is not None
        if self.match is Match.FLAG:
            return isinstance(given, frozenset) and self.value in given
        if self.match is Match.MADE:
            return isinstance(given, frozenset) and f"{self.value}()" in given
        return given is not ... and not isinstance(given, frozenset) and given == self.value


class BoundaryKind(enum.Enum):
    """What a :class:`Boundary` does to the code handed to it."""

    OFFLOAD = "offload"  # runs what it is given in a thread, a process or elsewhere: off the loop
    PARTIAL = "partial"  # wraps a callable: what it wraps runs wherever the wrapper runs
    # The framework runs the decorated function in a thread pool.
    THREADPOOL_DECORATOR = "threadpool-decorator"
    CONTEXT_MANAGER = "context-manager"  # makes a generator function a context manager
    MEMOIZE = "memoize"  # caches the decorated function's result: only a first call does the work
    # The decorated function runs at process start-up or shutdown (``@app.before_server_start``).
    LIFECYCLE_DECORATOR = "lifecycle-decorator"
    # The functions passed to it run at start-up or shutdown (``app.on_startup.append(init)``,
    # ``Starlette(lifespan=...)``).
    LIFECYCLE_REGISTRATION = "lifecycle-registration"
    LIFECYCLE_METHOD = "lifecycle-method"  # a method so named is a server's start-up or shutdown
    # A method so named is a program's or server's main coroutine: it runs once, and what it
    # does in its loops repeats (``serve``).
    MAIN_METHOD = "main-method"
    # A method so named starts or stops an object that lives on (a client, a service): it runs
    # once per object, what it does in its loops repeats; a call from code that may run while
    # the program serves makes it ordinary code again (``start``).
    START_METHOD = "start-method"
    LOOP_ENTRY = "loop-entry"  # runs the coroutine it is given as a whole loop's life (asyncio.run)
    # What is passed to it is a program's main coroutine: a command-line sub-command
    # (``subparser.set_defaults(func=pair)``, run once by ``await args.func(args)``).
    MAIN_REGISTRATION = "main-registration"
    # The decorated function is a command-line command (``@app.command()`` of typer, click,
    # cyclopts): one invocation of the program runs it once, what it does in its loops repeats;
    # a call from code that may run while the program serves makes it ordinary code again.
    COMMAND_DECORATOR = "command-decorator"
    # The decorated method runs while an object is built (a pydantic validator): like
    # ``__init__``, what it fills once is warm for the object's ``async def`` methods.
    CONSTRUCTION_DECORATOR = "construction-decorator"


@dataclass(frozen=True, slots=True)
class Boundary:
    """A callable the analysis treats specially because of where the code given to it runs.

    ``name`` is its qualified name; with ``tail`` N it is also recognised by its last N names
    alone, on a receiver whose type the analysis does not know (``loop.run_in_executor`` with
    1, ``app.on_startup.append`` with 2). ``asynchronous`` marks an async twin
    (``contextlib.asynccontextmanager``). ``keywords`` restricts a lifecycle registration to
    the functions passed as those keyword arguments (``Starlette(lifespan=...)``), and a thread-pool
    decorator to a call that sets them true (``@work(thread=True)``). ``forgets``
    marks a memo whose value does not last for every later call of the process (a time-to-live
    cache, one kept per instance): what start-up code fills in it is not warm later.
    """

    name: str
    kind: BoundaryKind
    why: str
    tail: int = 0
    asynchronous: bool = False
    keywords: tuple[str, ...] = ()
    forgets: bool = False

    @property
    def method(self) -> bool:
        """Whether it is also recognised by its last name on any receiver."""
        return self.tail == 1

    @property
    def suffix(self) -> str | None:
        """The dotted last names it is recognised by on any receiver, or ``None``."""
        return ".".join(self.name.split(".")[-self.tail :]) if self.tail else None


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule code that is not a kind of blocking callable: an awaited blocking call, or a file problem.

    ``flags`` says what it flags, ``example`` shows it, ``instead`` says what to do; the rule
    reference and ``unstall rules`` print them. ``name`` is the slug (``"blocking-call-awaited"``).
    ``equivalents`` are other linters' codes for the same problem (ruff's ``RUF006`` for a
    dropped task): their ``# noqa`` comments suppress this rule too.
    """

    code: str
    title: str
    why: str
    flags: str
    example: str
    instead: str
    equivalents: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The rule's slug: its title with hyphens."""
        return self.title.replace(" ", "-")

    @property
    def file_problem(self) -> bool:
        """Whether the rule reports a file that cannot be checked (the UNS9xx codes)."""
        return self.code.startswith("UNS9")


@dataclass(frozen=True, slots=True)
class Entry:
    """One known blocking callable.

    ``name`` is the public qualified name (``"time.sleep"``, ``"requests.Session.get"``,
    ``"builtins.open"``); a method is named through its class. ``aliases`` are other
    qualified names of the same callable (``"requests.api.get"``). ``fix`` is a mechanical
    rewrite template or ``None``: ``{args}`` stands for the call's argument source text,
    ``{func}`` for the callee's source text. ``nonblocking`` lists the arguments that make the
    call return at once, parsed from ``keyword=value`` items (``"blocking=False"``). ``returns`` is the
    qualified type name of what the call returns, when the analysis should track it
    (``builtins.open`` returns ``"io.IOBase"``); ``yields`` the qualified type of each item
    when the result is iterated (``pathlib.Path.glob`` yields ``"pathlib.Path"``).
    ``once`` says why the callable blocks only the first time it runs in a process (it fills
    a cache of its own), or is ``None``.
    ``audit_event`` is the ``sys.audit`` event the runtime tripwire maps to this entry, if
    CPython raises one. A ``name`` ending in ``.*`` (``"botocore.client.BaseClient.*"``)
    stands for every public method of the type that no other entry or ``[[type]]`` row names.
    A ``nonblocking`` item ``"keyword=*"`` means: the keyword given with any value but ``None``.
    ``"keyword@N=value"`` also matches the value given as the N-th positional argument (from 0,
    not counting ``self``). A dotted-name value (``"flags@5=socket.AI_NUMERICHOST"``) is a named
    constant: it matches that constant given alone or OR-ed with other named constants.
    """

    name: str
    kind: Kind
    code: str
    why: str
    alternative: str
    fix: str | None = None
    aliases: tuple[str, ...] = ()
    nonblocking: tuple[Condition, ...] = ()
    returns: str | None = None
    audit_event: str | None = None
    offload: Offload = Offload.THREAD
    example: str | None = None
    yields: str | None = None
    once: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The qualified name followed by every alias."""
        return (self.name, *self.aliases)

    def render_fix(self, func: str, args: str) -> str | None:
        """The fix for one call, or ``None`` when the entry has none.

        ``func`` is the callee's source text (``"time.sleep"``), ``args`` the source text
        between the call's parentheses (may be empty: ``"{func}, {args}"`` then renders
        without the dangling comma).
        """
        if self.fix is None:
            return None
        template = self.fix
        if not args.strip():
            template = template.replace(", {args}", "").replace("{args}", "")
        return template.replace("{func}", func).replace("{args}", args)

    def example_split(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The example as ``(import lines, body lines)``; both empty without an example.

        The leading ``import`` / ``from`` lines belong at module level, the rest runs inside
        an ``async def``; the body's last line calls this entry.
        """
        if not self.example:
            return (), ()
        lines = self.example.strip("\n").splitlines()
        cut = 0
        while cut < len(lines) and lines[cut].startswith(("import ", "from ")):
            cut += 1
        return tuple(lines[:cut]), tuple(lines[cut:])

    def example_module(self, function: str = "handler") -> str | None:
        """The example as a small module: its imports, then ``async def function():`` running the rest.

        The blocking call is the module's last line. ``None`` without an example.
        """
        imports, body = self.example_split()
        if not body:
            return None
        head = "\n".join(imports) + "\n\n\n" if imports else ""
        inner = "\n".join("    " + line for line in body)
        return f"{head}async def {function}():\n{inner}\n"
