"""Load the catalog table (``blocking.toml``) and users' extensions into a :class:`Catalog`."""

from __future__ import annotations

import functools
import hashlib
import re
import string
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

from unstall.catalog._model import Entry, Kind, KindInfo, Offload
from unstall.errors import CatalogError

__all__ = ("Catalog", "default_catalog", "entry_from_table")

_ENTRY_KEYS = frozenset(
    {
        "name",
        "kind",
        "why",
        "alternative",
        "fix",
        "aliases",
        "nonblocking",
        "returns",
        "audit_event",
        "offload",
        "example",
        "yields",
    }
)
_REQUIRED = ("name", "kind", "why", "alternative")
_TYPE_KEYS = frozenset({"name", "returns", "yields"})
_KIND_KEYS = frozenset({"code", "title", "why", "offload"})
_FIX_FIELDS = frozenset({"func", "args"})
_CODE = re.compile(r"UNS[1-8]\d\d")
_NONBLOCKING = re.compile(r"[A-Za-z_]\w*(@\d+)?=\S.*")
# A name that stands for every public method of a type: "botocore.client.BaseClient.*".
_ANY_METHOD = ".*"


class Catalog:
    """The table of known blocking callables, indexed by every qualified name and audit event.

    Instances are immutable once built; :meth:`extended` returns a new catalog.
    ``types`` maps qualified names of non-blocking factories (``sqlite3.Connection.cursor``)
    to the qualified type they return, so the analysis can follow instances; entries with
    ``returns`` are in it too. ``elements`` maps qualified names to the type of each item of
    their result when it is iterated (``pathlib.Path.glob`` -> ``pathlib.Path``).
    """

    __slots__ = (
        "_by_event",
        "_by_name",
        "_by_owner",
        "digest",
        "elements",
        "entries",
        "kinds",
        "types",
    )

    def __init__(
        self,
        kinds: Mapping[Kind, KindInfo],
        entries: Iterable[Entry],
        types: Mapping[str, str],
        elements: Mapping[str, str] | None = None,
    ) -> None:
        self.kinds: Mapping[Kind, KindInfo] = dict(kinds)
        self.entries: tuple[Entry, ...] = tuple(entries)
        merged = dict(types)
        items = dict(elements or {})
        self._by_name: dict[str, Entry] = {}
        self._by_owner: dict[str, Entry] = {}
        self._by_event: dict[str, list[Entry]] = {}
        for entry in self.entries:
            for name in entry.names:
                self._by_name[name] = entry
                if name.endswith(_ANY_METHOD):
                    self._by_owner[name.removesuffix(_ANY_METHOD)] = entry
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

    def extended(
        self, tables: Iterable[Mapping[str, Any]], *, source: str = "configuration"
    ) -> Catalog:
        """A new catalog with user entries (same keys as ``[[entry]]`` in the table) added.

        A user entry replaces every built-in entry that has one of its names (qualified name
        or alias). Raises :class:`CatalogError` naming the bad entry and key, or a name that
        two user entries both claim.
        """
        extra = [entry_from_table(table, self.kinds, source=source) for table in tables]
        _check_unique(extra, source)
        replaced = {name for entry in extra for name in entry.names}
        kept = [entry for entry in self.entries if not (set(entry.names) & replaced)]
        return Catalog(self.kinds, [*kept, *extra], self.types, self.elements)


def _is_pattern(value: object) -> bool:
    return isinstance(value, str) and value.endswith(_ANY_METHOD) and _is_qualified(value[:-2])


def _is_qualified(value: object) -> bool:
    return (
        isinstance(value, str)
        and bool(value)
        and all(part.isidentifier() for part in value.split("."))
    )


def _str_tuple(value: Any, key: str, name: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise CatalogError(
        f"Catalog entry {name!r} in {source}: {key!r} must be a string or a list of strings, got {value!r}.",
        entry=name,
    )


def _check_fix(fix: str, name: str, source: str) -> None:
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(fix) if field is not None]
    except ValueError as exc:
        raise CatalogError(
            f"Catalog entry {name!r} in {source} has fix {fix!r}, which is not a valid template ({exc}); use {{func}} and {{args}} as placeholders.",
            entry=name,
        ) from None
    bad = sorted({field for field in fields if field not in _FIX_FIELDS})
    if bad:
        raise CatalogError(
            f"Catalog entry {name!r} in {source} has fix {fix!r} with unknown placeholder(s) {', '.join(map(repr, bad))}; only {{func}} and {{args}} may appear.",
            entry=name,
        )


