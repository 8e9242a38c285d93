"""How each kind of field is stored by the cache codec (:mod:`unstall.check._codec`).

A kind stores a field's values in two ways. As a *reference* (:meth:`Kind.encode_many`, the
values of a column or the items of a composite value): plain numbers and bools as they are,
strings as indices into the document's one string table, composite values (tuples, pairs,
frozensets, mappings, constants) as indices into a table of that kind's distinct values. As
a *body* (:meth:`Kind.encode_one`): what that table holds for one distinct value, its parts
being references in turn, so a value that repeats (``("#", 1)`` in the arguments of most
calls) is decoded once however often it is used.

Decoding checks everything against the kind and raises on the first thing that does not
fit (:class:`CacheMismatch`, or whatever the failed check raises: the codec turns it into
one). Whole columns are checked by builtins that run in C: ``sum`` proves a column holds only
integers (it raises on anything but numbers, and gives a float when one is a float); a
``dict`` look-up maps indices to strings or values and fails on anything that is not one of
its keys, negative indices included.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from itertools import accumulate, chain, repeat, starmap
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, NamedTuple

__all__ = (
    "CacheMismatch",
    "Constant",
    "Either",
    "EnumKind",
    "Fixed",
    "FrozenSetKind",
    "Kind",
    "Many",
    "MappingKind",
    "Optional",
    "PathKind",
    "Reader",
    "Record",
    "Scalar",
    "Text",
    "TupleKind",
    "Writer",
    "column",
)

NONE_TYPE = type(None)
_INTS = frozenset({int})
# Larger integer constants are stored as hexadecimal text (JSON readers differ on big numbers);
# a larger number in an integer field is a mismatch.
_INT_LIMIT = 1 << 63


class CacheMismatch(ValueError):
    """A cache file that does not hold what this version of unstall wrote: run cold."""


def column(data: object, count: int) -> list[Any]:
    """``data`` when it is a list of ``count`` items, else :class:`CacheMismatch`."""
    if type(data) is not list or len(data) != count:
        raise CacheMismatch("a column of the wrong length")
    return data


class _Distinct(NamedTuple):
    """One kind's table of distinct values while encoding: index by object and by ``repr``."""

    by_id: dict[int, int]
    by_repr: dict[str, int]
    bodies: list[object]
    alive: list[object]  # keeps every object whose id() is remembered alive


class Writer:
    """What one encoding shares between columns: the string table and each kind's distinct values."""

    def __init__(self) -> None:
        self.strings: dict[str | None, int] = {None: 0}
        self.tables: dict[str, _Distinct] = {}

    def string_ids(self, values: list[Any]) -> list[int]:
        """The string-table index of each value (``None`` is 0), adding the new strings."""
        strings = self.strings
        missing = [text for text in dict.fromkeys(values) if text not in strings]
        strings.update(zip(missing, range(len(strings), len(strings) + len(missing)), strict=True))
        return list(map(strings.__getitem__, values))

    def string_id(self, text: str | None) -> int:
        """The string-table index of one string."""
        strings = self.strings
        index = strings.get(text)
        if index is None:
            index = strings[text] = len(strings)
        return index

    def intern_many(self, kind: Kind, values: list[Any]) -> list[int]:
        """The index of each value in ``kind``'s table of distinct values, adding the new ones.

        An object met before is found by identity (re-saving what a warm run loaded, values
        shared by every record that had them, costs a look-up per value); a new one by its
        ``repr``, as ``==`` would merge 1, True and 1.0.
        """
        table = self._table(kind)
        by_id = table.by_id
        ids = list(map(id, values))
        for identity, value in dict(zip(ids, values, strict=True)).items():
            if identity not in by_id:
                self._add(kind, table, identity, value)
        return list(map(by_id.__getitem__, ids))

    def intern(self, kind: Kind, value: object) -> int:
        """The index of one value in ``kind``'s table of distinct values (see :meth:`intern_many`)."""
        table = self._table(kind)
        index = table.by_id.get(id(value))
        return self._add(kind, table, id(value), value) if index is None else index

    def _table(self, kind: Kind) -> _Distinct:
        table = self.tables.get(kind.name)
        if table is None:
            table = self.tables[kind.name] = _Distinct({}, {}, [], [])
        return table

    def _add(self, kind: Kind, table: _Distinct, identity: int, value: object) -> int:
        try:
            key = repr(value)
        except ValueError:  # an integer too long for text: never merged with another
            key = f"<{identity}>"
        index = table.by_repr.get(key)
        if index is None:
            body = kind.encode_one(value, self)
            index = table.by_repr[key] = len(table.bodies)
            table.bodies.append(body)
        table.by_id[identity] = index
        table.alive.append(value)
        return index

    def values(self) -> dict[str, list[object]]:
        """Each kind's table of distinct values, by kind name."""
        return {name: table.bodies for name, table in self.tables.items()}


