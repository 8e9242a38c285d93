"""The catalog of known blocking callables: one data table that drives the linter, the tripwire and the docs.

The table itself is ``blocking.toml`` beside this module. :func:`default_catalog` loads it;
users add entries through ``[tool.unstall] blocking`` in ``pyproject.toml``.
"""

from __future__ import annotations

from unstall.catalog._load import Catalog, default_catalog, entry_from_table
from unstall.catalog._model import Entry, Kind, KindInfo, Offload

__all__ = ("Catalog", "Entry", "Kind", "KindInfo", "Offload", "default_catalog", "entry_from_table")

# Named by this public path (unstall.catalog.Entry), as unstall._exports.publish does for the
# other parts; done here by hand because the catalog imports nothing else of unstall.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
