"""Every public module's ``__all__`` is a tuple naming exactly what the module defines publicly."""

from __future__ import annotations

import importlib
import inspect
import types

import pytest

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


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_a_sorted_tuple_of_defined_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert isinstance(exported, tuple)
    assert list(exported) == sorted(exported, key=str)
    for attr in exported:
        assert getattr(module, attr) is not None, f"{name}.{attr} is listed in __all__ but missing"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_is_exported(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not isinstance(value, types.ModuleType)
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("unstall")
    }
    missing = public - set(module.__all__)
    assert not missing, f"{name} defines public names not in __all__: {sorted(missing)}"


def test_top_level_offload_names_are_resolved_once() -> None:
    """``unstall.to_thread`` is loaded on first use, then is a plain attribute: a hot loop
    calling it does not go through the lazy loader (an import lookup) on every call."""
    import unstall
    import unstall.offload

    for name in ("Offloader", "map", "map_list", "to_process", "to_thread"):
        assert getattr(unstall, name) is getattr(unstall.offload, name)
        assert vars(unstall)[name] is getattr(unstall.offload, name)