class Reader:
    """What one decoding shares: the string table by index and each kind's distinct values."""

    def __init__(self, strings: object, values: object) -> None:
        if type(strings) is not list or not set(map(type, strings)) <= {str}:
            raise CacheMismatch("a string table that is not all strings")
        if type(values) is not dict:
            raise CacheMismatch("no table of values")
        self.required: dict[int, str] = dict(enumerate(strings, 1))
        self.optional: dict[int, str | None] = {0: None, **self.required}
        self.raw: dict[str, object] = values
        self.tables: dict[str, dict[int, object]] = {}

    def table(self, kind: Kind) -> dict[int, object]:
        """``kind``'s distinct values by index, decoded the first time they are needed.

        A value refers only to values decoded before it (the writer adds the parts of a value
        before the value itself), so a reference forward or to itself is a missing key.
        """
        table = self.tables.get(kind.name)
        if table is None:
            raw = self.raw.get(kind.name, [])
            if type(raw) is not list:
                raise CacheMismatch(f"a table of {kind.name} that is not a list")
            table = self.tables[kind.name] = {}
            for index, body in enumerate(raw):
                table[index] = kind.decode_one(body, self)
        return table


class Kind:
    """How the values of one field are stored. ``name`` describes the kind (it goes in the
    schema digest, and names its table of distinct values)."""

    name = "?"
    # Holds records with a table of their own: stored only as a column, never inside a value.
    tabular = False

    def encode_one(self, value: Any, writer: Writer) -> object:
        """The body of one distinct value (what its kind's table holds)."""
        raise TypeError(f"{self.name} cannot be stored inside another value")

    def decode_one(self, data: object, reader: Reader) -> object:
        """The value :meth:`encode_one` gave ``data`` for."""
        raise CacheMismatch(f"a {self.name} where it cannot be")

    def encode_many(self, values: list[Any], writer: Writer) -> list[Any]:
        """References to ``values``: by default, indices into the table of distinct values."""
        return writer.intern_many(self, values)

    def decode_many(self, data: list[Any], reader: Reader) -> list[Any]:
        """The values ``data`` refers to (checked)."""
        return list(map(reader.table(self).__getitem__, data))

    def encode_item(self, value: Any, writer: Writer) -> object:
        """A reference to one value."""
        return writer.intern(self, value)

    def decode_item(self, data: Any, reader: Reader) -> object:
        """The value one reference refers to (checked)."""
        return reader.table(self)[data]

    def encode_column(self, values: list[Any], writer: Writer) -> object:
        """A field's values, one per record."""
        return self.encode_many(values, writer)

    def decode_column(self, data: object, count: int, reader: Reader) -> list[Any]:
        """The ``count`` values :meth:`encode_column` gave ``data`` for."""
        return self.decode_many(column(data, count), reader)


