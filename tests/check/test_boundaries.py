"""Every boundary row of the catalog does what its kind says, checked from generated sources.

The rows are data: this test reads them from the catalog, so a row added to the table is tested
without a new test, and a row whose kind the analysis ignores fails here.
"""

from __future__ import annotations

import pytest

from unstall.catalog import Boundary, BoundaryKind, default_catalog
from unstall.check import Finding, Frequency
from unstall.check._analyze import AnalysisSettings, analyze
from unstall.check._summary import summarize

CATALOG = default_catalog()


def _findings(source: str) -> list[Finding]:
    summary = summarize(source, path="app.py", module="app", is_package=False)
    return analyze([summary], catalog=CATALOG, settings=AnalysisSettings())


def _codes(source: str) -> list[tuple[int, str]]:
    return sorted((finding.location.line, finding.code) for finding in _findings(source))


def _frequencies(source: str) -> list[tuple[int, Frequency]]:
    return sorted((finding.location.line, finding.frequency) for finding in _findings(source))


def _module_and_rest(name: str) -> tuple[str, list[str]]:
    """``concurrent.futures.ThreadPoolExecutor.submit`` -> (``concurrent.futures``, [class, method])."""
    parts = name.split(".")
    cut = next((i for i, part in enumerate(parts) if part[:1].isupper()), len(parts) - 1)
    return ".".join(parts[:cut]), parts[cut:]


def _offload_call(row: Boundary, target: str) -> tuple[str, str]:
    """(imports, the call) that hands ``target`` (a lambda's source) to the boundary ``row``."""
    module, rest = _module_and_rest(row.name)
    if len(rest) == 2:  # a method: reached through a parameter annotated with its class
        return f"import {module}\n", f"obj.{rest[1]}({target})"
    return f"import {module}\n", f"{row.name}({target})"


def _handler(imports: str, call: str, row: Boundary) -> str:
    module, rest = _module_and_rest(row.name)
    annotation = f"{module}.{rest[0]}" if len(rest) == 2 else "object"
    return f"import time\n{imports}\n\nasync def handler(obj: {annotation}):\n    {call}\n"


OFFLOADS = [row for row in CATALOG.boundaries if row.kind is BoundaryKind.OFFLOAD]


@pytest.mark.parametrize("row", OFFLOADS, ids=[row.name for row in OFFLOADS])
def test_what_an_offload_boundary_is_handed_does_not_run_on_the_loop(row: Boundary) -> None:
    imports, call = _offload_call(row, "lambda: time.sleep(1)")
    assert _codes(_handler(imports, call, row)) == []
    # The same lambda handed to something that is no boundary runs on the loop.
    control = call.replace(row.name.rpartition(".")[2] + "(", "not_a_boundary(", 1)
    assert _codes(_handler(imports, control, row)) == [(6, "UNS101")]


@pytest.mark.parametrize(
    "row", [row for row in OFFLOADS if row.method], ids=[r.name for r in OFFLOADS if r.method]
)
def test_a_method_boundary_is_known_by_its_name_on_any_receiver(row: Boundary) -> None:
    method = row.name.rpartition(".")[2]
    source = f"import time\n\n\nasync def handler(anything):\n    anything.{method}(lambda: time.sleep(1))\n"
    assert _codes(source) == []


