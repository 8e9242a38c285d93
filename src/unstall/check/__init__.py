"""``unstall check``: a static analyzer for async code that can reach a blocking call.

:func:`check` runs the analysis over files and folders as one project and returns a
:class:`CheckResult`; :class:`Config` holds the ``[tool.unstall]`` settings (read from the
nearest ``pyproject.toml`` by default).
"""

from __future__ import annotations

from unstall._config import Config
from unstall._exports import publish as _publish
from unstall.check._model import ChainStep, Edit, Finding, Location
from unstall.check._runner import CheckResult, CheckStats, check

__all__ = (
    "ChainStep",
    "CheckResult",
    "CheckStats",
    "Config",
    "Edit",
    "Finding",
    "Location",
    "check",
)

_publish(__name__, globals(), __all__)