class Scalar(Kind):
    """``int``, ``bool``, ``float`` or ``int | None``: stored as they are."""

    def __init__(self, name: str, allowed: frozenset[type]) -> None:
        self.name = name
        self.allowed = allowed

    def encode_many(self, values: list[Any], writer: Writer) -> list[Any]:
        if not set(map(type, values)) <= self.allowed:
            raise TypeError(f"a value that is not a {self.name}")
        return values

    def decode_many(self, data: list[Any], reader: Reader) -> list[Any]:
        if self.allowed == _INTS:
            # A bool passes, and is an int; min and max bound the rest.
            if data and (
                type(sum(data)) is not int or min(data) <= -_INT_LIMIT or max(data) >= _INT_LIMIT
            ):
                raise CacheMismatch("integers holding a float or a number out of range")
        elif not set(map(type, data)) <= self.allowed:
            raise CacheMismatch(f"values of {self.name} holding something else")
        elif self.allowed >= _INTS and any(
            type(item) is int and not -_INT_LIMIT < item < _INT_LIMIT for item in data
        ):
            raise CacheMismatch(f"values of {self.name} holding a number out of range")
        return data

    def encode_item(self, value: Any, writer: Writer) -> object:
        if type(value) not in self.allowed:
            raise TypeError(f"{value!r} is not a {self.name}")
        return value

    def decode_item(self, data: Any, reader: Reader) -> object:
        if type(data) not in self.allowed or (
            type(data) is int and not -_INT_LIMIT < data < _INT_LIMIT
        ):
            raise CacheMismatch(f"{data!r} is not a {self.name}")
        return data


class Text(Kind):
    """``str`` (or ``str | None``): an index into the string table (0 is ``None``)."""

    def __init__(self, optional: bool) -> None:
        self.optional = optional
        self.allowed = frozenset({str, NONE_TYPE} if optional else {str})
        self.name = "str | None" if optional else "str"

    def encode_many(self, values: list[Any], writer: Writer) -> list[Any]:
        if not set(map(type, values)) <= self.allowed:
            raise TypeError(f"a value that is not a {self.name}")
        return writer.string_ids(values)

    def decode_many(self, data: list[Any], reader: Reader) -> list[Any]:
        table = reader.optional if self.optional else reader.required
        return list(map(table.__getitem__, data))

    def encode_item(self, value: Any, writer: Writer) -> object:
        if type(value) not in self.allowed:
            raise TypeError(f"{value!r} is not a {self.name}")
        return writer.string_id(value)

    def decode_item(self, data: Any, reader: Reader) -> object:
        return (reader.optional if self.optional else reader.required)[data]


class EnumKind(Kind):
    """An enum member, stored as its value."""

    def __init__(self, cls: type[enum.Enum]) -> None:
        self.cls = cls
        self.name = cls.__name__
        self.members = {member.value: member for member in cls}

    def encode_many(self, values: list[Any], writer: Writer) -> list[Any]:
        if not set(map(type, values)) <= {self.cls}:
            raise TypeError(f"a value that is not a {self.name}")
        return [member.value for member in values]

    def decode_many(self, data: list[Any], reader: Reader) -> list[Any]:
        return list(map(self.members.__getitem__, data))

    def encode_item(self, value: Any, writer: Writer) -> object:
        return self.encode_many([value], writer)[0]

    def decode_item(self, data: Any, reader: Reader) -> object:
        return self.members[data]


class PathKind(Kind):
    """A ``pathlib.Path``: its text."""

    name = "Path"

    def encode_many(self, values: list[Any], writer: Writer) -> list[Any]:
        if not all(isinstance(value, Path) for value in values):
            raise TypeError("a value that is not a Path")
        return writer.string_ids(list(map(str, values)))

    def decode_many(self, data: list[Any], reader: Reader) -> list[Any]:
        return list(map(Path, map(reader.required.__getitem__, data)))

    def encode_item(self, value: Any, writer: Writer) -> object:
        return self.encode_many([value], writer)[0]

    def decode_item(self, data: Any, reader: Reader) -> object:
        return Path(reader.required[data])


