"""The check caches hold data only: what a run stores comes back exactly, and nothing a cache
file holds (a pickle, corrupt or hostile JSON) runs code, raises, or changes the findings."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.check.conftest import Cli, Project

import unstall
from unstall import __version__
from unstall.check import Config, check
from unstall.check._cache import _SUMMARIZER_FILES, Cache, _Stored, _summarizer_fingerprint
from unstall.check._codec import CacheMismatch, codec_for
from unstall.check._run_cache import load_result
from unstall.check._runner import CheckResult

APP = {
    "app/__init__.py": "",
    "app/io.py": """
        import functools
        import socket
        import subprocess
        import time
        from pathlib import Path

        LIMIT = 10 ** 40
        NAMES = frozenset({"a", "b"})


        def fetch(url, timeout=3.5, retries=2, mode=("r", None), big=LIMIT, flag=True):
            if mode == "w":
                return None
            if timeout is None:
                time.sleep(1)
            return subprocess.run(["ls", url], check=False, capture_output=True)


        @functools.cache
        def config():
            return Path("x").read_text()


        class Client:
            path: str = "x"

            def get(self, key=...):
                return socket.create_connection(("h", 80))
        """,
    "app/main.py": """
        import asyncio
        import time

        from app.io import Client, config, fetch


        async def handler(url):
            fetch(url, timeout=None, mode="r")
            config()
            Client().get(key=-(2 ** 70))
            asyncio.create_task(work())
            for item in range(3):
                await work(item)
            time.sleep(0.5)  # noqa: UNS101
            with open("f") as handle:
                return handle.read()


        async def work(item=0):
            await asyncio.sleep(0)
            time.sleep(item)
        """,
}
FILES = len(APP)
# A file with a syntax error is kept in the summary cache as its finding (a run with one
# keeps no last result).
BROKEN = {"broken.py": "def (:\n"}


def same(left: object, right: object) -> bool:
    """Equal, and of the same types all the way down (a list is no tuple, True is no 1)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, tuple | list):
        assert isinstance(right, tuple | list)
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, dict):
        assert isinstance(right, dict)
        return list(left) == list(right) and all(same(left[key], right[key]) for key in left)
    if isinstance(left, frozenset):
        assert isinstance(right, frozenset)
        return sorted(map(repr, left)) == sorted(map(repr, right))
    if dataclasses.is_dataclass(left) and not isinstance(left, type):
        return all(
            same(getattr(left, field.name), getattr(right, field.name))
            for field in dataclasses.fields(left)
        )
    return left == right


def cache_files(root: Path) -> tuple[Path, Path]:
    folder = root / ".unstall_cache"
    (summaries,) = folder.glob("check-*.json")
    (result,) = folder.glob("result-*.json")
    return summaries, result


def test_every_record_either_cache_holds_has_a_codec() -> None:
    assert codec_for(_Stored).schema != codec_for(CheckResult).schema


def test_a_real_checks_caches_round_trip_exactly(project: Project) -> None:
    root = project(APP)
    first = check([root], config=Config(root=root), jobs=1)
    assert first.stats.summarized == FILES
    saved = load_result(root / ".unstall_cache", root, "another key", CheckResult)
    assert saved is None
    (result_file,) = (root / ".unstall_cache").glob("result-*.json")
    loaded, header = codec_for(CheckResult).loads(result_file.read_bytes())
    assert same(loaded, [first])
    assert load_result(root / ".unstall_cache", root, header["key"], CheckResult) is not None

    project(BROKEN)
    first = check([root], config=Config(root=root), jobs=1)
    assert {f.code for f in first.findings} >= {"UNS101", "UNS901"}
    entries = Cache(root / ".unstall_cache", cwd=root).entries
    assert sorted(entries) == sorted([*APP, *BROKEN])
    rows = [_Stored(*item) for item in entries.items()]
    codec = codec_for(_Stored)
    back, _ = codec.loads(codec.dumps(rows))
    assert same(back, rows)
    assert codec.dumps(back) == codec.dumps(rows)

    warm = check([root], config=Config(root=root), jobs=1)
    assert same(warm.findings, first.findings)
    assert (warm.stats.summarized, warm.stats.cached) == (0, FILES + 1)


@pytest.mark.slow
def test_the_summaries_of_unstalls_own_source_round_trip_exactly(tmp_path: Path) -> None:
    source = Path(unstall.__file__).parent
    result = check([source], config=Config(root=source), jobs=2, cache_dir=tmp_path)
    entries = Cache(tmp_path, cwd=Path.cwd()).entries
    assert len(entries) == result.stats.files > 100
    rows = [_Stored(*item) for item in entries.items()]
    back, _ = codec_for(_Stored).loads(codec_for(_Stored).dumps(rows))
    assert same(back, rows)
    again, _ = codec_for(CheckResult).loads(codec_for(CheckResult).dumps([result]))
    assert same(again, [result])


