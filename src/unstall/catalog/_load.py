"""Load the catalog table (``blocking.toml``) and users' extensions into a :class:`Catalog`."""

from __future__ import annotations

import functools
import hashlib
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

from unstall.catalog._model import Entry, Kind, KindInfo, Offload
from unstall.errors import CatalogError

__all__ = ("Catalog", "default_catalog", "entry_from_table")

_ENTRY_KEYS = frozenset(
    {"name", "kind", "why", "alternative", "fix", "aliases", "nonblocking", "returns", "audit_event", "offload", "example"}
)
_REQUIRED = ("name", "kind", "why", "alternative")


class Catalog:
    """The table of known blocking callables, indexed by every qualified name and audit event.

    Instances are immutable once built; :meth:`extended` returns a new catalog.
    ``types`` maps qualified names of non-blocking factories (``sqlite3.Connection.cursor``)
    to the qualified type they return, so the analysis can follow instances.
    """

    __slots__ = ("_by_event", "_by_name", "digest", "entries", "kinds", "types")

    def __init__(self, kinds: Mapping[Kind, KindInfo], entries: Iterable[Entry], types: Mapping[str, str]) -> None:
        self.kinds: Mapping[Kind, KindInfo] = dict(kinds)
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.types: Mapping[str, str] = dict(types)
        self._by_name: dict[str, Entry] = {}
        self._by_event: dict[str, list[Entry]] = {}
        for entry in self.entries:
            for name in entry.names:
                self._by_name[name] = entry
            if entry.audit_event:
                self._by_event.setdefault(entry.audit_event, []).append(entry)
        for entry in self.entries:
            if entry.returns and entry.name not in self.types:
                self.types = {**self.types, entry.name: entry.returns}
        hasher = hashlib.sha256()
        for entry in self.entries:
            hasher.update(repr(entry).encode())
        for name, returned in sorted(self.types.items()):
            hasher.update(f"{name}->{returned}".encode())
        self.digest = hasher.hexdigest()

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def lookup(self, name: str) -> Entry | None:
        """The entry whose qualified name or alias is ``name``, or ``None``."""
        return self._by_name.get(name)

    def by_audit_event(self, event: str) -> tuple[Entry, ...]:
        """Entries the runtime tripwire maps the ``sys.audit`` event ``event`` to."""
        return tuple(self._by_event.get(event, ()))

    def returns(self, name: str) -> str | None:
        """Qualified type returned by calling ``name``, when the catalog knows it."""
        return self.types.get(name)

    def kind_info(self, kind: Kind) -> KindInfo:
        """The rule (code, title, why, offload) of ``kind``."""
        return self.kinds[kind]

    def codes(self) -> tuple[str, ...]:
        """Every rule code of a kind, sorted."""
        return tuple(sorted(info.code for info in self.kinds.values()))

    def extended(self, tables: Iterable[Mapping[str, Any]], *, source: str = "configuration") -> Catalog:
        """A new catalog with user entries (same keys as ``[[entry]]`` in the table) added.

        A user entry replaces a built-in one of the same name. Raises :class:`CatalogError`
        naming the bad entry and key.
        """
        extra = [entry_from_table(table, self.kinds, source=source) for table in tables]
        replaced = {name for entry in extra for name in entry.names}
        kept = [entry for entry in self.entries if not (set(entry.names) & replaced)]
        return Catalog(self.kinds, [*kept, *extra], self.types)


def _str_tuple(value: Any, key: str, name: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise CatalogError(f"Catalog entry {name!r} in {source}: {key!r} must be a string or a list of strings, got {value!r}.", entry=name)


def entry_from_table(table: Mapping[str, Any], kinds: Mapping[Kind, KindInfo], *, source: str) -> Entry:
    """Build an :class:`Entry` from one ``[[entry]]`` table, validating every key."""
    name = table.get("name")
    if not isinstance(name, str) or not name or any(not part.isidentifier() for part in name.split(".")):
        raise CatalogError(f"A catalog entry in {source} has 'name' = {name!r}; it must be a dotted qualified name such as 'time.sleep'.")
    unknown = sorted(set(table) - _ENTRY_KEYS)
    if unknown:
        raise CatalogError(
            f"Catalog entry {name!r} in {source} has unknown key(s) {', '.join(map(repr, unknown))}; valid keys are {', '.join(sorted(_ENTRY_KEYS))}.",
            entry=name,
        )
    for key in _REQUIRED:
        if not isinstance(table.get(key), str) or not table[key]:
            raise CatalogError(f"Catalog entry {name!r} in {source} needs a non-empty string {key!r}.", entry=name)
    try:
        kind = Kind(table["kind"])
    except ValueError:
        raise CatalogError(
            f"Catalog entry {name!r} in {source} has kind {table['kind']!r}; valid kinds are {', '.join(k.value for k in Kind)}.",
            entry=name,
        ) from None
    info = kinds[kind]
    offload_value = table.get("offload", info.offload.value)
    try:
        offload = Offload(offload_value)
    except ValueError:
        raise CatalogError(
            f"Catalog entry {name!r} in {source} has offload {offload_value!r}; valid values are {', '.join(o.value for o in Offload)}.",
            entry=name,
        ) from None
    optional: dict[str, str | None] = {}
    for key in ("fix", "returns", "audit_event", "example"):
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise CatalogError(f"Catalog entry {name!r} in {source}: {key!r} must be a string, got {value!r}.", entry=name)
        optional[key] = value
    return Entry(
        name=name,
        kind=kind,
        code=info.code,
        why=table["why"],
        alternative=table["alternative"],
        fix=optional["fix"],
        aliases=_str_tuple(table.get("aliases", []), "aliases", name, source),
        nonblocking=_str_tuple(table.get("nonblocking", []), "nonblocking", name, source),
        returns=optional["returns"],
        audit_event=optional["audit_event"],
        offload=offload,
        example=optional["example"],
    )


def _kinds_from_table(raw: Mapping[str, Any]) -> dict[Kind, KindInfo]:
    kinds: dict[Kind, KindInfo] = {}
    for kind in Kind:
        table = raw.get(kind.value)
        if not isinstance(table, Mapping):
            raise CatalogError(f"The catalog has no [kinds.{kind.value}] table.")
        kinds[kind] = KindInfo(
            kind=kind,
            code=str(table["code"]),
            title=str(table["title"]),
            why=str(table["why"]),
            offload=Offload(table.get("offload", "thread")),
        )
    return kinds


@functools.cache
def default_catalog() -> Catalog:
    """The built-in catalog shipped with unstall (parsed once, then cached)."""
    text = resources.files("unstall.catalog").joinpath("blocking.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    kinds = _kinds_from_table(raw.get("kinds", {}))
    entries = [entry_from_table(table, kinds, source="the built-in catalog") for table in raw.get("entry", [])]
    types: dict[str, str] = {}
    for table in raw.get("type", []):
        types[str(table["name"])] = str(table["returns"])
    seen: dict[str, str] = {}
    for entry in entries:
        for name in entry.names:
            if name in seen:
                raise CatalogError(f"The built-in catalog names {name!r} twice (in {seen[name]!r} and {entry.name!r}).", entry=name)
            seen[name] = entry.name
    return Catalog(kinds, entries, types)