class Optional(Kind):
    """``X | None`` for a composite ``X``: ``null`` or a reference to the value."""

    def __init__(self, inner: Kind) -> None:
        self.inner = inner
        self.name = f"{inner.name} | None"

    def encode_many(self, values: list[Any], writer: Writer) -> list[Any]:
        inner = self.inner
        return [None if value is None else inner.encode_item(value, writer) for value in values]

    def decode_many(self, data: list[Any], reader: Reader) -> list[Any]:
        return [self.decode_item(item, reader) for item in data]

    def encode_item(self, value: Any, writer: Writer) -> object:
        return None if value is None else self.inner.encode_item(value, writer)

    def decode_item(self, data: Any, reader: Reader) -> object:
        return None if data is None else self.inner.decode_item(data, reader)


class TupleKind(Kind):
    """``tuple[X, ...]`` (no records): a list of references."""

    def __init__(self, item: Kind) -> None:
        self.item = item
        self.name = f"tuple[{item.name}, ...]"

    def encode_one(self, value: Any, writer: Writer) -> object:
        if type(value) is not tuple:
            raise TypeError(f"{value!r} is not a tuple")
        return self.item.encode_many(list(value), writer)

    def decode_one(self, data: object, reader: Reader) -> object:
        if type(data) is not list:
            raise CacheMismatch(f"{data!r} is not a list")
        return tuple(self.item.decode_many(data, reader))


class Fixed(Kind):
    """``tuple[X, Y, ...]`` of a fixed length (no records): a list of references."""

    def __init__(self, items: Sequence[Kind]) -> None:
        self.items = tuple(items)
        self.name = f"tuple[{', '.join(item.name for item in items)}]"

    def encode_one(self, value: Any, writer: Writer) -> object:
        if type(value) is not tuple or len(value) != len(self.items):
            raise TypeError(f"{value!r} is not a {self.name}")
        return [
            kind.encode_item(item, writer) for kind, item in zip(self.items, value, strict=True)
        ]

    def decode_one(self, data: object, reader: Reader) -> object:
        if type(data) is not list or len(data) != len(self.items):
            raise CacheMismatch(f"{data!r} is not a {self.name}")
        if len(data) == 2:  # the common case (keyword and value, name and reference), unrolled
            first, second = self.items[0], self.items[1]
            return (first.decode_item(data[0], reader), second.decode_item(data[1], reader))
        return tuple(
            kind.decode_item(item, reader) for kind, item in zip(self.items, data, strict=True)
        )


class FrozenSetKind(Kind):
    """``frozenset[X]`` (no records): a list of references, in a stable order."""

    def __init__(self, item: Kind) -> None:
        self.item = item
        self.name = f"frozenset[{item.name}]"

    def encode_one(self, value: Any, writer: Writer) -> object:
        if type(value) is not frozenset:
            raise TypeError(f"{value!r} is not a frozenset")
        return self.item.encode_many(sorted(value, key=repr), writer)

    def decode_one(self, data: object, reader: Reader) -> object:
        if type(data) is not list:
            raise CacheMismatch(f"{data!r} is not a list")
        return frozenset(self.item.decode_many(data, reader))


class MappingKind(Kind):
    """``Mapping[K, V]`` (no records): a list of keys then a list of values, read back as a ``dict``."""

    def __init__(self, key: Kind, value: Kind) -> None:
        self.key = key
        self.value = value
        self.name = f"Mapping[{key.name}, {value.name}]"

    def encode_one(self, value: Any, writer: Writer) -> object:
        if not isinstance(value, Mapping):
            raise TypeError(f"{value!r} is not a mapping")
        return [
            self.key.encode_many(list(value.keys()), writer),
            self.value.encode_many(list(value.values()), writer),
        ]

    def decode_one(self, data: object, reader: Reader) -> object:
        if type(data) is not list or len(data) != 2:
            raise CacheMismatch(f"{data!r} is not keys and values")
        keys, values = data
        if type(keys) is not list or type(values) is not list or len(keys) != len(values):
            raise CacheMismatch(f"{data!r} is not keys and values")
        decoded = self.key.decode_many(keys, reader)
        return dict(zip(decoded, self.value.decode_many(values, reader), strict=True))


