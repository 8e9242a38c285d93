"""Load the catalog table (``blocking.toml``) and users' extensions into a :class:`Catalog`."""

from __future__ import annotations

import functools
import hashlib
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from importlib import resources
from typing import Any

from unstall.catalog._async_api import AsyncApi, AsyncRole, async_api_from_table
from unstall.catalog._model import Boundary, BoundaryKind, Entry, Kind, KindInfo, Rule
from unstall.catalog._rows import (
    ANY_METHOD,
    boundary_from_table,
    check_unique,
    entry_from_table,
    kinds_from_table,
    rules_from_table,
    types_from_table,
)
from unstall.errors import CatalogError

__all__ = ("Catalog", "catalog_from_text", "default_catalog")


class Catalog:
    """The table of known blocking callables, indexed by every qualified name and audit event.

    Instances are immutable once built; :meth:`extended` returns a new catalog.
    ``types`` maps qualified names of non-blocking factories (``sqlite3.Connection.cursor``)
    to the qualified type they return, so the analysis can follow instances; entries with
    ``returns`` are in it too. ``elements`` maps qualified names to the type of each item of
    their result when it is iterated (``pathlib.Path.glob`` -> ``pathlib.Path``).
    ``apis`` are the ``[[async]]`` rows the concurrency rules read (see :meth:`async_roles`).
    """

    __slots__ = (
        "_async_by_name",
        "_async_by_receiver",
        "_boundary_methods",
        "_boundary_names",
        "_boundary_suffixes",
        "_by_event",
        "_by_name",
        "_by_owner",
        "apis",
        "boundaries",
        "digest",
        "elements",
        "entries",
        "kinds",
        "rules",
        "types",
    )

    def __init__(
        self,
        kinds: Mapping[Kind, KindInfo],
        entries: Iterable[Entry],
        types: Mapping[str, str],
        elements: Mapping[str, str] | None = None,
        *,
        rules: Mapping[str, Rule] | None = None,
        boundaries: Iterable[Boundary] = (),
        apis: Iterable[AsyncApi] = (),
    ) -> None:
        self.kinds: Mapping[Kind, KindInfo] = dict(kinds)
        self.apis: tuple[AsyncApi, ...] = tuple(apis)
        self._async_by_name: dict[str, dict[AsyncRole, AsyncApi]] = {}
        self._async_by_receiver: dict[tuple[AsyncRole, str], AsyncApi] = {}
        for api in self.apis:
            for name in api.names:
                self._async_by_name.setdefault(name, {})[api.role] = api
            if api.receiver is not None:
                self._async_by_receiver[api.role, api.name.rpartition(".")[2]] = api
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.rules: Mapping[str, Rule] = dict(rules or {})
        self.boundaries: tuple[Boundary, ...] = tuple(boundaries)
        self._boundary_names: dict[BoundaryKind, frozenset[str]] = {}
        self._boundary_methods: dict[BoundaryKind, frozenset[str]] = {}
        self._boundary_suffixes: dict[BoundaryKind, frozenset[str]] = {}
        for kind in BoundaryKind:
            rows = [row for row in self.boundaries if row.kind is kind]
            self._boundary_names[kind] = frozenset(row.name for row in rows)
            self._boundary_methods[kind] = frozenset(
                row.name.rpartition(".")[2] for row in rows if row.method
            )
            self._boundary_suffixes[kind] = frozenset(
                suffix for row in rows if (suffix := row.suffix) is not None
            )
        merged = dict(types)
        items = dict(elements or {})
        self._by_name: dict[str, Entry] = {}
        self._by_owner: dict[str, Entry] = {}
        self._by_event: dict[str, list[Entry]] = {}
        for entry in self.entries:
            for name in entry.names:
                self._by_name[name] = entry
                if name.endswith(ANY_METHOD):
                    self._by_owner[name.removesuffix(ANY_METHOD)] = entry
            if entry.audit_event:
                self._by_event.setdefault(entry.audit_event, []).append(entry)
            for name in entry.names:
                if entry.returns:
                    merged.setdefault(name, entry.returns)
                if entry.yields:
                    items.setdefault(name, entry.yields)
        self.types: Mapping[str, str] = merged
        self.elements: Mapping[str, str] = items
        hasher = hashlib.sha256()
        for info in self.kinds.values():
            hasher.update(repr(info).encode())
        for entry in self.entries:
            hasher.update(repr(entry).encode())
        for name, returned in sorted(self.types.items()):
            hasher.update(f"{name}->{returned}".encode())
        for name, item in sorted(self.elements.items()):
            hasher.update(f"{name}=>{item}".encode())
        for rule in self.rules.values():
            hasher.update(repr(rule).encode())
        for boundary in self.boundaries:
            hasher.update(repr(boundary).encode())
        for api in self.apis:
            hasher.update(repr(api).encode())
        self.digest = hasher.hexdigest()

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.lookup(name) is not None

    def __repr__(self) -> str:
        return f"<Catalog {len(self.entries)} entries, {len(self.types)} types>"

    def lookup(self, name: str) -> Entry | None:
        """The entry whose qualified name or alias is ``name``, or ``None``.

        A method that no entry names falls to its type's ``Type.*`` entry, unless it is
        private or a ``[[type]]`` row names it (a non-blocking helper such as
        ``get_paginator``).
        """
        entry = self._by_name.get(name)
        if entry is not None or not self._by_owner:
            return entry
        owner, _, method = name.rpartition(".")
        if not owner or method.startswith("_") or name in self.types:
            return None
        return self._by_owner.get(owner)

    def by_audit_event(self, event: str) -> tuple[Entry, ...]:
        """Entries the runtime tripwire maps the ``sys.audit`` event ``event`` to, in table order."""
        return tuple(self._by_event.get(event, ()))

    def by_kind(self, kind: Kind) -> tuple[Entry, ...]:
        """Entries of ``kind``, in table order."""
        return tuple(entry for entry in self.entries if entry.kind is kind)

    def returns(self, name: str) -> str | None:
        """Qualified type returned by calling ``name``, when the catalog knows it."""
        return self.types.get(name)

    def element(self, name: str) -> str | None:
        """Qualified type of each item of ``name``'s result when iterated, when the catalog knows it."""
        return self.elements.get(name)

    def kind_info(self, kind: Kind) -> KindInfo:
        """The rule (code, title, why, offload) of ``kind``."""
        return self.kinds[kind]

    def codes(self) -> tuple[str, ...]:
        """Every rule code of a kind, sorted."""
        return tuple(sorted(info.code for info in self.kinds.values()))

    def equivalents(self, code: str, entry: str | None) -> frozenset[str]:
        """Other linters' codes that mean the finding ``code`` about the blocking callable ``entry``.

        A kind's code has its kind's equivalents; an awaited blocking call (UNS201) has those of
        the awaited callable's kind.
        """
        found = self.lookup(entry) if entry is not None else None
        rule = self.rules.get(code)
        codes: set[str] = set(rule.equivalents) if rule is not None else set()
        for info in self.kinds.values():
            if info.code == code or (found is not None and found.kind is info.kind):
                codes.update(info.equivalents)
        return frozenset(codes)

    def all_codes(self) -> tuple[str, ...]:
        """Every rule code, of a kind or not (UNS201, UNS9xx), sorted."""
        return tuple(sorted({*self.codes(), *self.rules}))

    def boundary_names(self, kind: BoundaryKind) -> frozenset[str]:
        """Qualified names of the boundaries of ``kind``."""
        return self._boundary_names[kind]

    def boundary_methods(self, kind: BoundaryKind) -> frozenset[str]:
        """Last names by which boundaries of ``kind`` are recognised on a receiver of unknown type."""
        return self._boundary_methods[kind]

    def boundary_suffixes(self, kind: BoundaryKind) -> frozenset[str]:
        """The dotted last names (``on_startup.append``) boundaries of ``kind`` are recognised by."""
        return self._boundary_suffixes[kind]

    def boundary(self, name: str) -> Boundary | None:
        """The boundary row named ``name``, or ``None``."""
        return next((row for row in self.boundaries if row.name == name), None)

    def async_roles(self, name: str) -> Mapping[AsyncRole, AsyncApi]:
        """The ``[[async]]`` rows that name ``name`` (qualified name or alias), by role."""
        return self._async_by_name.get(name, {})

    def async_by_receiver(self, role: AsyncRole, method: str, receiver: str) -> AsyncApi | None:
        """The ``[[async]]`` row of ``role`` recognised by its last name ``method`` on a receiver
        of unknown type whose source text is ``receiver`` (``self._loop`` for ``create_task``)."""
        api = self._async_by_receiver.get((role, method))
        if api is None or api.receiver is None:
            return None
        last = receiver.rpartition(".")[2].lstrip("_").lower()
        return api if last.endswith(api.receiver) else None

    def extended(
        self,
        tables: Iterable[Mapping[str, Any]] = (),
        *,
        boundaries: Iterable[Boundary] = (),
        source: str = "configuration",
    ) -> Catalog:
        """A new catalog with user entries (same keys as ``[[entry]]`` in the table) and boundaries added.

        A user entry replaces every built-in entry that has one of its names (qualified name
        or alias). Raises :class:`CatalogError` naming the bad entry and key, or a name that
        two user entries both claim.
        """
        extra = [entry_from_table(table, self.kinds, source=source) for table in tables]
        check_unique(extra, source)
        replaced = {name for entry in extra for name in entry.names}
        kept = [entry for entry in self.entries if not (set(entry.names) & replaced)]
        return Catalog(
            self.kinds,
            [*kept, *extra],
            self.types,
            self.elements,
            rules=self.rules,
            boundaries=[*self.boundaries, *boundaries],
            apis=self.apis,
        )