def entry_from_table(
    table: Mapping[str, Any],
    kinds: Mapping[Kind, KindInfo],
    *,
    source: str,
    require_example: bool = False,
) -> Entry:
    """Build an :class:`Entry` from one ``[[entry]]`` table, validating every key.

    ``require_example`` makes ``example`` mandatory (it is for the built-in table). Raises
    :class:`CatalogError` naming the entry, the key and the valid values.
    """
    name = table.get("name")
    if not _is_qualified(name) and not _is_pattern(name):
        raise CatalogError(
            f"A catalog entry in {source} has 'name' = {name!r}; it must be a dotted qualified name such as 'time.sleep', or a type's name followed by '.*' for all its methods."
        )
    assert isinstance(name, str)
    unknown = sorted(set(table) - _ENTRY_KEYS)
    if unknown:
        raise CatalogError(
            f"Catalog entry {name!r} in {source} has unknown key(s) {', '.join(map(repr, unknown))}; valid keys are {', '.join(sorted(_ENTRY_KEYS))}.",
            entry=name,
        )
    for key in _REQUIRED:
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise CatalogError(
                f"Catalog entry {name!r} in {source} needs a non-empty string {key!r}.", entry=name
            )
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
    for key in ("fix", "returns", "audit_event", "example", "yields"):
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise CatalogError(
                f"Catalog entry {name!r} in {source}: {key!r} must be a non-empty string, got {value!r}.",
                entry=name,
            )
        optional[key] = value
    if optional["fix"] is not None:
        _check_fix(optional["fix"], name, source)
    for key in ("returns", "yields"):
        if optional[key] is not None and not _is_qualified(optional[key]):
            raise CatalogError(
                f"Catalog entry {name!r} in {source} has {key} {optional[key]!r}; it must be a dotted qualified type name such as 'sqlite3.Connection'.",
                entry=name,
            )
    if require_example and optional["example"] is None:
        raise CatalogError(
            f"Catalog entry {name!r} in {source} has no 'example'; every built-in entry needs one (imports, then lines that end with the blocking call).",
            entry=name,
        )
    aliases = _str_tuple(table.get("aliases", []), "aliases", name, source)
    for alias in aliases:
        if not _is_qualified(alias) or alias == name:
            raise CatalogError(
                f"Catalog entry {name!r} in {source} has alias {alias!r}; aliases must be dotted qualified names other than the entry's own name.",
                entry=name,
            )
    nonblocking = _str_tuple(table.get("nonblocking", []), "nonblocking", name, source)
    for item in nonblocking:
        if not _NONBLOCKING.fullmatch(item):
            raise CatalogError(
                f"Catalog entry {name!r} in {source} has nonblocking {item!r}; each item must be 'keyword=value' or 'keyword@position=value', such as 'blocking=False' or 'blocking@0=False'.",
                entry=name,
            )
    return Entry(
        name=name,
        kind=kind,
        code=info.code,
        why=table["why"],
        alternative=table["alternative"],
        fix=optional["fix"],
        aliases=aliases,
        nonblocking=nonblocking,
        returns=optional["returns"],
        audit_event=optional["audit_event"],
        offload=offload,
        example=optional["example"],
        yields=optional["yields"],
    )


def _check_unique(entries: Iterable[Entry], source: str) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        for name in entry.names:
            if name in seen:
                raise CatalogError(
                    f"Two catalog entries in {source}, {seen[name]!r} and {entry.name!r}, both name {name!r}; give each name to one entry only.",
                    entry=name,
                )
            seen[name] = entry.name


