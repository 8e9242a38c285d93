"""The catalog of known blocking callables: one data table that drives the linter, the tripwire and the docs.

The table itself is ``blocking.toml`` beside this module: the kinds of blocking work and their
rule codes, the other rules (UNS201, UNS9xx), the blocking callables with the arguments that make
them non-blocking, the non-blocking factories the analysis follows, and the boundaries (offload
calls, partials, thread-pool and context-manager decorators), and the ``[[async]]`` rows the
concurrency rules read (tasks, coroutines, async resources). :func:`default_catalog` loads it;
users add entries through ``[tool.unstall] blocking`` in ``pyproject.toml``. This package is the
leaf of unstall: it imports nothing of the other parts.
"""

from __future__ import annotations

from unstall.catalog._async_api import AsyncApi, AsyncRole
from unstall.catalog._load import Catalog, default_catalog
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
from unstall.catalog._rows import entry_from_table

__all__ = (
    "AsyncApi",
    "AsyncRole",
    "Boundary",
    "BoundaryKind",
    "Catalog",
    "Condition",
    "Entry",
    "Kind",
    "KindInfo",
    "Match",
    "Offload",
    "Rule",
    "default_catalog",
    "entry_from_table",
)

# Named by this public path (unstall.catalog.Entry), as unstall._exports.publish does for the
# other parts; done here by hand because the catalog imports nothing else of unstall.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
