"""Settings of the runtime watchdog: ``[tool.unstall.watch]`` and ``UNSTALL_*`` environment variables.

Both go through one table of settings (TOML key, variable, parser), so every setting can be
given either way and is validated the same: a bad value raises
:class:`~unstall.errors.ConfigError` naming the key or the variable, the value and what is
valid. The environment wins over the file (containers set it per deployment); the command
line and explicit arguments win over both.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from unstall.errors import ConfigError

__all__ = (
    "ENV_PREFIX",
    "WATCH_SETTINGS",
    "WatchConfig",
    "parse_address",
    "watch_from_env",
    "watch_from_table",
)

ENV_PREFIX = "UNSTALL_"
_ENVIRONMENT = "the environment"


@dataclass(frozen=True, slots=True)
class WatchConfig:
    """Settings of the runtime watchdog (``[tool.unstall.watch]``, ``UNSTALL_*`` variables).

    ``threshold_ms`` is the stall threshold in milliseconds (1..60000), ``tripwire`` turns the
    blocking-call tripwire on, ``allow`` lists qualified names the tripwire must not report.
    ``metrics`` is the ``HOST:PORT`` to serve Prometheus metrics on (``None``: not served),
    ``html`` the file the HTML report is written to at exit (``None``: none). ``log`` turns
    the log records of stalls and blocking calls on; at most ``log_rate`` a second are written,
    ``log_burst`` at once, and a stall of ``log_error_ms`` or more is logged at ERROR (``None``:
    never). ``max_routes`` bounds the HTTP routes that get their own row and label.
    """

    threshold_ms: float = 100.0
    tripwire: bool = False
    allow: tuple[str, ...] = ()
    metrics: str | None = None
    html: str | None = None
    log: bool = True
    log_rate: float = 1.0
    log_burst: int = 10
    log_error_ms: float | None = 1000.0
    max_routes: int = 100


class Address(NamedTuple):
    """Where to listen: a host (``""``: every interface) and a port (0: any free one)."""

    host: str
    port: int


def parse_address(text: str) -> Address:
    """``HOST:PORT``, ``[IPv6]:PORT``, ``:PORT`` (every interface) or ``PORT`` (127.0.0.1).

    Raises ``ValueError`` with a sentence naming the value and the valid forms.
    """
    value = text.strip()
    host, port, ok = "", "", True
    if value.startswith("["):  # [IPv6]:PORT
        host, sep, port = value[1:].partition("]:")
        ok = bool(sep and host)
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    elif ":" not in value:
        host, port = "127.0.0.1", value
    else:
        ok = False  # an IPv6 address needs brackets to tell its port apart
    if not ok or not port.isdigit() or int(port) > 65535:
        raise ValueError(
            f"{text!r} is not an address to listen on; give HOST:PORT (127.0.0.1:9464), "
            "[IPv6]:PORT, :PORT for every interface, or PORT for 127.0.0.1, with a port from 0 to 65535."
        )
    return Address(host, int(port))


# ---- parsers: (value from TOML or the environment's text, key, source) -> the setting --------
def _error(key: str, value: Any, source: str, what: str) -> ConfigError:
    shown = f"{key}={value!r}" if source == _ENVIRONMENT else f"{key} = {value!r}"
    return ConfigError(f"{shown} in {source} is invalid; {what}.", key=key, source=source)


def _number(value: Any, key: str, source: str, low: float, high: float, what: str) -> float:
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise _error(key, value, source, what) from None
    if (
        isinstance(number, bool)
        or not isinstance(number, int | float)
        or not math.isfinite(number)
        or not low <= number <= high
    ):
        raise _error(key, value, source, what)
    return float(number)


def _threshold(value: Any, key: str, source: str) -> float:
    return _number(
        value, key, source, 1, 60000, "it must be a number of milliseconds from 1 to 60000"
    )


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(value: Any, key: str, source: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and source == _ENVIRONMENT:
        word = value.strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise _error(key, value, source, "it must be one of 1, true, yes, on, 0, false, no, off")
    raise _error(key, value, source, "it must be true or false")


def _names(value: Any, key: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str) and source == _ENVIRONMENT:
        value = [part.strip() for part in value.split(",") if part.strip()]
    what = "it must be a list of dotted qualified names such as 'mylib.run_blocking'" + (
        " (comma-separated)" if source == _ENVIRONMENT else ""
    )
    if not isinstance(value, list) or not all(
        isinstance(n, str) and n and all(p.isidentifier() for p in n.split(".")) for n in value
    ):
        raise _error(key, value, source, what)
    return tuple(value)


def _address(value: Any, key: str, source: str) -> str | None:
    if isinstance(value, str) and value.strip().lower() in {"", "off", "false", "no", "0"}:
        return None
    if not isinstance(value, str):
        raise _error(key, value, source, "it must be a string such as '127.0.0.1:9464'")
    try:
        parse_address(value)
    except ValueError as exc:
        raise ConfigError(f"{key} in {source}: {exc}", key=key, source=source) from None
    return value.strip()


def _path(value: Any, key: str, source: str) -> str | None:
    if not isinstance(value, str):
        raise _error(key, value, source, "it must be the path of a file, such as 'unstall.html'")
    return value or None


def _rate(value: Any, key: str, source: str) -> float:
    return _number(
        value, key, source, 0, 1e6, "it must be a number of records a second (0: no limit)"
    )


def _count(value: Any, key: str, source: str, what: str) -> int:
    number = value
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 100000:
        raise _error(key, value, source, what)
    return number


def _burst(value: Any, key: str, source: str) -> int:
    return _count(value, key, source, "it must be a whole number of records from 1 to 100000")


def _max_routes(value: Any, key: str, source: str) -> int:
    return _count(value, key, source, "it must be a whole number of routes from 1 to 100000")


def _error_ms(value: Any, key: str, source: str) -> float | None:
    if value is False or (isinstance(value, str) and value.strip().lower() in {"off", "never"}):
        return None
    return _number(
        value,
        key,
        source,
        1,
        3600000,
        "it must be a number of milliseconds from 1 to 3600000, or false (never log at ERROR)"
        if source != _ENVIRONMENT
        else "it must be a number of milliseconds from 1 to 3600000, or off",
    )


class _Setting(NamedTuple):
    key: str  # in [tool.unstall.watch]
    attr: str  # on WatchConfig
    parse: Callable[[Any, str, str], Any]

    @property
    def variable(self) -> str:
        return ENV_PREFIX + self.key.upper().replace("-", "_")


_SETTINGS = (
    _Setting("threshold-ms", "threshold_ms", _threshold),
    _Setting("tripwire", "tripwire", _bool),
    _Setting("allow", "allow", _names),
    _Setting("metrics", "metrics", _address),
    _Setting("html", "html", _path),
    _Setting("log", "log", _bool),
    _Setting("log-rate", "log_rate", _rate),
    _Setting("log-burst", "log_burst", _burst),
    _Setting("log-error-ms", "log_error_ms", _error_ms),
    _Setting("max-routes", "max_routes", _max_routes),
)
_BY_KEY = {s.key: s for s in _SETTINGS}
#: every setting by its key in ``[tool.unstall.watch]``
WATCH_SETTINGS: Mapping[str, _Setting] = _BY_KEY
_BY_VARIABLE = {s.variable: s for s in _SETTINGS}


def watch_from_table(value: Any, key: str, source: str) -> WatchConfig:
    """Validate a ``[tool.unstall.watch]`` table (``key`` is its dotted name) into a :class:`WatchConfig`."""
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{key} = {value!r} in {source} is invalid; it must be a table.", key=key, source=source
        )
    result = WatchConfig()
    for name, item in value.items():
        setting = _BY_KEY.get(name)
        if setting is None:
            valid = sorted(_BY_KEY)
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"Unknown setting {f'{key}.{name}'!r} in {source}.{hint} Valid keys are: {', '.join(valid)}.",
                key=f"{key}.{name}",
                source=source,
            )
        result = replace(result, **{setting.attr: setting.parse(item, f"{key}.{name}", source)})
    return result


def watch_from_env(environ: Mapping[str, str], base: WatchConfig | None = None) -> WatchConfig:
    """``base`` (default: the defaults) with the settings of the ``UNSTALL_*`` variables in ``environ``.

    An ``UNSTALL_`` variable that is close to a known one but is not (``UNSTALL_THRESHOLD``)
    is an error too, so a typo is not silently ignored.
    """
    result = base if base is not None else WatchConfig()
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        setting = _BY_VARIABLE.get(variable)
        if setting is None:
            close = difflib.get_close_matches(variable, list(_BY_VARIABLE), n=1, cutoff=0.8)
            if close:
                raise ConfigError(
                    f"{variable} in the environment is not a setting of unstall; did you mean "
                    f"{close[0]}? The variables are: {', '.join(_BY_VARIABLE)}.",
                    key=variable,
                    source=_ENVIRONMENT,
                )
            continue
        result = replace(result, **{setting.attr: setting.parse(value, variable, _ENVIRONMENT)})
    return result
