"""The built-in catalog table: it loads, every entry is complete and consistent, and extensions are validated."""

from __future__ import annotations

import ast
import importlib
import re
import string
from collections import Counter
from typing import Any

import pytest

from unstall.catalog import (
    Catalog,
    Condition,
    Entry,
    Kind,
    Match,
    Offload,
    default_catalog,
    entry_from_table,
)
from unstall.catalog._load import catalog_from_text
from unstall.catalog._rows import boundary_from_table
from unstall.errors import CatalogError

CATALOG = default_catalog()
ENTRIES = CATALOG.entries
BASE: dict[str, Any] = {"kind": "network", "why": "It waits.", "alternative": "mylib.afetch"}


def _ids(entry: Entry) -> str:
    return entry.name


def test_the_catalog_is_large_and_covers_every_kind() -> None:
    counts = Counter(entry.kind for entry in ENTRIES)
    assert len(CATALOG) >= 170
    assert set(counts) == set(Kind)
    # the kinds users hit most need broad coverage, not a token entry
    for kind, least in {
        Kind.FILE: 60,
        Kind.NETWORK: 50,
        Kind.DATABASE: 50,
        Kind.SUBPROCESS: 15,
        Kind.THREAD: 20,
        Kind.CPU: 15,
        Kind.DNS: 5,
        Kind.SSL: 5,
        Kind.IMPORT: 5,
        Kind.SLEEP: 1,
    }.items():
        assert counts[kind] >= least, (kind, counts[kind])


def test_every_kind_has_its_own_code() -> None:
    codes = [CATALOG.kind_info(kind).code for kind in Kind]
    assert len(set(codes)) == len(codes)
    assert CATALOG.codes() == tuple(sorted(codes))
    assert all(re.fullmatch(r"UNS1\d\d", code) for code in codes)
    assert CATALOG.kind_info(Kind.CPU).offload is Offload.PROCESS


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_entry_is_complete(entry: Entry) -> None:
    # An entry reports under its kind's code, or under a rule of the analysis it names (UNS305).
    assert entry.code == CATALOG.kind_info(entry.kind).code or entry.code in CATALOG.rules
    for text in (entry.why, entry.alternative):
        assert text.strip() == text
        assert text
        assert "\n" not in text
    assert entry.why.endswith(".")
    assert entry.example is not None
    if entry.fix is not None:
        fields = {field for _, field, _, _ in string.Formatter().parse(entry.fix) if field}
        assert fields <= {"func", "args"}
    for item in entry.nonblocking:
        assert item.keyword.isidentifier()
        assert item.position is None or item.position >= 0
        assert str(item).removeprefix("new.").startswith(item.keyword)
        assert item.receiver == str(item).startswith("new.")
    if entry.offload is not CATALOG.kind_info(entry.kind).offload:
        # CPU work that releases the GIL belongs in a thread: the alternative must say so
        assert "to_thread" in entry.alternative


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_example_is_an_async_function_ending_with_a_call(entry: Entry) -> None:
    imports, body = entry.example_split()
    source = entry.example_module()
    assert source is not None
    assert body
    tree = ast.parse(source)
    assert all(isinstance(node, ast.Import | ast.ImportFrom) for node in tree.body[:-1])
    handler = tree.body[-1]
    assert isinstance(handler, ast.AsyncFunctionDef)
    assert len(imports) == len(tree.body) - 1
    last = handler.body[-1]
    assert any(isinstance(node, ast.Call) for node in ast.walk(last))
    # the call on the last line names the entry's last component (method, function or class);
    # a ``Type.*`` entry's example calls one method of the type
    last_part = entry.name.rsplit(".", 1)[1]
    assert last_part == "*" or last_part in body[-1], body[-1]
    assert last.lineno == len(source.splitlines())