def catalog_from_text(text: str, *, source: str = "the built-in table (blocking.toml)") -> Catalog:
    """Parse and validate a whole catalog table (the format of ``blocking.toml``)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"The catalog table in {source} is not valid TOML: {exc}.") from None
    valid = ("async", "boundary", "entry", "kinds", "rules", "type")
    unknown = sorted(set(raw) - set(valid))
    if unknown:
        raise CatalogError(
            f"The catalog table in {source} has unknown top-level key(s) {', '.join(map(repr, unknown))}; valid keys are {', '.join(valid)}."
        )
    kinds = kinds_from_table(raw.get("kinds"))
    tables = raw.get("entry", [])
    if not isinstance(tables, list) or not all(isinstance(table, Mapping) for table in tables):
        raise CatalogError(f"[[entry]] in {source} must be an array of tables.")
    # An entry may be reported under a rule of its own (``rule = "UNS305"``) instead of its kind's.
    ruled = {
        index: table["rule"]
        for index, table in enumerate(tables)
        if isinstance(table, Mapping) and "rule" in table
    }
    entries = [
        entry_from_table(
            {key: value for key, value in table.items() if key != "rule"},
            kinds,
            source=source,
            require_example=True,
        )
        for table in tables
    ]
    check_unique(entries, source)
    types, elements = types_from_table(raw.get("type", []), entries, source)
    rows = raw.get("boundary", [])
    if not isinstance(rows, list):
        raise CatalogError(f"[[boundary]] in {source} must be an array of tables.")
    boundaries = [boundary_from_table(row, source) for row in rows]
    names = [(row.kind, row.name) for row in boundaries]
    if len(set(names)) != len(names):
        raise CatalogError(f"A [[boundary]] row in {source} repeats another; keep one.")
    rules = rules_from_table(raw.get("rules", {}), kinds, source)
    for index, code in ruled.items():
        if code not in rules or rules[code].file_problem:
            raise CatalogError(
                f"Catalog entry {entries[index].name!r} in {source} has rule {code!r}; it must be the code of a [rules.CODE] table of the analysis (not UNS9xx)."
            )
        entries[index] = replace(entries[index], code=code)
    async_rows = raw.get("async", [])
    if not isinstance(async_rows, list):
        raise CatalogError(f"[[async]] in {source} must be an array of tables.")
    apis = [async_api_from_table(row, source) for row in async_rows]
    keys = [(api.role, name) for api in apis for name in api.names]
    if len(set(keys)) != len(keys):
        raise CatalogError(f"Two [[async]] rows in {source} give one name the same role; keep one.")
    return Catalog(kinds, entries, types, elements, rules=rules, boundaries=boundaries, apis=apis)


@functools.cache
def default_catalog() -> Catalog:
    """The built-in catalog shipped with unstall (parsed once, then cached)."""
    text = resources.files("unstall.catalog").joinpath("blocking.toml").read_text(encoding="utf-8")
    return catalog_from_text(text)