class Constant(Kind):
    """``object``: a constant an argument can hold (see ``Use.keywords``).

    ``None``, a bool, int, float or str is stored as it is; a tuple of constants as a list of
    references; a frozenset of names (named constants) as ``{"names": [...]}``, ``...``
    (unknown) as ``{"unknown": 0}``, an integer too big for JSON readers as ``{"int": hex}``,
    and a record of ``records`` as ``{"Name": [fields]}``.
    """

    name = "constant"

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}

    def encode_one(self, value: Any, writer: Writer) -> object:
        kind = type(value)
        if kind is str or kind is bool or kind is float or value is None:
            return value
        if kind is int:
            return value if -_INT_LIMIT < value < _INT_LIMIT else {"int": hex(value)}
        if kind is tuple:
            return self.encode_many(list(value), writer)
        if kind is frozenset and set(map(type, value)) <= {str}:
            return {"names": writer.string_ids(sorted(value))}
        if value is Ellipsis:
            return {"unknown": 0}
        record = self.records.get(kind.__name__)
        if record is None or record.cls is not kind:
            raise TypeError(
                f"{value!r} ({kind.__name__}) is not a constant the cache codec knows; "
                "add its type to VALUE_RECORDS in unstall/check/_codec.py"
            )
        return {kind.__name__: record.encode_row(value, writer)}

    def decode_one(self, data: object, reader: Reader) -> object:
        kind = type(data)
        if kind is str or kind is float or kind is bool or data is None:
            return data
        if kind is int:
            if not -_INT_LIMIT < data < _INT_LIMIT:  # type: ignore[operator]
                raise CacheMismatch("a constant out of range that is not stored as text")
            return data
        if kind is list:
            return tuple(self.decode_many(data, reader))  # type: ignore[arg-type]
        if kind is not dict or len(data) != 1:  # type: ignore[arg-type]
            raise CacheMismatch(f"{data!r} is not a constant")
        ((tag, body),) = data.items()  # type: ignore[attr-defined]
        if tag == "names" and type(body) is list:
            return frozenset(map(reader.required.__getitem__, body))
        if tag == "unknown":
            return ...
        if tag == "int" and type(body) is str:
            return int(body, 16)
        record = self.records.get(tag)
        if record is None:
            raise CacheMismatch(f"{tag!r} is not a constant")
        return record.decode_row(body, reader)


