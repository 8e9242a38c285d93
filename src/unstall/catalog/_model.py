"""Value types of the catalog of blocking callables."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ("Entry", "Kind", "KindInfo", "Offload")


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
    """A kind's rule: its code, a short title, why it blocks, and the usual fix."""

    kind: Kind
    code: str
    title: str
    why: str
    offload: Offload


@dataclass(frozen=True, slots=True)
class Entry:
    """One known blocking callable.

    ``name`` is the public qualified name (``"time.sleep"``, ``"requests.Session.get"``,
    ``"builtins.open"``); a method is named through its class. ``aliases`` are other
    qualified names of the same callable (``"requests.api.get"``). ``fix`` is a mechanical
    rewrite template or ``None``: ``{args}`` stands for the call's argument source text,
    ``{func}`` for the callee's source text. ``nonblocking`` lists ``keyword=value`` call
    arguments that make the call return at once (``"blocking=False"``). ``returns`` is the
    qualified type name of what the call returns, when the analysis should track it
    (``builtins.open`` returns ``"io.IOBase"``); ``yields`` the qualified type of each item
    when the result is iterated (``pathlib.Path.glob`` yields ``"pathlib.Path"``).
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
    nonblocking: tuple[str, ...] = ()
    returns: str | None = None
    audit_event: str | None = None
    offload: Offload = Offload.THREAD
    example: str | None = None
    yields: str | None = None

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
