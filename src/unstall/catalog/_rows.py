"""Parse and validate the rows of a catalog table: kinds, rules, entries, conditions, types, boundaries.

Each parser takes one raw TOML value and either returns a value type of ``_model`` or raises
:class:`~unstall.errors.CatalogError` naming the row, the key and the valid values.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

from unstall.catalog._model import (
    Boundary,
    BoundaryKind,
    Condition,
    Entry,
    Kind,
    KindInfo,
    Match,
    Offload,
    Rule,
)
from unstall.errors import CatalogError

__all__ = (
    "ANY_METHOD",
    "boundary_from_table",
    "check_unique",
    "condition_from_text",
    "entry_from_table",
    "kinds_from_table",
    "rules_from_table",
    "types_from_table",
)

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
        "once",
    }
)
_REQUIRED = ("name", "kind", "why", "alternative")
_TYPE_KEYS = frozenset({"name", "returns", "yields"})
_KIND_KEYS = frozenset(
    {"code", "title", "why", "offload", "not-flagged", "equivalents", "severity"}
)
_OTHER_CODE = re.compile(r"[A-Z]+[0-9]+")
_FIX_FIELDS = frozenset({"func", "args"})
_CODE = re.compile(r"UNS[1-8]\d\d")
_NONBLOCKING = re.compile(
    r"(?P<new>new\.)?(?P<keyword>[A-Za-z_]\w*)(@(?P<position>\d+))?=(?P<value>\S.*)"
)
# A named constant in a ``nonblocking`` item: ``socket.AI_NUMERICHOST``.
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
_BOUNDARY_KEYS = frozenset(
    {"name", "kind", "why", "method", "tail", "async", "keywords", "forgets"}
)
_RULE_KEYS = frozenset({"title", "why", "flags", "example", "instead"})
_RULE_CODE = re.compile(r"UNS[2-9]\d\d")
# A name that stands for every public method of a type: "botocore.client.BaseClient.*".
ANY_METHOD = ".*"


def _is_pattern(value: object) -> bool:
    return isinstance(value, str) and value.endswith(ANY_METHOD) and is_qualified(value[:-2])


def is_qualified(value: object) -> bool:
    """Whether ``value`` is a dotted qualified name (``asyncio.to_thread``)."""
    return (
        isinstance(value, str)
        and bool(value)
        and all(part.isidentifier() for part in value.split("."))
    )


def row_name(
    table: Any, source: str, array: str, keys: frozenset[str] | set[str], *, example: str
) -> str:
    """The ``name`` of one ``[[array]]`` row, after checking the row is a table with a dotted
    qualified name and no key outside ``keys``; raise :class:`CatalogError` naming what is wrong."""
    article = "An" if array[:1] in ("a", "e", "i", "o", "u") else "A"
    if not isinstance(table, Mapping):
        raise CatalogError(
            f"{article} [[{array}]] row in {source} is {table!r}; it must be a table."
        )
    name = table.get("name")
    if not is_qualified(name):
        raise CatalogError(
            f"{article} [[{array}]] row in {source} has 'name' = {name!r}; it must be a dotted qualified name such as {example!r}."
        )
    assert isinstance(name, str)
    unknown = sorted(set(table) - keys)
    if unknown:
        raise CatalogError(
            f"The [[{array}]] row {name!r} in {source} has unknown key(s) {', '.join(map(repr, unknown))}; valid keys are {', '.join(sorted(keys))}.",
            entry=name,
        )
    return name


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


def condition_from_text(text: str, name: str, source: str) -> Condition:
    """Parse one ``nonblocking`` item of the entry ``name`` into a :class:`Condition`.

    ``keyword=value`` or ``keyword@position=value``; the value is a Python literal
    (``False``, ``0``, ``"r"``), ``*`` (given with any value but ``None``), ``absent`` (not
    given), a dotted named constant (``socket.AI_NUMERICHOST``) or a new object of a class
    (``io.BytesIO()``: the argument is one, made at the call). A ``new.`` prefix tests the
    call that created the receiver instead (``new.type@1=socket.SOCK_DGRAM``). Raises
    :class:`CatalogError` for anything else.
    """
    found = _NONBLOCKING.fullmatch(text.strip())
    problem = None
    value: bool | int | float | str | None = None
    match = Match.EQUALS
    if found is None:
        problem = "each item must be 'keyword=value' or 'keyword@position=value', such as 'blocking=False' or 'blocking@0=False'"
    else:
        raw = found["value"].strip()
        if raw == "*":
            match = Match.GIVEN
        elif raw == "absent":
            match = Match.ABSENT
        elif _DOTTED.fullmatch(raw):
            match, value = Match.FLAG, raw
        elif raw.endswith("()") and _DOTTED.fullmatch(raw[:-2]):
            match, value = Match.MADE, raw[:-2]
        else:
            literal: object
            try:
                literal = ast.literal_eval(raw)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                literal = ...  # not a literal
            if isinstance(literal, bool | int | float | str | None):
                value = literal
            else:
                problem = f"its value {raw!r} must be a literal (False, 0, 'r'), '*' for any value but None, or a named constant such as socket.AI_NUMERICHOST"
    if problem is not None or found is None:
        raise CatalogError(
            f"Catalog entry {name!r} in {source} has nonblocking {text!r}; {problem}.",
            entry=name,
        )
    position = found["position"]
    return Condition(
        keyword=found["keyword"],
        position=int(position) if position is not None else None,
        match=match,
        value=value,
        text=text.strip(),
        receiver=found["new"] is not None,
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
    if not is_qualified(name) and not _is_pattern(name):
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
    for key in ("fix", "returns", "audit_event", "example", "yields", "once"):
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
        if optional[key] is not None and not is_qualified(optional[key]):
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
        if not is_qualified(alias) or alias == name:
            raise CatalogError(
                f"Catalog entry {name!r} in {source} has alias {alias!r}; aliases must be dotted qualified names other than the entry's own name.",
                entry=name,
            )
    nonblocking = tuple(
        condition_from_text(item, name, source)
        for item in _str_tuple(table.get("nonblocking", []), "nonblocking", name, source)
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
        once=optional["once"],
    )


def check_unique(entries: Iterable[Entry], source: str) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        for name in entry.names:
            if name in seen:
                raise CatalogError(
                    f"Two catalog entries in {source}, {seen[name]!r} and {entry.name!r}, both name {name!r}; give each name to one entry only.",
                    entry=name,
                )
            seen[name] = entry.name


def kinds_from_table(raw: Any) -> dict[Kind, KindInfo]:
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
        not_flagged = table.get("not-flagged", "")
        if not isinstance(not_flagged, str):
            raise CatalogError(
                f"[kinds.{kind.value}] in the built-in catalog has not-flagged {not_flagged!r}; it must be a string."
            )
        equivalents = table.get("equivalents", [])
        if not isinstance(equivalents, list) or not all(
            isinstance(item, str) and _OTHER_CODE.fullmatch(item) for item in equivalents
        ):
            raise CatalogError(
                f"[kinds.{kind.value}] in the built-in catalog has equivalents {equivalents!r}; it must be a list of codes such as ['ASYNC251']."
            )
        kinds[kind] = KindInfo(
            kind=kind,
            code=code,
            title=table["title"],
            why=table["why"],
            offload=offload,
            not_flagged=not_flagged.strip(),
            equivalents=tuple(equivalents),
            severity=_severity(table.get("severity", 0), kind),
        )
    return kinds


def types_from_table(
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
        if not is_qualified(name) or not all(
            is_qualified(value) for value in (returns, yields) if value is not None
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


def boundary_from_table(table: Any, source: str) -> Boundary:
    """Build a :class:`Boundary` from one ``[[boundary]]`` row; raise :class:`CatalogError`."""
    name = row_name(table, source, "boundary", _BOUNDARY_KEYS, example="asyncio.to_thread")
    kinds = ", ".join(kind.value for kind in BoundaryKind)
    try:
        kind = BoundaryKind(table.get("kind"))
    except ValueError:
        raise CatalogError(
            f"The [[boundary]] row {name!r} in {source} has kind {table.get('kind')!r}; valid kinds are {kinds}.",
            entry=name,
        ) from None
    why = table.get("why")
    if not isinstance(why, str) or not why.strip():
        raise CatalogError(
            f"The [[boundary]] row {name!r} in {source} needs a non-empty string 'why'.", entry=name
        )
    flags = {key: table.get(key, False) for key in ("method", "async", "forgets")}
    for key, flag in flags.items():
        if not isinstance(flag, bool):
            raise CatalogError(
                f"The [[boundary]] row {name!r} in {source} has {key} = {flag!r}; it must be true or false.",
                entry=name,
            )
    tail = table.get("tail", 1 if flags["method"] else 0)
    if isinstance(tail, bool) or not isinstance(tail, int) or not 0 <= tail < len(name.split(".")):
        raise CatalogError(
            f"The [[boundary]] row {name!r} in {source} has tail = {tail!r}; it must be a number of trailing names, from 0 to {len(name.split('.')) - 1}.",
            entry=name,
        )
    keywords = table.get("keywords", [])
    if not isinstance(keywords, list) or not all(
        isinstance(item, str) and item.isidentifier() for item in keywords
    ):
        raise CatalogError(
            f"The [[boundary]] row {name!r} in {source} has keywords = {keywords!r}; it must be a list of argument names.",
            entry=name,
        )
    return Boundary(
        name,
        kind,
        why,
        tail=tail,
        asynchronous=flags["async"],
        keywords=tuple(keywords),
        forgets=flags["forgets"],
    )


def rules_from_table(raw: Any, kinds: Mapping[Kind, KindInfo], source: str) -> dict[str, Rule]:
    """The ``[rules.CODE]`` tables (rules that are not kinds), keyed by code; raise :class:`CatalogError`."""
    if not isinstance(raw, Mapping):
        raise CatalogError(f"[rules] in {source} must be a table of [rules.CODE] tables.")
    kind_codes = {info.code for info in kinds.values()}
    rules: dict[str, Rule] = {}
    for code, table in raw.items():
        if not _RULE_CODE.fullmatch(code) or code in kind_codes:
            raise CatalogError(
                f"[rules.{code}] in {source} has an invalid code; rule codes look like 'UNS201' and must not repeat a kind's code."
            )
        if not isinstance(table, Mapping) or set(table) - {"equivalents"} != _RULE_KEYS:
            keys = sorted(table) if isinstance(table, Mapping) else table
            raise CatalogError(
                f"[rules.{code}] in {source} has keys {keys!r}; it needs exactly {', '.join(sorted(_RULE_KEYS))} (and may have equivalents)."
            )
        equivalents = table.get("equivalents", [])
        if not isinstance(equivalents, list) or not all(
            isinstance(item, str) and _OTHER_CODE.fullmatch(item) for item in equivalents
        ):
            raise CatalogError(
                f"[rules.{code}] in {source} has equivalents {equivalents!r}; it must be a list of codes such as ['RUF006']."
            )
        texts = {key: table[key] for key in sorted(_RULE_KEYS)}
        bad = sorted(
            key for key, text in texts.items() if not isinstance(text, str) or not text.strip()
        )
        if bad:
            raise CatalogError(
                f"[rules.{code}] in {source}: {', '.join(map(repr, bad))} must be non-empty strings."
            )
        rules[code] = Rule(code=code, **texts, equivalents=tuple(equivalents))
    return dict(sorted(rules.items()))


def _severity(value: object, kind: Kind) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise CatalogError(
            f"[kinds.{kind.value}] in the built-in catalog has severity {value!r}; it must be a whole number from 0 to 100."
        )
    return value