class Record(Kind):
    """A ``NamedTuple`` or dataclass: a table, one column per field (a JSON object of columns).
    ``fields`` are filled by the builder: (name, getter, kind) in the type's field order."""

    tabular = True

    def __init__(self, cls: type[Any], names: Sequence[str]) -> None:
        self.cls = cls
        self.name = cls.__name__
        self.is_tuple = issubclass(cls, tuple)
        self.fields: list[tuple[str, Any, Kind]] = []
        self.getters = [
            itemgetter(index) if self.is_tuple else attrgetter(name)
            for index, name in enumerate(names)
        ]
        self.names = frozenset(names)

    def build(self, rows: Any) -> list[Any]:
        """Records from rows of field values (a named tuple is made without calling ``__new__``)."""
        if self.is_tuple:
            return list(map(tuple.__new__, repeat(self.cls), rows))
        return list(starmap(self.cls, rows))

    def encode_column(self, values: list[Any], writer: Writer) -> object:
        if not set(map(type, values)) <= {self.cls}:
            raise TypeError(f"a value that is not a {self.name}")
        columns = {}
        for name, get, kind in self.fields:
            try:
                columns[name] = kind.encode_column(list(map(get, values)), writer)
            except TypeError as exc:
                raise TypeError(f"{self.name}.{name}: {exc}") from None
        return columns

    def decode_column(self, data: object, count: int, reader: Reader) -> list[Any]:
        if type(data) is not dict or data.keys() != self.names:
            raise CacheMismatch(f"the fields of {self.name} are not this version's")
        columns = [kind.decode_column(data[name], count, reader) for name, _, kind in self.fields]
        return self.build(zip(*columns, strict=True))

    def encode_row(self, value: Any, writer: Writer) -> object:
        """One record inside a value: a list of references to its fields."""
        return [kind.encode_item(get(value), writer) for _, get, kind in self.fields]

    def decode_row(self, data: object, reader: Reader) -> object:
        if type(data) is not list or len(data) != len(self.fields):
            raise CacheMismatch(f"{data!r} is not a {self.name}")
        row = tuple(
            kind.decode_item(item, reader)
            for (_, _, kind), item in zip(self.fields, data, strict=True)
        )
        return self.build([row])[0]


class Many(Kind):
    """``tuple[R, ...]`` of records: a column of counts over one table of all their items."""

    tabular = True

    def __init__(self, item: Kind) -> None:
        self.item = item
        self.name = f"tuple[{item.name}, ...]"

    def encode_column(self, values: list[Any], writer: Writer) -> object:
        if not set(map(type, values)) <= {tuple}:
            raise TypeError("a value that is not a tuple")
        items = list(chain.from_iterable(values))
        return {"counts": list(map(len, values)), "items": self.item.encode_column(items, writer)}

    def decode_column(self, data: object, count: int, reader: Reader) -> list[Any]:
        if type(data) is not dict or data.keys() != {"counts", "items"}:
            raise CacheMismatch(f"a {self.name} column that is not counts and items")
        counts = column(data["counts"], count)
        if counts and (type(sum(counts)) is not int or min(counts) < 0):
            raise CacheMismatch("counts that are not natural numbers")
        ends = list(accumulate(counts))
        items = self.item.decode_column(data["items"], ends[-1] if ends else 0, reader)
        spans = map(slice, chain((0,), ends), ends)
        return list(map(tuple, map(items.__getitem__, spans)))


class Either(Kind):
    """A union of records, and maybe ``None``: a column of tags, and a table per record."""

    tabular = True

    def __init__(self, options: Sequence[Record | None]) -> None:
        self.options = tuple(options)
        self.name = " | ".join(option.name if option else "None" for option in self.options)
        self.tags = {
            (option.cls if option else NONE_TYPE): tag for tag, option in enumerate(options)
        }

    def encode_column(self, values: list[Any], writer: Writer) -> object:
        try:
            tags = list(map(self.tags.__getitem__, map(type, values)))
        except KeyError:
            raise TypeError(f"a value that is none of {self.name}") from None
        tables = [
            option.encode_column([v for t, v in zip(tags, values, strict=True) if t == tag], writer)
            if option is not None
            else None
            for tag, option in enumerate(self.options)
        ]
        return {"tags": tags, "options": tables}

    def decode_column(self, data: object, count: int, reader: Reader) -> list[Any]:
        if type(data) is not dict or data.keys() != {"tags", "options"}:
            raise CacheMismatch(f"a {self.name} column that is not tags and options")
        tags = column(data["tags"], count)
        options = column(data["options"], len(self.options))
        if not set(map(type, tags)) <= _INTS or not set(tags) <= set(range(len(self.options))):
            raise CacheMismatch(f"a tag that is none of {self.name}")
        decoded = [
            iter(option.decode_column(options[tag], tags.count(tag), reader))
            if option is not None
            else repeat(None)
            for tag, option in enumerate(self.options)
        ]
        return [next(decoded[tag]) for tag in tags]