def _resolve(name: str) -> tuple[str, object]:
    """``("ok", obj)``, ``("missing", parent)`` or ``("absent", None)`` when no module prefix imports."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return "missing", obj
            obj = getattr(obj, attr)
        return "ok", obj
    return "absent", None


def test_names_and_aliases_of_importable_libraries_exist() -> None:
    """Every name whose library is installed resolves, so a typo in the table cannot hide.

    Names may go through a factory function (``threading.Lock`` is one, so is
    ``multiprocessing.Queue``) or an abstract protocol (``io.IOBase.read``); those count when
    another name of the same entry, or the factory, resolves.
    """
    checked = 0
    for entry in ENTRIES:
        results = {name: _resolve(name) for name in entry.names}
        resolved = [name for name, (state, _) in results.items() if state == "ok"]
        for name, (state, parent) in results.items():
            if state != "missing":
                continue
            through_factory = callable(parent) and not isinstance(parent, type)
            assert through_factory or resolved, f"{name!r} (entry {entry.name!r}) does not exist"
        checked += sum(state != "absent" for state, _ in results.values())
    for name in CATALOG.types:
        assert _resolve(name)[0] != "missing", f"[[type]] {name!r} does not exist"
    # the standard library alone covers most of the table
    assert checked >= 250


def test_lookup_finds_names_and_aliases() -> None:
    get = CATALOG.lookup("requests.get")
    assert get is not None
    assert CATALOG.lookup("requests.api.get") is get
    assert "requests.api.get" in CATALOG
    assert CATALOG.lookup("io.open") is CATALOG.lookup("builtins.open")
    assert CATALOG.lookup("genericpath.exists") is CATALOG.lookup("os.path.exists")
    assert CATALOG.lookup("threading.Lock.__enter__") is CATALOG.lookup("threading.Lock.acquire")
    assert CATALOG.lookup("asyncio.sleep") is None
    assert "asyncio.sleep" not in CATALOG


def test_returns_follow_instances() -> None:
    assert CATALOG.returns("builtins.open") == "io.IOBase"
    assert CATALOG.returns("io.open") == "io.IOBase"
    assert CATALOG.returns("sqlite3.connect") == "sqlite3.Connection"
    assert CATALOG.returns("sqlite3.Connection.cursor") == "sqlite3.Cursor"
    assert CATALOG.returns("requests.Session") == "requests.Session"
    assert CATALOG.returns("requests.session") == "requests.Session"
    assert CATALOG.returns("socket.socket") == "socket.socket"
    assert CATALOG.returns("threading.Lock") == "threading.Lock"
    assert CATALOG.returns("pathlib.Path") == "pathlib.Path"
    assert CATALOG.returns("queue.Queue") == "queue.Queue"
    assert CATALOG.returns("redis.Redis") == "redis.Redis"
    assert CATALOG.returns("sqlalchemy.orm.Session") == "sqlalchemy.orm.Session"
    assert CATALOG.returns("time.sleep") is None
    assert CATALOG.returns("sqlalchemy.orm.sessionmaker.__call__") == "sqlalchemy.orm.Session"
    assert CATALOG.returns("pymongo.MongoClient.__getitem__") == "pymongo.database.Database"
    assert CATALOG.element("pathlib.Path.glob") == "pathlib.Path"
    assert CATALOG.element("pathlib.Path.read_text") is None
    # every factory's result has at least one blocking method in the table, or is itself returned on;
    # plain built-in values mark the non-blocking helpers of a ``Type.*`` entry
    prefixes = {name.rsplit(".", 1)[0] for entry in ENTRIES for name in entry.names}
    for returned in set(CATALOG.types.values()) - {
        "builtins.bool",
        "builtins.str",
        "builtins.dict",
    }:
        followed = {v for k, v in CATALOG.types.items() if k.startswith(returned + ".")}
        assert returned in prefixes or followed, f"nothing blocking is known on {returned!r}"


def test_nonblocking_keywords() -> None:
    lock = CATALOG.lookup("threading.Lock.acquire")
    assert lock is not None
    assert "blocking@0=False" in map(str, lock.nonblocking)
    queue_get = CATALOG.lookup("queue.Queue.get")
    assert queue_get is not None
    assert "block@0=False" in map(str, queue_get.nonblocking)
    shutdown = CATALOG.lookup("concurrent.futures.Executor.shutdown")
    assert shutdown is not None
    assert shutdown.nonblocking == (
        Condition(keyword="wait", position=0, match=Match.EQUALS, value=False, text="wait@0=False"),
    )
    resolver = CATALOG.lookup("socket.getaddrinfo")
    assert resolver is not None
    assert resolver.nonblocking == (
        Condition(
            keyword="flags",
            position=5,
            match=Match.FLAG,
            value="socket.AI_NUMERICHOST",
            text="flags@5=socket.AI_NUMERICHOST",
        ),
    )


def test_by_audit_event_and_by_kind() -> None:
    assert [entry.name for entry in CATALOG.by_audit_event("open")] == ["builtins.open", "os.open"]
    assert CATALOG.by_audit_event("socket.getaddrinfo")[0].name == "socket.getaddrinfo"
    assert CATALOG.by_audit_event("import")[0].name == "builtins.__import__"
    assert CATALOG.by_audit_event("no.such.event") == ()
    sleeps = CATALOG.by_kind(Kind.SLEEP)
    assert sleeps[0].name == "time.sleep"
    assert all(entry.kind is Kind.SLEEP for entry in sleeps)


def test_render_fix() -> None:
    sleep = CATALOG.lookup("time.sleep")
    assert sleep is not None
    assert sleep.render_fix("time.sleep", "0.5") == "await asyncio.sleep(0.5)"
    assert sleep.render_fix("nap", "") == "await asyncio.sleep()"
    read = CATALOG.lookup("pathlib.Path.read_text")
    assert read is not None
    assert read.render_fix("path.read_text", "") == "await asyncio.to_thread(path.read_text)"
    assert (
        read.render_fix("path.read_text", 'encoding="utf-8"')
        == 'await asyncio.to_thread(path.read_text, encoding="utf-8")'
    )
    connect = CATALOG.lookup("sqlite3.Connection.execute")
    assert connect is not None
    assert connect.fix is None
    assert connect.render_fix("conn.execute", "sql") is None


def test_default_catalog_is_cached_and_digest_is_stable() -> None:
    assert default_catalog() is CATALOG
    text = _table_text()
    again = catalog_from_text(text)
    assert again.digest == CATALOG.digest
    assert again.entries == CATALOG.entries
    extended = CATALOG.extended([{"name": "mylib.fetch", **BASE}])
    assert extended.digest != CATALOG.digest


# ---- user extensions ------------------------------------------------------------------------


def test_user_entry_is_added() -> None:
    extended = CATALOG.extended(
        [{"name": "mylib.fetch", **BASE, "aliases": ["mylib.api.fetch"], "returns": "mylib.Page"}],
        source="pyproject.toml",
    )
    entry = extended.lookup("mylib.api.fetch")
    assert entry is not None
    assert entry.name == "mylib.fetch"
    assert entry.code == "UNS103"
    assert entry.example is None  # optional for users
    assert extended.returns("mylib.fetch") == "mylib.Page"
    assert len(extended) == len(CATALOG) + 1
    assert CATALOG.lookup("mylib.fetch") is None  # the original is untouched


def test_user_entry_replaces_a_builtin_with_all_its_aliases() -> None:
    table = {"name": "requests.get", "kind": "sleep", "why": "Mine.", "alternative": "Other."}
    extended = CATALOG.extended([table])
    entry = extended.lookup("requests.get")
    assert entry is not None
    assert (entry.why, entry.code) == ("Mine.", "UNS101")
    assert extended.lookup("requests.api.get") is None
    assert len(extended) == len(CATALOG)
    by_alias = CATALOG.extended([{**table, "name": "requests.api.get"}])
    assert by_alias.lookup("requests.get") is None
    assert by_alias.lookup("requests.api.get") is not None


def test_user_entry_offload_defaults_to_the_kind() -> None:
    extended = CATALOG.extended([{"name": "mylib.crunch", **BASE, "kind": "cpu"}])
    entry = extended.lookup("mylib.crunch")
    assert entry is not None
    assert entry.offload is Offload.PROCESS
    thread = CATALOG.extended(
        [{"name": "mylib.crunch", **BASE, "kind": "cpu", "offload": "thread"}]
    )
    crunch = thread.lookup("mylib.crunch")
    assert crunch is not None
    assert crunch.offload is Offload.THREAD


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"name": "mylib.fetch", **BASE, "timeout": 3},
            "Catalog entry 'mylib.fetch' in pyproject.toml has unknown key(s) 'timeout'; valid keys are "
            "aliases, alternative, audit_event, example, fix, kind, name, nonblocking, offload, once, returns, why, yields.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "kind": "telepathy"},
            "Catalog entry 'mylib.fetch' in pyproject.toml has kind 'telepathy'; valid kinds are "
            "sleep, file, network, dns, ssl, subprocess, database, thread, cpu, import.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "offload": "gpu"},
            "Catalog entry 'mylib.fetch' in pyproject.toml has offload 'gpu'; valid values are thread, process.",
        ),
        (
            {"name": "my lib", **BASE},
            "A catalog entry in pyproject.toml has 'name' = 'my lib'; it must be a dotted qualified name such "
            "as 'time.sleep', or a type's name followed by '.*' for all its methods.",
        ),
        (
            {"name": "mylib.*.fetch", **BASE},
            "A catalog entry in pyproject.toml has 'name' = 'mylib.*.fetch'; it must be a dotted qualified name "
            "such as 'time.sleep', or a type's name followed by '.*' for all its methods.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "yields": "each page"},
            "Catalog entry 'mylib.fetch' in pyproject.toml has yields 'each page'; it must be a dotted qualified "
            "type name such as 'sqlite3.Connection'.",
        ),
        (
            {"name": "mylib.fetch", "kind": "network", "why": "", "alternative": "x"},
            "Catalog entry 'mylib.fetch' in pyproject.toml needs a non-empty string 'why'.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "fix": "await {function}({args})"},
            "Catalog entry 'mylib.fetch' in pyproject.toml has fix 'await {function}({args})' with unknown "
            "placeholder(s) 'function'; only {func} and {args} may appear.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "fix": "await {func"},
            "Catalog entry 'mylib.fetch' in pyproject.toml has fix 'await {func', which is not a valid template "
            "(expected '}' before end of string); use {func} and {args} as placeholders.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "nonblocking": ["wait"]},
            "Catalog entry 'mylib.fetch' in pyproject.toml has nonblocking 'wait'; each item must be "
            "'keyword=value' or 'keyword@position=value', such as 'blocking=False' or 'blocking@0=False'.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "nonblocking": ["wait=open()"]},
            "Catalog entry 'mylib.fetch' in pyproject.toml has nonblocking 'wait=open()'; its value 'open()' "
            "must be a literal (False, 0, 'r'), '*' for any value but None, or a named constant such as "
            "socket.AI_NUMERICHOST.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "aliases": ["mylib.fetch"]},
            "Catalog entry 'mylib.fetch' in pyproject.toml has alias 'mylib.fetch'; aliases must be dotted "
            "qualified names other than the entry's own name.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "aliases": 3},
            "Catalog entry 'mylib.fetch' in pyproject.toml: 'aliases' must be a string or a list of strings, got 3.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "returns": "a page"},
            "Catalog entry 'mylib.fetch' in pyproject.toml has returns 'a page'; it must be a dotted qualified "
            "type name such as 'sqlite3.Connection'.",
        ),
        (
            {"name": "mylib.fetch", **BASE, "example": 1},
            "Catalog entry 'mylib.fetch' in pyproject.toml: 'example' must be a non-empty string, got 1.",
        ),
    ],
)
def test_bad_user_entries_are_clear_errors(table: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogError) as info:
        CATALOG.extended([table], source="pyproject.toml")
    assert str(info.value) == message
    if table["name"] not in ("my lib", "mylib.*.fetch"):
        assert info.value.entry == table["name"]


def test_two_user_entries_with_one_name_are_an_error() -> None:
    tables = [{"name": "mylib.a", **BASE}, {"name": "mylib.b", **BASE, "aliases": ["mylib.a"]}]
    with pytest.raises(CatalogError) as info:
        CATALOG.extended(tables, source="pyproject.toml")
    assert str(info.value) == (
        "Two catalog entries in pyproject.toml, 'mylib.a' and 'mylib.b', both name 'mylib.a'; "
        "give each name to one entry only."
    )


def test_entry_from_table_can_require_an_example() -> None:
    with pytest.raises(CatalogError, match="has no 'example'"):
        entry_from_table(
            {"name": "mylib.fetch", **BASE}, CATALOG.kinds, source="x", require_example=True
        )
    entry = entry_from_table(
        {"name": "mylib.fetch", **BASE, "example": "import mylib\nmylib.fetch()"},
        CATALOG.kinds,
        source="x",
        require_example=True,
    )
    assert entry.example_split() == (("import mylib",), ("mylib.fetch()",))
    assert entry.example_module() == "import mylib\n\n\nasync def handler():\n    mylib.fetch()\n"


# ---- the table file itself ------------------------------------------------------------------


def _table_text() -> str:
    from importlib import resources

    return resources.files("unstall.catalog").joinpath("blocking.toml").read_text(encoding="utf-8")


_KINDS_ONLY = _table_text().split("\n[[entry]]", 1)[0]
_ENTRY = '\n[[entry]]\nname = "a.b"\nkind = "sleep"\nwhy = "W."\nalternative = "A."\nexample = "import a\\na.b()"\n'


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '\n[[entry]]\nname = "a.b"\nkind = "sleep"\nwhy = "W."\nalternative = "A."\n',
            "has no 'example'",
        ),
        (
            _ENTRY
            + _ENTRY.replace('"a.b"', '"a.c"').replace(
                "alternative", 'aliases = ["a.b"]\nalternative'
            ),
            "both name 'a.b'",
        ),
        (
            _ENTRY + '\n[[type]]\nname = "a.b"\nreturns = "a.B"\n',
            "names a blocking entry; set 'returns' or 'yields' on that entry instead",
        ),
        (
            _ENTRY
            + '\n[[type]]\nname = "a.f"\nreturns = "a.B"\n[[type]]\nname = "a.f"\nreturns = "a.C"\n',
            "Two [[type]] rows in the built-in table (blocking.toml) name 'a.f'",
        ),
        (
            _ENTRY + '\n[[type]]\nname = "a.f"\n',
            "must have the key 'name' and 'returns', 'yields' or both",
        ),
        (
            _ENTRY + '\n[[type]]\nname = "a.f"\nreturns = "a.B"\nsize = 1\n',
            "must have the key 'name' and 'returns', 'yields' or both",
        ),
        (
            _ENTRY + '\n[[type]]\nname = "a.f"\nyields = "not a type"\n',
            "both must be dotted qualified names",
        ),
        (
            _ENTRY + '\n[[type]]\nname = "a.f"\nreturns = "not a type"\n',
            "both must be dotted qualified names",
        ),
        (_ENTRY + "\n[extra]\nx = 1\n", "unknown top-level key(s) 'extra'"),
    ],
)
def test_table_errors(extra: str, message: str) -> None:
    with pytest.raises(CatalogError) as info:
        catalog_from_text(_KINDS_ONLY + extra)
    assert message in str(info.value)


def test_kinds_table_errors() -> None:
    with pytest.raises(CatalogError, match=r"has no \[kinds.import\] table"):
        catalog_from_text(_KINDS_ONLY.split("[kinds.import]")[0])
    with pytest.raises(CatalogError, match="codes must look like 'UNS101' and be unique"):
        catalog_from_text(_KINDS_ONLY.replace('"UNS110"', '"UNS101"'))
    with pytest.raises(CatalogError, match="not valid TOML"):
        catalog_from_text("[kinds")
    assert isinstance(catalog_from_text(_KINDS_ONLY + _ENTRY), Catalog)


def test_any_method_entry_covers_public_methods_but_not_helpers() -> None:
    extended = CATALOG.extended(
        [{"name": "mylib.Client.*", **BASE}],
    )
    entry = extended.lookup("mylib.Client.fetch_all")
    assert entry is not None
    assert entry.name == "mylib.Client.*"
    assert "mylib.Client.fetch_all" in extended
    assert extended.lookup("mylib.Client._private") is None
    assert extended.lookup("mylib.Client.__enter__") is None
    assert extended.lookup("mylib.Client.inner.fetch") is None
    assert extended.lookup("mylib.fetch") is None
    # a [[type]] row marks a method as a non-blocking helper
    boto = CATALOG.lookup("botocore.client.BaseClient.upload_file")
    assert boto is not None
    assert boto.name == "botocore.client.BaseClient.*"
    assert CATALOG.lookup("botocore.client.BaseClient.get_paginator") is None


def test_nonblocking_any_value_keyword() -> None:
    entry = CATALOG.lookup("tarfile.open")
    assert entry is not None
    assert [(item.keyword, item.match) for item in entry.nonblocking] == [("fileobj", Match.GIVEN)]


@pytest.mark.parametrize(
    ("text", "given", "accepted"),
    [
        ("blocking=False", False, True),
        ("blocking=False", True, False),
        ("blocking=False", ..., False),
        ("timeout@1=0", 0, True),
        ("fileobj=*", ..., True),
        ("fileobj=*", None, False),
        ("flags@5=socket.AI_NUMERICHOST", frozenset({"socket.AI_NUMERICHOST"}), True),
        (
            "flags@5=socket.AI_NUMERICHOST",
            frozenset({"socket.AI_NUMERICHOST", "socket.AI_CANONNAME"}),
            True,
        ),
        ("flags@5=socket.AI_NUMERICHOST", frozenset({"socket.AI_CANONNAME"}), False),
        ("flags@5=socket.AI_NUMERICHOST", 4, False),
        ("fp@0=io.BytesIO()", frozenset({"io.BytesIO()"}), True),
        ("fp@0=io.BytesIO()", frozenset({"io.StringIO()"}), False),
        ("fp@0=io.BytesIO()", frozenset({"io.BytesIO"}), False),
        ("fp@0=io.BytesIO()", ..., False),
    ],
)
def test_nonblocking_conditions_are_parsed_once_and_evaluated(
    text: str, given: object, accepted: bool
) -> None:
    entry = entry_from_table(
        {"name": "mylib.fetch", **BASE, "nonblocking": [text]}, CATALOG.kinds, source="test"
    )
    (condition,) = entry.nonblocking
    assert str(condition) == text
    assert condition.accepts(given) is accepted
    keyword, _, position = text.partition("=")[0].partition("@")
    assert condition.keys == ({keyword, f"@{position}"} if position else {keyword})


def test_a_boundary_row_says_whether_its_memo_forgets() -> None:
    rows = {row.name: row for row in CATALOG.boundaries}
    assert rows["cachetools.func.ttl_cache"].forgets
    assert rows["functools.cached_property"].forgets
    assert not rows["functools.cache"].forgets
    table = {"name": "mylib.memo", "kind": "memoize", "why": "It caches.", "forgets": "yes"}
    with pytest.raises(CatalogError, match=r"has forgets = 'yes'; it must be true or false"):
        boundary_from_table(table, "x")
    assert boundary_from_table({**table, "forgets": True}, "x").forgets
