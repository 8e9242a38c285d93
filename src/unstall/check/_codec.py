"""A data-only codec for the check caches: records to JSON and back, every value checked.

The caches live in the checked project's folder, where anyone who can commit can put a file.
So they hold data only (JSON, read by the standard library's parser: nothing in it can run
code), and everything read back is checked against the record types before it is used: a
corrupt, truncated, foreign or hostile file raises :class:`CacheMismatch` and the caller runs
cold. Nothing a file holds makes loading raise anything else.

The codec is built from the record types' own field lists (``NamedTuple`` fields, dataclass
fields) and annotations, so a field added with a kind the codec knows (``int``, ``bool``,
``float``, ``str``, ``X | None``, ``tuple[X, ...]``, ``tuple[X, Y]``, ``frozenset[X]``,
``Mapping[K, V]``, an enum, a ``Path``, another record, a union of records, ``object`` for the
constants an argument can hold) just works, and one of a kind it does not know fails when the
codec is built, naming the field (a test builds every codec the caches use).

The layout is for speed (a warm run of a 6,700-file project loads ~600,000 uses): records are
stored column by column, one JSON list per field, and checked and decoded a column at a time
by builtins that run in C; strings and repeated values are stored once (see
:mod:`unstall.check._codec_kinds`). Records in a field get a table of their own: a
``tuple[Use, ...]`` field is a column of counts over one table of all the uses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import gc
import hashlib
import json
import os
import stat
import tempfile
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from unstall.check._codec_kinds import (
    NONE_TYPE,
    CacheMismatch,
    Constant,
    Either,
    EnumKind,
    Fixed,
    FrozenSetKind,
    Kind,
    Many,
    MappingKind,
    Optional,
    PathKind,
    Reader,
    Record,
    Scalar,
    Text,
    TupleKind,
    Writer,
)
from unstall.check._summary_types import Param

__all__ = (
    "FORMAT_VERSION",
    "VALUE_RECORDS",
    "CacheMismatch",
    "Codec",
    "codec_for",
    "read_records",
    "write_data",
)

R = TypeVar("R")

# Records that may be argument constants (``object`` fields: ``Use.keywords``, ``Guard.value``,
# ``FunctionInfo.defaults``), stored by class name. A new one the summarizer records goes here.
VALUE_RECORDS: tuple[type[Any], ...] = (Param,)
_FORMAT = "unstall-check-cache"
# The layout's version, in the cache files' names; the record types' own changes are in the
# schema digest each file carries.
FORMAT_VERSION = 2


class _Builder:
    """Makes the kind of each annotation, naming the field when it meets one it does not know."""

    def __init__(self) -> None:
        self.records: dict[type[Any], Record] = {}
        self.building: list[type[Any]] = []
        self.constant = Constant()
        self.plain: dict[object, Kind] = {
            int: Scalar("int", frozenset({int})),
            bool: Scalar("bool", frozenset({bool})),
            float: Scalar("float", frozenset({float})),
            str: Text(optional=False),
            object: self.constant,
            Path: PathKind(),
        }
        for cls in VALUE_RECORDS:
            self.constant.records[cls.__name__] = self.record(cls)

    def record(self, cls: type[Any]) -> Record:
        known = self.records.get(cls)
        if known is not None:
            return known
        if cls in self.building:
            raise TypeError(f"{cls.__name__} holds itself; the cache codec stores trees only")
        self.building.append(cls)
        if issubclass(cls, tuple):
            names = list(getattr(cls, "_fields", ()))
        else:
            fields = dataclasses.fields(cls)
            for field in fields:
                if not field.init:
                    raise TypeError(f"{cls.__name__}.{field.name} is not set by __init__")
            names = [field.name for field in fields]
        record = Record(cls, names)
        hints = _hints(cls)
        for name, get in zip(names, record.getters, strict=True):
            where = f"{cls.__name__}.{name}"
            record.fields.append((name, get, self.kind(hints.get(name, Any), where)))
        self.building.pop()
        self.records[cls] = record
        return record

    def kind(self, annotation: object, where: str) -> Kind:
        plain = self.plain.get(annotation)
        if plain is not None:
            return plain
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin in (types.UnionType, typing.Union):
            return self._union(args, where)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            item = self.kind(args[0], where)
            return Many(item) if item.tabular else TupleKind(item)
        if origin is tuple and args and Ellipsis not in args:
            items = [self.kind(arg, where) for arg in args]
            return self._untabular(Fixed(items), items, where)
        if origin is frozenset and len(args) == 1:
            item = self.kind(args[0], where)
            return self._untabular(FrozenSetKind(item), [item], where)
        if origin in (Mapping, dict) and len(args) == 2:
            pair = [self.kind(args[0], where), self.kind(args[1], where)]
            return self._untabular(MappingKind(*pair), pair, where)
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return EnumKind(annotation)
        if isinstance(annotation, type) and (
            dataclasses.is_dataclass(annotation)
            or (issubclass(annotation, tuple) and hasattr(annotation, "_fields"))
        ):
            return self.record(annotation)
        raise TypeError(
            f"{where}: the cache codec does not know how to store {annotation!r}; give the "
            "field a kind it knows (see unstall/check/_codec.py) or teach it this one"
        )

    def _union(self, args: tuple[object, ...], where: str) -> Kind:
        others = [arg for arg in args if arg is not NONE_TYPE]
        optional = len(others) < len(args)
        if others == [str] and optional:
            return Text(optional=True)
        if others == [int] and optional:
            return Scalar("int | None", frozenset({int, NONE_TYPE}))
        kinds = [self.kind(arg, where) for arg in others]
        records = [kind for kind in kinds if isinstance(kind, Record)]
        if len(records) == len(kinds):
            options: list[Record | None] = list(records)
            return Either([*options, None] if optional else options)
        if len(kinds) == 1 and optional and not kinds[0].tabular:
            return Optional(kinds[0])
        raise TypeError(f"{where}: the cache codec does not know how to store the union {args!r}")

    @staticmethod
    def _untabular(kind: Kind, parts: Sequence[Kind], where: str) -> Kind:
        if any(part.tabular for part in parts):
            raise TypeError(
                f"{where}: the cache codec stores records only directly, in a union, or as "
                f"tuple[R, ...], not in a {kind.name}"
            )
        return kind


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The field annotations of ``cls``, resolved in the module that defines it.

    A published class (``unstall.check.CheckResult``) names its public package in
    ``__module__``, which lacks the names its annotations use; a dataclass's generated
    ``__init__`` still holds the namespace of the module that defined it.
    """
    init = getattr(cls, "__init__", None)
    namespace = getattr(init, "__globals__", None) if dataclasses.is_dataclass(cls) else None
    try:
        return typing.get_type_hints(cls, globalns=namespace)
    except NameError as exc:
        raise TypeError(
            f"{cls.__name__}: an annotation names {exc.name!r}, unknown where the class is defined"
        ) from None


