"""The process-wide watcher: ``unstall.watch()``, its settings, its metrics endpoint, and what runs at exit.

Settings not given as arguments come from the ``UNSTALL_*`` environment variables, then from
``[tool.unstall.watch]`` of the nearest configuration file, then the defaults, as for
``unstall run``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unstall._watch_config import WatchConfig, watch_from_env
from unstall.watch._logs import EventLog
from unstall.watch._watcher import Watcher

if TYPE_CHECKING:
    from unstall.watch._metrics_server import MetricsServer

__all__ = ("current", "serve_metrics", "settings", "tripwire_option", "watch")

logger = logging.getLogger("unstall")

_current: Watcher | None = None
_report_at_exit = False
_html: str | None = None
_server: MetricsServer | None = None


def settings(start: Path | None = None, environ: Mapping[str, str] | None = None) -> WatchConfig:
    """The watchdog's settings: ``[tool.unstall.watch]`` of the nearest config file above ``start``
    (default: the working folder), overridden by the ``UNSTALL_*`` variables of ``environ``
    (default: ``os.environ``). Raises :class:`~unstall.errors.ConfigError` for a bad value.
    """
    from unstall._config import load_config

    base = load_config(start=start if start is not None else Path.cwd()).watch
    return watch_from_env(os.environ if environ is None else environ, base)


def tripwire_option(allow: tuple[str, ...]) -> object:
    """The ``tripwire`` option of a watcher: a Tripwire with the allow-list when there is one."""
    if not allow:
        return True
    try:
        from unstall.watch._tripwire import Tripwire

        return Tripwire(allow=allow)
    except Exception:  # a tripwire that cannot take this allow-list: run it plain
        return True


def event_log(config: WatchConfig) -> EventLog | bool:
    """The ``log`` option of a watcher for ``config``."""
    if not config.log:
        return False
    return EventLog(rate=config.log_rate, burst=config.log_burst, error_ms=config.log_error_ms)


def serve_metrics(address: str, watcher: Watcher | None = None) -> MetricsServer:
    """Serve ``watcher``'s metrics (default: the process-wide one) at ``http://ADDRESS/metrics``.

    ``address`` is ``HOST:PORT``, ``:PORT`` (every interface) or ``PORT`` (127.0.0.1); port 0
    picks a free one (read ``.port``). Raises ``OSError`` when the port cannot be bound and
    ``ValueError`` for a bad address; call ``.close()`` to stop (the server of
    ``watch(metrics=...)`` is closed at exit).
    """
    target = watcher if watcher is not None else _current
    if target is None:
        raise RuntimeError(
            "no watcher is running; call unstall.watch() first or pass the watcher to serve."
        )
    from unstall.watch._metrics_server import MetricsServer  # http.server: only when serving

    return MetricsServer(address, target.metrics).start()


def current() -> Watcher | None:
    """The process-wide watcher :func:`watch` started, or ``None``."""
    return _current


def watch(threshold_ms: float | None = None, **options: Any) -> Watcher:
    """Start (or return the already running) process-wide :class:`Watcher`; options as for Watcher.

    Settings not given come from the ``UNSTALL_*`` environment variables, then from
    ``[tool.unstall.watch]``, then the defaults (threshold 100 ms). Beyond the Watcher's
    options: ``metrics="HOST:PORT"`` serves Prometheus metrics at ``/metrics`` (a port that
    cannot be bound is logged and skipped, never raised), ``html="FILE"`` writes the HTML
    report at exit, ``report_at_exit=True`` writes the text report to stderr at exit. The
    watcher is stopped at exit, before the interpreter shuts down. Raises
    :class:`~unstall.errors.ConfigError` for a bad setting in the environment or the file.
    """
    global _current, _report_at_exit, _html, _server
    at_exit = bool(options.pop("report_at_exit", False))
    if _current is not None and _current.running:
        _join_running(_current, threshold_ms, options)
        _report_at_exit = _report_at_exit or at_exit
        return _current
    config = settings()
    _report_at_exit = at_exit
    _html = options.pop("html", config.html)
    metrics = options.pop("metrics", config.metrics)
    options.setdefault("tripwire", tripwire_option(config.allow) if config.tripwire else False)
    options.setdefault("log", event_log(config))
    options.setdefault("max_routes", config.max_routes)
    threshold = config.threshold_ms if threshold_ms is None else threshold_ms
    _current = Watcher(threshold, **options)
    _current.start()
    if metrics:
        try:
            _server = serve_metrics(metrics, _current)
        except (OSError, ValueError) as exc:
            logger.warning(
                "unstall: cannot serve metrics on %s (%s); continuing without", metrics, exc
            )
    return _current


def _join_running(running: Watcher, threshold_ms: float | None, options: dict[str, Any]) -> None:
    """A later watch() call: its sinks and context join ``running``; any other option that
    differs from the running watcher's is ignored with a ``RuntimeWarning`` naming it."""
    for sink in options.pop("sinks", ()):
        running.add_sink(sink)
    for provider in options.pop("context", ()):
        running._sampler.add_context(provider)
    if threshold_ms is not None:
        options["threshold_ms"] = threshold_ms
    ignored = {k: options.pop(k) for k in ("metrics", "html") if options.get(k) is not None}
    ignored.update(running._differs(options))
    if ignored:
        kept = ", ".join(f"{k}={running._options.get(k)!r}" for k in ignored)
        warnings.warn(
            f"unstall.watch() returned the watcher already running and ignored "
            f"{', '.join(f'{k}={v!r}' for k, v in ignored.items())}: it keeps {kept}. Stop it "
            "first (unstall.watch().stop()) to start one with other options.",
            RuntimeWarning,
            stacklevel=4 if _called_as_module() else 3,
        )


def _called_as_module() -> bool:
    """Whether :func:`watch` was reached through ``unstall.watch(...)`` (the callable module)."""
    caller = sys._getframe(3)
    return caller.f_globals.get("__name__") == "unstall.watch"


def write_html(watcher: Watcher, path: str) -> None:
    """Write ``watcher``'s HTML report to ``path`` (UTF-8)."""
    from unstall.watch._html import render_html

    text = render_html(watcher)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


@atexit.register
def _at_exit() -> None:
    global _server
    watcher = _current
    if _server is not None:
        _server.close()
        _server = None
    if watcher is not None and watcher.running:
        watcher.stop()
        if _report_at_exit:
            with contextlib.suppress(Exception):
                sys.stderr.write(watcher.report().render_text())
        if _html:
            try:
                write_html(watcher, _html)
            except Exception as exc:
                with contextlib.suppress(Exception):
                    sys.stderr.write(f"unstall: could not write the HTML report {_html!r}: {exc}\n")
