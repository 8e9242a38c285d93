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
    (``builtins.open`` returns ``"io.IOBase"``). ``audit_event`` is the ``sys.audit`` event
    the runtime tripwire maps to this entry, if CPython raises one.
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

    @property
    def names(self) -> tuple[str, ...]:
        """The qualified name followed by every alias."""
        return (self.name, *self.aliases)