def _describe(kind: Kind) -> str:
    """The kind's whole structure, for the schema digest: a changed field makes another digest."""
    if isinstance(kind, Record):
        return f"{kind.name}({','.join(f'{n}:{_describe(k)}' for n, _, k in kind.fields)})"
    if isinstance(kind, Many):
        return f"tuple[{_describe(kind.item)}, ...]"
    if isinstance(kind, Either):
        return "|".join(_describe(option) if option else "None" for option in kind.options)
    if isinstance(kind, Constant):
        return f"constant({','.join(_describe(r) for r in kind.records.values())})"
    return kind.name


class Codec(Generic[R]):
    """Rows of one record type to JSON bytes and back; get one with :func:`codec_for`."""

    def __init__(self, cls: type[R]) -> None:
        builder = _Builder()
        self.record = builder.record(cls)
        described = f"{_describe(self.record)};{_describe(builder.constant)}"
        self.schema = hashlib.blake2b(described.encode(), digest_size=12).hexdigest()

    def dumps(self, rows: Sequence[R], header: Mapping[str, str] | None = None) -> bytes:
        """``rows`` (and ``header``: strings kept beside them) as JSON bytes. Raises
        ``TypeError`` naming the field, or ``ValueError``, for a value it cannot store."""
        collecting = gc.isenabled()
        gc.disable()  # many new lists, none in a cycle: collecting would find nothing
        try:
            writer = Writer()
            table = self.record.encode_column(list(rows), writer)
            document = {
                "format": _FORMAT,
                "version": FORMAT_VERSION,
                "schema": self.schema,
                "header": dict(header or {}),
                "count": len(rows),
                "strings": list(writer.strings)[1:],
                "values": writer.values(),
                "rows": table,
            }
            return json.dumps(document, separators=(",", ":")).encode("ascii")
        finally:
            if collecting:
                gc.enable()

    def loads(self, data: bytes) -> tuple[list[R], dict[str, str]]:
        """The rows and header :meth:`dumps` wrote. Raises :class:`CacheMismatch` (and nothing
        else) for anything else: not JSON, another format, version or schema, a value of the
        wrong kind, a count that does not add up."""
        collecting = gc.isenabled()
        gc.disable()  # hundreds of thousands of new tuples, none in a cycle
        try:
            return self._loads(data)
        except CacheMismatch:
            raise
        except Exception as exc:  # whatever a hostile file makes the parser or a check raise
            raise CacheMismatch(f"{type(exc).__name__}: {exc}") from None
        finally:
            if collecting:
                gc.enable()

    def _loads(self, data: bytes) -> tuple[list[R], dict[str, str]]:
        document = json.loads(data)
        if type(document) is not dict:
            raise CacheMismatch("not a JSON object")
        found = (document.get("format"), document.get("version"), document.get("schema"))
        if found != (_FORMAT, FORMAT_VERSION, self.schema):
            raise CacheMismatch(f"another format, version or schema: {found!r}")
        header = document.get("header")
        if type(header) is not dict or not set(map(type, header.values())) <= {str}:
            raise CacheMismatch("a header that is not strings")
        count = document.get("count")
        if type(count) is not int:
            raise CacheMismatch("no count of rows")
        reader = Reader(document.get("strings"), document.get("values"))
        return self.record.decode_column(document.get("rows"), count, reader), header


_CODECS: dict[type[Any], Codec[Any]] = {}


def read_records(path: Path, cls: type[R]) -> tuple[list[R], dict[str, str]] | None:
    """The ``cls`` rows and the header of the cache file ``path``, or ``None`` when it is
    missing, unreadable, not a regular file, or not what :meth:`Codec.dumps` wrote for ``cls``."""
    data = _read_data(path)
    if data is None:
        return None
    try:
        return codec_for(cls).loads(data)
    except (CacheMismatch, TypeError):  # TypeError: the codec cannot be built (tests say why)
        return None


def _read_data(path: Path) -> bytes | None:
    """The bytes of the cache file ``path``, or ``None`` when it is missing, unreadable or
    not a regular file (a link to ``/dev/zero`` or a pipe would never end)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def write_data(path: Path, data: bytes) -> None:
    """Replace the cache file ``path`` with ``data`` atomically (a temporary file in its
    folder, then a rename). Raises ``OSError``."""
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def codec_for(cls: type[R]) -> Codec[R]:
    """The codec of ``cls``, built once. Raises ``TypeError`` naming a field of a kind it does not know."""
    codec = _CODECS.get(cls)
    if codec is None:
        codec = _CODECS[cls] = Codec(cls)
    return codec
