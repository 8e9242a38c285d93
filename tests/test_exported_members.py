"""Exported classes and functions are named by their public path: ``unstall.Offloader``, not
``unstall.offload._offloader.Offloader`` (as httpx names ``httpx.Client``)."""

from __future__ import annotations

import importlib
import inspect
import pickle
import subprocess
import sys

import pytest

import unstall
import unstall.bench
import unstall.offload
import unstall.watch

PUBLIC_MODULES = (
    "unstall",
    "unstall.errors",
    "unstall.catalog",
    "unstall.check",
    "unstall.watch",
    "unstall.offload",
    "unstall.bench",
    "unstall.server",
    "unstall.integrations",
    "unstall.integrations.asgi",
    "unstall.integrations.aiohttp",
    "unstall.integrations.prometheus",
    "unstall.integrations.opentelemetry",
)


def _exported(name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(name)
    return [
        (attr, value)
        for attr in module.__all__
        if inspect.isclass(value := getattr(module, attr))
        or (callable(value) and inspect.isfunction(inspect.unwrap(value)))
    ]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_export_is_named_by_a_public_module_that_exports_it(name: str) -> None:
    for attr, value in _exported(name):
        home: str = value.__module__
        assert not any(part.startswith("_") for part in home.split(".")), f"{name}.{attr}: {home}"
        assert home in PUBLIC_MODULES, f"{name}.{attr} is named by {home}"
        home_module = importlib.import_module(home)
        assert attr in home_module.__all__
        assert getattr(home_module, attr) is value


def test_what_unstall_exports_is_named_unstall() -> None:
    for attr, value in _exported("unstall"):
        assert value.__module__ == "unstall", attr
    assert repr(unstall.Offloader) == "<class 'unstall.Offloader'>"
    assert unstall.offload.Engine.__module__ == "unstall.offload"
    assert unstall.offload.offload.__module__ == "unstall.offload"  # unstall.offload is the module
    assert unstall.watch.watch.__module__ == "unstall.watch"


def test_lazily_loaded_names_are_named_when_loaded() -> None:
    assert unstall.watch.Tripwire.__module__ == "unstall.watch"
    assert unstall.watch.Policy.__module__ == "unstall.watch"


def test_one_percentiles_type_serves_the_watcher_and_the_bench() -> None:
    assert unstall.bench.Percentiles is unstall.watch.Percentiles
    assert unstall.watch.Percentiles.__module__ == "unstall.watch"
    summary = unstall.bench.summarize([1.0, 2.0, 3.0])
    assert isinstance(summary, unstall.watch.Percentiles)
    assert (summary.count, summary.mean, summary.p50, summary.max) == (3, 2.0, 2.0, 3.0)


def test_values_pickle_by_their_public_path() -> None:
    summary = unstall.bench.summarize([0.5])
    assert b"unstall.watch" in pickle.dumps(summary)
    assert pickle.loads(pickle.dumps(summary)) == summary
    stats = unstall.offload.OffloadStats(engines={}, auto=(), closed=True)
    assert pickle.loads(pickle.dumps(stats)) == stats
    assert pickle.loads(pickle.dumps(unstall.to_thread)) is unstall.to_thread


def test_names_do_not_depend_on_what_was_imported_first() -> None:
    code = (
        "import unstall.bench, unstall.check; "
        "print(unstall.bench.Percentiles.__module__, unstall.check.Config.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["unstall.watch", "unstall.check"]
