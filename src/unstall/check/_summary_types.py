"""The per-file summary ``unstall check`` caches: small, picklable, and free of AST nodes.

A summary records what the project-wide analysis needs and nothing else: the functions,
methods and classes a module defines, the names its top level binds, and, per function, the
"uses" that may run other code (calls, attribute reads that may be properties, imports).

Callees are recorded symbolically as *references*: dotted strings resolved later against the
whole project. ``requests.get`` is a qualified name (imports already resolved), a segment
ending in ``()`` is the result of a call (``requests.Session().get``, ``app.db.Repo().session.get``
for ``self.session.get`` inside ``Repo``), and names bound only at a module's top level are
written through the module (``app.config.load_config``).

The many small records (uses, functions) are named tuples rather than dataclasses: a warm
run loads hundreds of thousands of them from the cache, and tuples are built several times
faster. Every field has a kind the cache codec (:mod:`unstall.check._codec`) can store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from unstall.check._concurrency_facts import Fact

__all__ = (
    "ASSIGN",
    "AWAITED",
    "CALL",
    "CONSUMED",
    "ENTER",
    "EQUALS",
    "HASATTR",
    "IMPORT",
    "IN_LAMBDA",
    "IN_LOOP",
    "ISINSTANCE",
    "IS_NONE",
    "ITERATES",
    "KEYED",
    "LAZY",
    "MODULE_CODE",
    "NO_LOOP",
    "PLAIN",
    "READ",
    "REFERENCE",
    "SCRIPT_CODE",
    "TRUTHY",
    "ClassInfo",
    "FunctionInfo",
    "Guard",
    "ModuleSummary",
    "Param",
    "Use",
)

# Use kinds.
CALL = 0
READ = 1  # an attribute read: runs a getter when the attribute is a property
IMPORT = 2  # an import statement: runs the module's top-level code the first time
# A function passed by reference to a call (``app.on_startup.append(init)``, ``on_startup=[init]``),
# not called: ``parent`` is the call; a keyword argument's name is in ``keywords`` as ("=", name).
REFERENCE = 3
# A parameter given a new value (``address = resolve(address)``): ``ref`` is the parameter's name.
# What the caller passed holds only up to a live one.
ASSIGN = 4

# Use flags.
AWAITED = 1  # the call is the operand of ``await``
CONSUMED = (
    2  # the call's result is iterated (``for``, comprehension, ``list(...)``, ``yield from``)
)
PLAIN = 4  # ``await`` can be put before the call without changing how the expression parses
IN_LAMBDA = 8  # the call is inside a lambda passed as an argument to the call ``parent``
ENTER = 16  # the implicit ``__enter__`` call of a ``with`` statement
# Iterating a name bound to a call's result (``rows = read(); for row in rows``): runs the
# call's body only when it is a generator function (its other effects were recorded at the call).
ITERATES = 32
# Inside a loop of its function that may repeat as long as the program runs: a ``while``, an
# ``async for`` (a stream, a subscription). A sync ``for`` runs once per item it holds now.
IN_LOOP = 64
# Inside a first-use guard that fills what it tests (``if self._x is None: self._x = ...``,
# ``if key not in cache: cache[key] = ...``): runs on the first call only.
LAZY = 128
# With LAZY, where what the guard fills is one item of a mapping (``if key not in cache:``, an
# ``except KeyError:`` set-up): it runs once per key, so filling one key warms no other.
KEYED = 256
# In a branch that runs only when no event loop is running in the thread (``except
# RuntimeError:`` of ``asyncio.get_running_loop()``, ``if not loop.is_running():``): never on
# the loop's thread, so never blocking it (:mod:`unstall.check._loop_guard`).
NO_LOOP = 512

# Guard tests (see ``Guard``).
TRUTHY = 0  # ``if param:``
IS_NONE = 1  # ``if param is None:``
EQUALS = 2  # ``if param == constant:`` (``is`` with True, False or a named constant too)
ISINSTANCE = 3  # ``if isinstance(param, T):``; the value is the tuple of type references
HASATTR = 4  # ``if hasattr(param, "name"):``; the value is the name

# The key of a module's top-level code, run when the module is first imported.
MODULE_CODE = "<module>"
# The key of what a module's ``if __name__ == "__main__":`` blocks run: only when the module is
# run as a program (its ``asyncio.run(main())`` tells the main coroutine), never on import.
SCRIPT_CODE = "<script>"


class Param(NamedTuple):
    """An argument value that is the calling function's own parameter, unchanged: the value
    the caller was given flows on into the callee (``verify_ssl`` passed on as ``verify_ssl``)."""

    name: str


class Guard(NamedTuple):
    """A condition on a parameter under which some uses run (``if verify_ssl:``).

    ``test`` is one of ``TRUTHY``, ``IS_NONE``, ``EQUALS``, ``ISINSTANCE``, ``HASATTR``;
    ``value`` what it compares with; ``negated`` flips it; ``parent`` is the index of the
    enclosing guard (every guard up the chain holds), or -1.
    """

    subject: str
    test: int
    value: object
    negated: bool
    parent: int = -1


class Use(NamedTuple):
    """One place where a function may run other code.

    ``ref`` is the symbolic callee (or the attribute read, or the absolute module name of an
    import). ``parent`` is the index (in the same function's uses) of the call whose arguments
    hold this one, or -1. ``keywords`` are the call's arguments by keyword, or ``"@N"`` for the
    N-th positional one: constants as they are, named constants as the frozenset of their
    references, the caller's own parameter as a :class:`Param`, anything else as ``...``;
    ``("#", N)`` counts the positional arguments, ``("*", True)`` marks ``*args`` or ``**kw``;
    ``("()", name)`` marks an argument that calls the caller's own parameter ``name``
    (``run_until_complete(coro_func())``), and ``("^", index)`` the use that made the receiver.
    ``guard`` is the index of the innermost :class:`Guard` of the function that holds it, or -1.
    ``func_text`` / ``args_text`` are the callee's and the arguments' source text, kept only in
    ``async def`` bodies where a fix may be written.
    """

    kind: int
    ref: str
    line: int
    col: int
    end_line: int
    end_col: int
    flags: int = 0
    parent: int = -1
    keywords: tuple[tuple[str, object], ...] = ()
    func_text: str | None = None
    args_text: str | None = None
    guard: int = -1


class FunctionInfo(NamedTuple):
    """A function, method, nested function, or a module's top-level code (key ``<module>``).

    ``key`` is the dotted path inside the module (``load``, ``Repo.load``, ``retry.wrapper``).
    ``decorators`` are references to the decorators (``@retry(3)`` gives ``app.retry()``,
    the decorator its factory returns). ``returns`` is the reference of what the function returns, when
    every ``return`` agrees (``requests.Session()``) or its annotation says. ``yields`` is, for a
    generator function, the reference of what it yields when every ``yield`` agrees: what
    ``with f() as value`` binds when a context-manager decorator wraps it.
    ``params`` are the parameters a call binds by position, in order (a method's ``self`` or
    ``cls`` left out); ``keyword_only`` those it binds by name only; ``defaults`` the constant
    default of each parameter that has one (``...`` for a default that is no constant);
    ``variadic`` says ``*args`` or ``**kwargs`` take the rest. ``guards`` are the conditions on
    parameters its uses run under (see :class:`Guard` and ``Use.guard``). ``sections`` are its
    sync ``with`` statements: each item's ``__enter__`` use and the range of uses its body holds
    (``(enter, start, end)``, ``end`` excluded): what runs while a lock is held.
    ``decorator_flags`` holds, for each decorator in order, the names of the arguments its call
    gives a true constant (``@work(thread=True)`` gives ``("thread",)``), or is empty.
    """

    key: str
    line: int
    col: int
    is_async: bool
    uses: tuple[Use, ...]
    is_generator: bool = False
    is_property: bool = False
    decorators: tuple[str, ...] = ()
    returns: str | None = None
    yields: str | None = None
    params: tuple[str, ...] = ()
    keyword_only: tuple[str, ...] = ()
    defaults: tuple[tuple[str, object], ...] = ()
    variadic: bool = False
    guards: tuple[Guard, ...] = ()
    sections: tuple[tuple[int, int, int], ...] = ()
    decorator_flags: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """A class: its key, base references, and attribute types (``self.session = requests.Session()``).

    ``made`` holds, for an attribute only ever given one call's result, that call's arguments as
    :attr:`Use.keywords` records them (``self._queue = queue.Queue()``: a catalog condition on
    how a receiver was made, such as an unbounded queue's ``put``, is met through it).
    """

    key: str
    line: int
    bases: tuple[str, ...]
    attributes: tuple[tuple[str, str], ...] = ()
    made: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class ModuleSummary:
    """Everything the analysis knows about one file.

    ``bindings`` maps names bound at the top level by imports or assignments to references
    (``""`` when the value is unknown); ``star_imports`` are modules imported with ``*``.
    ``insert_line`` is where a fix may insert an import (after the shebang, the coding
    cookie and any other leading comment, the docstring and the last top-level import).
    ``rebound`` are the standard modules' names (``asyncio``, and aliases like ``_asyncio``)
    that some scope of the file binds to anything but that module: a fix must not write them.
    """

    path: str
    module: str
    is_package: bool
    functions: tuple[FunctionInfo, ...]
    classes: tuple[ClassInfo, ...]
    bindings: tuple[tuple[str, str], ...]
    star_imports: tuple[str, ...] = ()
    insert_line: int = 1
    rebound: tuple[str, ...] = ()
    # What the concurrency rules (UNS3xx) need of the file (see ``_concurrency_facts``).
    concurrency: tuple[Fact, ...] = ()
