"""``unstall check``: a static analyzer for async code that can reach a blocking call.

:func:`check` runs the analysis over files and folders as one project and returns a
:class:`CheckResult`; :class:`Config` holds the ``[tool.unstall]`` settings (read from the
nearest ``pyproject.toml`` by default).

A run is a row of stages, each a function of :func:`~unstall.check._runner.run_check`
handing a named record to the next:

1. **plan**: the catalog (with the configuration's additions), the files to check
   (``_discover``), their module names (``_modules``) and the key of the whole-run cache
   (``_run_cache``); when nothing changed since the last run, its result is the answer.
2. **summarize**: an unchanged file's summary comes from the summary cache (``_cache``); the
   others are read (``_read``) and summarized (``_worker``, ``_summary``: ``_bind`` binds a
   module's names, ``_walk`` and ``_walk_expr`` walk its bodies), in worker processes when
   there are many (``_pool``).
3. **merge**: the fresh summaries join the cached ones, and the cache; a file that cannot be
   read or parsed is a UNS9xx finding.
4. **analyze** (``_analyze``): over the summaries alone, ``_resolve`` resolves references
   against the project and the catalog, ``_graph`` follows what each ``async def`` runs on
   the loop's thread, and every blocking call reached is a finding with its chain and its
   suggested fix (``_suggest``).
5. **report**: findings the configuration or a comment silences (``_suppress``) are dropped;
   the rest are sorted.
6. **save**: the summary cache, then the result, for the next run.

The command (``_command``) then prints the result in the format asked for (``_output``:
``_format_text``, ``_format_json``, ``_format_sarif``, ``_format_gitlab``, ``_format_junit``;
``_fingerprint`` keeps a finding's identity across edits) or applies its fixes (``_apply``).
Standard input is checked as a file of its project (``_stdin``), and so are an editor's
open buffers, several at once (``run_check(buffers=...)``, with a ``Memory`` that keeps the
summary cache warm between runs: ``unstall.server``); ``--watch`` re-runs the stages when
files change (``_watch``), and ``--show-settings`` / ``--show-files`` print what a
run would use (``_show``). Discovery skips what ``.gitignore`` files ignore (``_gitignore``).
"""

from __future__ import annotations

from unstall._config import Config
from unstall._exports import publish as _publish
from unstall.check._model import ChainStep, Edit, Finding, Frequency, Location
from unstall.check._runner import CheckResult, CheckStats, check

__all__ = (
    "ChainStep",
    "CheckResult",
    "CheckStats",
    "Config",
    "Edit",
    "Finding",
    "Frequency",
    "Location",
    "check",
)

_publish(__name__, globals(), __all__)