def _kinds_from_table(raw: Any) -> dict[Kind, KindInfo]:
    if not isinstance(raw, Mapping):
        raise CatalogError("The built-in catalog has no [kinds] table.")
    unknown = sorted(set(raw) - {kind.value for kind in Kind})
    if unknown:
        raise CatalogError(
            f"The built-in catalog defines unknown kind(s) {', '.join(map(repr, unknown))}; valid kinds are {', '.join(k.value for k in Kind)}."
        )
    kinds: dict[Kind, KindInfo] = {}
    codes: dict[str, Kind] = {}
    for kind in Kind:
        table = raw.get(kind.value)
        if not isinstance(table, Mapping):
            raise CatalogError(f"The built-in catalog has no [kinds.{kind.value}] table.")
        bad_keys = sorted(set(table) - _KIND_KEYS)
        missing = sorted(
            key for key in ("code", "title", "why") if not isinstance(table.get(key), str)
        )
        if bad_keys or missing:
            raise CatalogError(
                f"[kinds.{kind.value}] in the built-in catalog has unknown keys {bad_keys!r} or lacks string keys {missing!r}; valid keys are {', '.join(sorted(_KIND_KEYS))}."
            )
        code = table["code"]
        if not _CODE.fullmatch(code) or code in codes:
            raise CatalogError(
                f"[kinds.{kind.value}] in the built-in catalog has code {code!r}; codes must look like 'UNS101' and be unique."
            )
        codes[code] = kind
        try:
            offload = Offload(table.get("offload", "thread"))
        except ValueError:
            raise CatalogError(
                f"[kinds.{kind.value}] in the built-in catalog has offload {table.get('offload')!r}; valid values are {', '.join(o.value for o in Offload)}."
            ) from None
        kinds[kind] = KindInfo(
            kind=kind, code=code, title=table["title"], why=table["why"], offload=offload
        )
    return kinds


def _types_from_table(
    raw: Any, entries: Iterable[Entry], source: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The ``[[type]]`` rows as (name -> returned type, name -> type of each iterated item)."""
    if not isinstance(raw, list):
        raise CatalogError(f"[[type]] in {source} must be an array of tables, got {raw!r}.")
    entry_names = {name for entry in entries for name in entry.names}
    types: dict[str, str] = {}
    elements: dict[str, str] = {}
    for table in raw:
        if (
            not isinstance(table, Mapping)
            or "name" not in table
            or not set(table) <= _TYPE_KEYS
            or not {"returns", "yields"} & set(table)
        ):
            raise CatalogError(
                f"A [[type]] row in {source} is {table!r}; it must have the key 'name' and 'returns', 'yields' or both, and no other keys."
            )
        name = table["name"]
        returns = table.get("returns")
        yields = table.get("yields")
        if not _is_qualified(name) or not all(
            _is_qualified(value) for value in (returns, yields) if value is not None
        ):
            raise CatalogError(
                f"The [[type]] row {name!r} -> {returns or yields!r} in {source} is invalid; both must be dotted qualified names such as 'sqlite3.Connection.cursor' -> 'sqlite3.Cursor'."
            )
        assert isinstance(name, str)
        if name in types or name in elements:
            raise CatalogError(f"Two [[type]] rows in {source} name {name!r}; keep one.")
        if name in entry_names:
            raise CatalogError(
                f"The [[type]] row {name!r} in {source} names a blocking entry; set 'returns' or 'yields' on that entry instead."
            )
        if isinstance(returns, str):
            types[name] = returns
        if isinstance(yields, str):
            elements[name] = yields
    return types, elements


def catalog_from_text(text: str, *, source: str = "the built-in table (blocking.toml)") -> Catalog:
    """Parse and validate a whole catalog table (the format of ``blocking.toml``)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"The catalog table in {source} is not valid TOML: {exc}.") from None
    unknown = sorted(set(raw) - {"kinds", "entry", "type"})
    if unknown:
        raise CatalogError(
            f"The catalog table in {source} has unknown top-level key(s) {', '.join(map(repr, unknown))}; valid keys are entry, kinds, type."
        )
    kinds = _kinds_from_table(raw.get("kinds"))
    tables = raw.get("entry", [])
    if not isinstance(tables, list) or not all(isinstance(table, Mapping) for table in tables):
        raise CatalogError(f"[[entry]] in {source} must be an array of tables.")
    entries = [
        entry_from_table(table, kinds, source=source, require_example=True) for table in tables
    ]
    _check_unique(entries, source)
    types, elements = _types_from_table(raw.get("type", []), entries, source)
    return Catalog(kinds, entries, types, elements)


@functools.cache
def default_catalog() -> Catalog:
    """The built-in catalog shipped with unstall (parsed once, then cached)."""
    text = resources.files("unstall.catalog").joinpath("blocking.toml").read_text(encoding="utf-8")
    return catalog_from_text(text)