@pytest.mark.parametrize(
    "row", CATALOG.boundaries, ids=[f"{row.kind.value}:{row.name}" for row in CATALOG.boundaries]
)
def test_boundary_rows_by_kind(row: Boundary) -> None:
    module = row.name.rpartition(".")[0]
    if row.kind is BoundaryKind.PARTIAL:
        # What a partial wraps runs where the partial goes: off the loop inside an offload call.
        source = (
            f"import asyncio\nimport time\nimport {module}\n\n\nasync def handler():\n"
            f"    await asyncio.to_thread({row.name}(lambda: time.sleep(1)))\n"
        )
        assert _codes(source) == []
    elif row.kind is BoundaryKind.THREADPOOL_DECORATOR:
        # A row with keywords runs the function in a thread only when its call sets them true.
        flags = ", ".join(f"{keyword}=True" for keyword in row.keywords)
        decorator = f"@{row.name}({flags})" if flags else f"@{row.name}"
        source = (
            f"import time\nimport {module}\n\n\n{decorator}\ndef work():\n    time.sleep(1)\n\n\n"
            "async def handler():\n    await work()\n"
        )
        assert _codes(source) == []
        assert _codes(source.replace(f"{decorator}\n", "")) == [(10, "UNS101")]
        if flags:
            unset = source.replace(f"{decorator}\n", f"@{row.name}()\n")
            assert _codes(unset) == [(11, "UNS101")]
            off = source.replace("=True", "=False")
            assert _codes(off) == [(11, "UNS101")]
    elif row.kind is BoundaryKind.CONTEXT_MANAGER and not row.asynchronous:
        # ``with`` runs a context manager's generator up to its yield, on the loop.
        source = (
            f"import time\nimport {module}\n\n\n@{row.name}\ndef opened():\n    time.sleep(1)\n"
            "    yield 1\n\n\nasync def handler():\n    with opened():\n        pass\n"
        )
        assert _codes(source) == [(12, "UNS101")]
        assert _codes(source.replace(f"@{row.name}\n", "")) == []
    elif row.kind is BoundaryKind.CONTEXT_MANAGER:
        # What ``async with`` binds is what the generator yields: its methods are followed.
        source = (
            f"import sqlite3\nimport {module}\n\n\n@{row.name}\n"
            "async def opened(conn: sqlite3.Connection):\n    yield conn\n\n\n"
            "async def handler(conn):\n    async with opened(conn) as db:\n"
            '        db.execute("select 1")\n'
        )
        assert _codes(source) == [(12, "UNS107")]
        assert _codes(source.replace(f"@{row.name}\n", "")) == []
    elif row.kind is BoundaryKind.MEMOIZE:
        _memoize(row)
    elif row.kind is BoundaryKind.LOOP_ENTRY:
        _loop_entry(row)
    elif row.kind is BoundaryKind.MAIN_REGISTRATION:
        _main_registration(row)
    elif row.kind is BoundaryKind.COMMAND_DECORATOR:
        _command_decorator(row)
    elif row.kind is BoundaryKind.CONSTRUCTION_DECORATOR:
        _construction_decorator(row)
    elif row.kind in (
        BoundaryKind.LIFECYCLE_DECORATOR,
        BoundaryKind.LIFECYCLE_REGISTRATION,
        BoundaryKind.LIFECYCLE_METHOD,
        BoundaryKind.MAIN_METHOD,
        BoundaryKind.START_METHOD,
    ):
        _lifecycle(row)
    else:
        assert row.kind is BoundaryKind.OFFLOAD  # covered above


def _memoize(row: Boundary) -> None:
    """A memoized helper blocks on a first call only; one warmed at import, never."""
    module = row.name.rpartition(".")[0]
    if row.name.endswith("cached_property"):
        source = (
            f"import time\nimport {module}\n\n\nclass Box:\n    @{row.name}\n"
            "    def data(self):\n        time.sleep(1)\n        return 1\n\n\n"
            "async def handler(box: Box):\n    return box.data\n"
        )
        assert _frequencies(source) == [(13, Frequency.FIRST)]
        return
    for decorator in (row.name, row.name + "()"):
        source = (
            f"import time\nimport {module}\n\n\n@{decorator}\ndef load(name='a'):\n"
            "    time.sleep(1)\n\n\nasync def handler():\n    load('b')\n"
        )
        (finding,) = _findings(source)
        assert (finding.location.line, finding.frequency) == (11, Frequency.FIRST)
        assert finding.reason == row.name
        # Module-level code fills the cache for 'b': every call with 'b' is a hit.
        warmed = source.replace("\n\n\nasync def", "\n\n\nload('b')\n\n\nasync def")
        assert _frequencies(warmed) == []
        assert _frequencies(warmed.replace("    load('b')\n", "    load('c')\n")) == [
            (14, Frequency.FIRST)
        ]


def _loop_entry(row: Boundary) -> None:
    """The coroutine a loop entry runs is start-up code: it runs once, outside its loops."""
    module, rest = _module_and_rest(row.name)
    runner = f"{row.name}(main())" if len(rest) < 2 else f"runner.{rest[-1]}(main())"
    source = (
        f"import time\nimport {module}\n\n\nasync def main():\n    time.sleep(1)\n"
        "    while True:\n        time.sleep(1)\n\n\n"
        f"def cli(runner: {module}.{rest[0] if len(rest) > 1 else 'object'}):\n    {runner}\n"
    )
    assert _frequencies(source) == [(6, Frequency.STARTUP), (8, Frequency.EVERY)]


def _main_registration(row: Boundary) -> None:
    """What a main registration is given runs once: its code is start-up, its loops repeat."""
    module, rest = _module_and_rest(row.name)
    keyword = row.keywords[0] if row.keywords else None
    passed = f"{keyword}=command" if keyword else "command"
    source = (
        f"import time\nimport {module}\n\n\nasync def command(args):\n    time.sleep(1)\n"
        "    while True:\n        time.sleep(1)\n\n\n"
        f"def cli(parser: {module}.{rest[0]}):\n    parser.{rest[-1]}({passed})\n"
    )
    assert _frequencies(source) == [(6, Frequency.STARTUP), (8, Frequency.EVERY)]
    if keyword:
        other = source.replace(f"{keyword}=command", "other=command")
        assert _frequencies(other) == [(6, Frequency.EVERY), (8, Frequency.EVERY)]