class _Planted:
    """Unpickling this creates ``marker``: proof that a cache file was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return os.mkdir, (str(self.marker),)


def test_a_hostile_pickle_where_a_cache_lives_is_never_loaded(
    project: Project, cli: Cli, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = project(APP)
    cold = cli(".")
    marker = tmp_path_factory.mktemp("outside") / "unpickled"
    payload = pickle.dumps(_Planted(marker))
    folder = root / ".unstall_cache"
    key = hashlib.blake2b(str(root.resolve()).encode(), digest_size=6).hexdigest()
    minor = f"{sys.version_info.major}{sys.version_info.minor}"
    old_names = (
        f"check-{__version__}-py{minor}-{_summarizer_fingerprint()}-{key}.pickle",
        f"result-{key}.pickle",
    )
    for name in old_names:
        (folder / name).write_bytes(payload)
    for path in cache_files(root):  # the data-only files too
        path.write_bytes(payload)

    warm = cli(".")
    assert not marker.exists()
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        cold.returncode,
        cold.stdout,
        cold.stderr,
    )
    for path in cache_files(root):
        path.write_bytes(payload)
    assert check(["."], jobs=1).stats.summarized == FILES
    assert not marker.exists()
    # The payload is live: unpickling it is what would have created the marker.
    pickle.loads(payload)
    assert marker.is_dir()


def test_a_cache_folder_that_is_a_link_is_not_written_through(
    project: Project,
    cli: Cli,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = project(APP)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (root / ".unstall_cache").symlink_to(elsewhere, target_is_directory=True)
    user = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(user))
    monkeypatch.delenv("UNSTALL_CACHE_DIR", raising=False)
    cold = cli(".")
    warm = cli(".")
    assert list(elsewhere.iterdir()) == []
    # The cache went to the user's own cache folder, and it is used.
    assert [path.name for path in (user / "unstall").iterdir()]
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout)
    assert check(["."], jobs=1).stats.summarized == 0
    assert list(elsewhere.iterdir()) == []


def _edit(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], object]:
    def damage(path: Path) -> None:
        document = json.loads(path.read_bytes())
        change(document)
        path.write_text(json.dumps(document), encoding="utf-8")

    return damage


def _uses(document: dict[str, Any]) -> dict[str, Any]:
    summaries = document["rows"]["entry"]["result"]["options"][0]
    return summaries["functions"]["items"]["uses"]["items"]  # type: ignore[no-any-return]


def _set(column: Callable[[dict[str, Any]], list[Any]], value: object) -> Callable[[Path], object]:
    def change(document: dict[str, Any]) -> None:
        column(document)[0] = value

    return _edit(change)


def _deeply_nested(path: Path) -> None:
    path.write_bytes(b'{"rows": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")


def _link_to_dev_zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def _directory(path: Path) -> None:
    if not path.is_dir():  # a run cannot replace it: it stays
        path.unlink()
        path.mkdir()


DAMAGES: dict[str, Callable[[Path], object]] = {
    "empty": lambda path: path.write_bytes(b""),
    "truncated": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "corrupt": lambda path: path.write_bytes(b"\x80\x00garbage\xff" * 100),
    "foreign JSON": lambda path: path.write_text('{"mod.py": [1, 2, 3]}', encoding="utf-8"),
    "a JSON list": lambda path: path.write_text("[1, 2, 3]", encoding="utf-8"),
    "wrong version": _edit(lambda document: document.update(version=document["version"] + 1)),
    "wrong schema": _edit(lambda document: document.update(schema="0" * 24)),
    "rows of the wrong shape": _edit(lambda document: document.update(rows=[[1, 2]])),
    "a count too large": _edit(lambda document: document.update(count=10**30)),
    "a string table with a number": _edit(lambda document: document["strings"].append(7)),
    "a huge number": _set(lambda document: document["rows"]["entry"]["size"], 10**30),
    "a float for an int": _set(lambda document: document["rows"]["entry"]["size"], 1.5),
    "NaN for an int": _set(lambda document: document["rows"]["entry"]["mtime_ns"], float("nan")),
    "a string index out of range": _set(lambda document: document["rows"]["path"], 10**6),
    "a use enclosing itself": _set(lambda document: _uses(document)["parent"], 0),
    "a guard that is not there": _set(lambda document: _uses(document)["guard"], 10**6),
    "deeply nested": _deeply_nested,
    "a link to /dev/zero": _link_to_dev_zero,
    "a directory": _directory,
}


def _damage_summaries(root: Path, damage: Callable[[Path], object]) -> None:
    """Damage the summary cache and drop the last result, so the next run must read the summaries."""
    summaries, result = cache_files(root)
    result.unlink()
    damage(summaries)


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_cache_gives_a_cold_run_with_the_same_findings(
    project: Project, cli: Cli, damage: Callable[[Path], object]
) -> None:
    root = project(APP)
    cold = cli(".")
    assert cold.returncode == 1
    assert "UNS101" in cold.stdout
    _damage_summaries(root, damage)
    warm = cli(".")
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        cold.returncode,
        cold.stdout,
        cold.stderr,
    )

    _damage_summaries(root, damage)
    damaged = check(["."], jobs=1)
    assert (damaged.stats.summarized, damaged.stats.cached) == (FILES, 0)
    assert same(damaged.findings, check(["."], jobs=1, use_cache=False).findings)


RESULT_DAMAGES: dict[str, Callable[[Path], object]] = {
    "truncated": DAMAGES["truncated"],
    "foreign JSON": DAMAGES["foreign JSON"],
    "a link to /dev/zero": _link_to_dev_zero,
    "a code that is no string": _set(
        lambda document: document["rows"]["findings"]["items"]["code"], 10**6
    ),
    "a huge line": _set(
        lambda document: document["rows"]["findings"]["items"]["location"]["line"], 10**30
    ),
}


@pytest.mark.parametrize("damage", RESULT_DAMAGES.values(), ids=RESULT_DAMAGES.keys())
def test_a_damaged_last_result_is_not_reused(
    project: Project, cli: Cli, damage: Callable[[Path], object]
) -> None:
    root = project(APP)
    cold = cli(".")
    damage(cache_files(root)[1])
    warm = cli(".")
    assert (warm.returncode, warm.stdout, warm.stderr) == (
        cold.returncode,
        cold.stdout,
        cold.stderr,
    )
    damage(cache_files(root)[1])
    again = check(["."], jobs=1)
    assert again.stats.seconds > 0
    assert (again.stats.summarized, again.stats.cached) == (0, FILES)  # from the summaries
    assert same(again.findings, check(["."], jobs=1, use_cache=False).findings)


@pytest.fixture(scope="module")
def valid_documents(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    root = tmp_path_factory.mktemp("valid")
    for name, text in APP.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    check([root], config=Config(root=root), jobs=1, cache_dir=root / "cache")
    summaries = next((root / "cache").glob("check-*.json")).read_bytes()
    result = next((root / "cache").glob("result-*.json")).read_bytes()
    codec_for(_Stored).loads(summaries)
    return summaries, result


def _loads_or_mismatch(data: bytes) -> None:
    for codec in (codec_for(_Stored), codec_for(CheckResult)):
        with contextlib.suppress(CacheMismatch):
            codec.loads(data)


@settings(deadline=None, max_examples=300)
@given(st.binary(max_size=2048))
def test_any_bytes_as_a_cache_file_never_raise_out_of_the_loader(data: bytes) -> None:
    _loads_or_mismatch(data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from([-1, 0, 1, 2, 10**20, -(10**30)]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)


def _replace(document: object, steps: list[int], value: object) -> object:
    """``document`` with the node that ``steps`` choose among children replaced by ``value``."""
    if not steps or not isinstance(document, dict | list) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[steps[0] % len(keys)]
    document[key] = _replace(document[key], steps[1:], value)
    return document


@settings(
    deadline=None, max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.integers(0, 50), max_size=12), value=json_values, which=st.booleans())
def test_a_valid_cache_with_any_part_replaced_never_raises_out_of_the_loader(
    valid_documents: tuple[bytes, bytes], steps: list[int], value: object, which: bool
) -> None:
    document = json.loads(valid_documents[which])
    data = json.dumps(_replace(document, steps, value)).encode()
    _loads_or_mismatch(data)
    try:
        rows, _ = codec_for(_Stored).loads(data)
    except CacheMismatch:
        return
    assert all(type(row) is _Stored for row in rows)


def test_the_cache_fingerprint_covers_every_module_that_builds_summaries() -> None:
    # A summary depends on every module of this package that the summarizer and the worker
    # import, directly or not: each must be in the fingerprint, or an edit to it reuses stale
    # summaries.
    folder = Path(unstall.__file__).parent / "check"
    pending = ["_summary.py", "_worker.py"]
    needed: set[str] = set()
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        tree = ast.parse((folder / name).read_text(encoding="utf-8"))
        pending.extend(
            node.module.rpartition(".")[2] + ".py"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module is not None
            and node.module.startswith("unstall.check.")
        )
    assert needed <= set(_SUMMARIZER_FILES)