def _command_decorator(row: Boundary) -> None:
    """A command-line command runs once per invocation: its code is start-up, its loops
    repeat, unless a handler of the serving program calls it."""
    module, rest = _module_and_rest(row.name)
    if len(rest) > 1:  # a method of an app object
        setup = f"app = {module}.{rest[0]}()\n\n\n"
        decorator = f"@app.{rest[-1]}()"
    else:
        setup = ""
        decorator = f"@{row.name}()"
    source = (
        f"import time\nimport {module}\n\n\n{setup}{decorator}\nasync def command():\n"
        "    time.sleep(1)\n    while True:\n        time.sleep(1)\n"
    )
    line = source.count("\n", 0, source.index("    time.sleep")) + 1
    assert _frequencies(source) == [(line, Frequency.STARTUP), (line + 2, Frequency.EVERY)]
    assert _frequencies(source.replace(f"{decorator}\n", "")) == [
        (line - 1, Frequency.EVERY),
        (line + 1, Frequency.EVERY),
    ]
    served = f"{source}\n\nasync def handle(request):\n    await command()\n"
    assert _frequencies(served) == [(line, Frequency.EVERY), (line + 2, Frequency.EVERY)]


def _construction_decorator(row: Boundary) -> None:
    """What a validator fills once while the object is built is warm for its methods."""
    module = _module_and_rest(row.name)[0]
    source = (
        f"import functools\nimport time\nimport {module}\n\n\n@functools.cache\n"
        "def load():\n    time.sleep(1)\n\n\nclass Model:\n"
        f"    @{row.name}\n    def check(cls, values):\n        load()\n        return values\n\n"
        "    async def handle(self):\n        load()\n"
    )
    assert _frequencies(source) == []
    assert _frequencies(source.replace(f"    @{row.name}\n", "")) == [(17, Frequency.FIRST)]


def _lifecycle(row: Boundary) -> None:
    """What a lifecycle boundary marks runs at start-up: its findings leave the default tier."""
    module, rest = _module_and_rest(row.name)
    handler = "async def hook():\n    time.sleep(1)\n"
    header = f"import time\nimport {module}\n\n\n"
    if row.kind is BoundaryKind.START_METHOD:
        # Started once per object, unless a request handler of the project starts one.
        source = (
            f"{header}class Client:\n    async def {rest[-1]}(self):\n        time.sleep(1)\n"
            "        while True:\n            time.sleep(1)\n"
        )
        assert _frequencies(source) == [(7, Frequency.STARTUP), (9, Frequency.EVERY)]
        called = f"{source}\n\nasync def handle(request):\n    await Client().{rest[-1]}()\n"
        assert _frequencies(called) == [(7, Frequency.EVERY), (9, Frequency.EVERY)]
        return
    if row.kind is BoundaryKind.MAIN_METHOD:
        # A main coroutine runs once, but what it does in its loops repeats while it serves.
        source = (
            f"{header}class Server:\n    async def {rest[-1]}(self):\n        time.sleep(1)\n"
            "        while True:\n            time.sleep(1)\n"
        )
        assert _frequencies(source) == [(7, Frequency.STARTUP), (9, Frequency.EVERY)]
        return
    if row.kind is BoundaryKind.LIFECYCLE_METHOD:
        source = f"{header}class Server:\n    async def {rest[-1]}(self):\n        time.sleep(1)\n"
        assert _frequencies(source) == [(7, Frequency.STARTUP)]
        renamed = source.replace(f"def {rest[-1]}(", "def handle_request(")
        assert _frequencies(renamed) == [(7, Frequency.EVERY)]
        return
    if row.kind is BoundaryKind.LIFECYCLE_DECORATOR:
        source = f"{header}app = {module}.{rest[0]}()\n\n\n@app.{rest[-1]}\n{handler}"
        line = 10
    elif row.keywords:
        registration = f"{module}.{rest[0]}({row.keywords[0]}=hook)"
        source = f"{header}{handler}\n\napp = {registration}\n"
        line = 6
    else:
        call = ".".join(rest[1:])
        source = f"{header}{handler}\n\ndef main(app: {module}.{rest[0]}):\n    app.{call}(hook)\n"
        line = 6
    assert _frequencies(source) == [(line, Frequency.STARTUP)]
