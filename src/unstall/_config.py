"""Read ``[tool.unstall]`` from ``pyproject.toml`` (or ``unstall.toml``) into typed settings.

Shared by every part: ``unstall check`` uses :class:`Config`, the runtime watchdog uses
:class:`WatchConfig` (the ``[tool.unstall.watch]`` sub-table). Every key is validated: an
unknown key or a bad value raises :class:`~unstall.errors.ConfigError` naming the key, the
value and the valid choices.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from unstall._watch_config import WATCH_SETTINGS, WatchConfig, watch_from_table
from unstall.errors import ConfigError

if TYPE_CHECKING:
    from unstall.catalog import Catalog

__all__ = (
    "DEFAULT_MAX_FILE_SIZE",
    "KEYS",
    "WATCH_KEYS",
    "Config",
    "ConfigKey",
    "WatchConfig",
    "config_from_table",
    "find_config_file",
    "known_codes",
    "load_config",
    "parse_codes",
    "parse_frequency",
)

DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024


def known_codes() -> tuple[str, ...]:
    """Every rule code ``select`` / ``ignore`` may name (the catalog's kinds and other rules), sorted."""
    from unstall.catalog import default_catalog

    return default_catalog().all_codes()


@dataclass(frozen=True, slots=True)
class Config:
    """Settings of ``unstall check`` (``[tool.unstall]``), after validation.

    ``select`` / ``ignore`` hold code prefixes (``"UNS1"``, ``"UNS101"``) or ``"ALL"``; the most
    specific matching prefix decides, and ``ignore`` wins a tie. ``per_file_ignores`` pairs a
    glob (relative to ``root``) with code prefixes. ``max_file_size`` is in bytes. ``blocking``
    holds extra catalog entries as raw tables. ``frequency`` lists the tiers reported (of
    ``every``, ``first``, ``startup``, ``test``, ``example``: a finding that blocks every time,
    on the first call only, or only at start-up or shutdown, or is in test or example code);
    ``lifecycle_roots`` names ``async def`` functions that run only at start-up or shutdown. ``respect_gitignore`` skips what ``.gitignore`` files ignore.
    ``root`` is the folder of the config file (or
    the folder searched from); ``source`` the config file read, if any.
    """

    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    respect_gitignore: bool = True
    blocking: tuple[Mapping[str, Any], ...] = ()
    offload_helpers: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    threadpool_decorators: tuple[str, ...] = ()
    frequency: tuple[str, ...] = ("every", "first")
    lifecycle_roots: tuple[str, ...] = ()
    watch: WatchConfig = field(default_factory=WatchConfig)
    root: Path = field(default_factory=Path.cwd)
    source: Path | None = None

    def is_selected(self, code: str, extra_ignores: Sequence[str] = ()) -> bool:
        """Whether findings of ``code`` are reported (``extra_ignores``: e.g. per-file ignores)."""
        best_select = max(
            (_specificity(p, code) for p in (*self.select, *self.extend_select)), default=-1
        )
        best_ignore = max(
            (_specificity(p, code) for p in (*self.ignore, *extra_ignores)), default=-1
        )
        return best_select >= 0 and best_select > best_ignore

    def replace(self, **changes: Any) -> Config:
        """A copy with ``changes`` applied (the same keyword names as the fields)."""
        return replace(self, **changes)

    def catalog(self) -> Catalog:
        """The built-in catalog with this project's additions: ``blocking`` entries, offload helpers
        and thread-pool decorators (as boundaries).

        Raises :class:`ConfigError` naming ``tool.unstall.blocking`` for an invalid entry.
        """
        from unstall.catalog import Boundary, BoundaryKind, default_catalog
        from unstall.errors import CatalogError

        source = str(self.source or "configuration")
        why = f"configured in {source}"
        boundaries = [
            *(Boundary(name, BoundaryKind.OFFLOAD, why, tail=1) for name in self.offload_helpers),
            *(
                Boundary(name, BoundaryKind.THREADPOOL_DECORATOR, why)
                for name in self.threadpool_decorators
            ),
        ]
        if not self.blocking and not boundaries:
            return default_catalog()
        try:
            return default_catalog().extended(
                self.blocking, boundaries=boundaries, source=f"tool.unstall.blocking in {source}"
            )
        except CatalogError as exc:
            raise ConfigError(str(exc), key="tool.unstall.blocking", source=source) from None


def _specificity(prefix: str, code: str) -> int:
    if prefix == "ALL":
        return 0
    return len(prefix) if code.startswith(prefix) else -1


def _folder_of(start: Path) -> Path:
    """The folder ``start`` is, or holds it, resolved (a file that is a symbolic link loop: its folder)."""
    try:
        start = start.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop, before Python 3.13
        return start.absolute().parent.resolve()
    return start if start.is_dir() else start.parent


def find_config_file(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.unstall]`` table (or ``unstall.toml``), searching up from ``start``.

    A ``pyproject.toml`` is read as TOML: ``[tool.unstall]``, ``[tool] unstall = {...}`` and
    dotted keys all count. One that cannot be read or parsed but names unstall raises
    :class:`ConfigError` (its settings must not be skipped silently for a parent folder's);
    one that does not name unstall is not ours and is passed over.
    """
    folder = _folder_of(start)
    for candidate in (folder, *folder.parents):
        own = candidate / "unstall.toml"
        if own.is_file():
            return own
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_unstall_table(pyproject):
            return pyproject
    return None


def _has_unstall_table(pyproject: Path) -> bool:
    source = str(pyproject)
    try:
        data = pyproject.read_bytes()
    except OSError:
        return False
    if b"unstall" not in data:
        return False
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"The config file {source!r} mentions unstall but is not valid UTF-8 ({exc.reason} at byte {exc.start}); TOML files must be UTF-8.",
            source=source,
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The config file {source!r} mentions unstall but is not valid TOML: {exc}.",
            source=source,
        ) from None
    tool = document.get("tool")
    return isinstance(tool, Mapping) and "unstall" in tool


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """Load settings from ``path`` or, when ``None``, from the nearest config file above ``start`` (default cwd).

    Without any config file the defaults are returned. Raises :class:`ConfigError` for a
    missing file, invalid TOML (with the position), unknown keys and bad values.
    """
    if path is None:
        path = find_config_file(start if start is not None else Path.cwd())
        if path is None:
            return Config(root=_folder_of(start or Path.cwd()))
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"The config file {source!r} does not exist; pass an existing pyproject.toml or unstall.toml.",
            source=source,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The config file {source!r} cannot be read: {exc}.", source=source
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The config file {source!r} is not valid TOML: {exc}.", source=source
        ) from None
    tool = document.get("tool")
    if "tool" in document and not isinstance(tool, Mapping):
        raise ConfigError(
            f"tool in {source!r} must be a table, got {tool!r}; write the settings under [tool.unstall].",
            key="tool",
            source=source,
        )
    if path.name == "unstall.toml":
        table: Any = tool.get("unstall", document) if isinstance(tool, Mapping) else document
        prefix = "tool.unstall" if isinstance(tool, Mapping) else ""
    else:
        table = tool.get("unstall", {}) if isinstance(tool, Mapping) else {}
        prefix = "tool.unstall"
    if not isinstance(table, Mapping):
        raise ConfigError(
            f"{prefix or 'the top level'} in {source!r} must be a table, got {table!r}.",
            key=prefix,
            source=source,
        )
    return config_from_table(
        table, source=source, prefix=prefix, root=path.resolve().parent, path=path.resolve()
    )


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _unknown(prefix: str, name: str, valid: Sequence[str], source: str) -> ConfigError:
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(
        f"Unknown setting {_key(prefix, name)!r} in {source}.{hint} Valid keys are: {', '.join(valid)}.",
        key=_key(prefix, name),
        source=source,
    )


def _str_list(
    value: Any, key: str, source: str, *, what: str = "a list of strings"
) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(item, str) and item for item in value):
        return tuple(value)
    raise ConfigError(
        f"{key} = {value!r} in {source} is invalid; it must be {what}.", key=key, source=source
    )


def _qualified_names(value: Any, key: str, source: str) -> tuple[str, ...]:
    names = _str_list(
        value, key, source, what="a list of dotted qualified names such as 'mylib.run_blocking'"
    )
    for name in names:
        if not all(part.isidentifier() for part in name.split(".")):
            raise ConfigError(
                f"{key} contains {name!r} in {source}, which is not a dotted qualified name; use names such as 'mylib.run_blocking'.",
                key=key,
                source=source,
            )
    return names


def parse_codes(value: Any, key: str, source: str) -> tuple[str, ...]:
    """Validate a list of rule codes or prefixes (``"UNS1"``, ``"UNS101"``, ``"ALL"``); raise :class:`ConfigError`."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    codes = _str_list(
        value, key, source, what="a list of rule codes such as ['UNS101', 'UNS2'] or ['ALL']"
    )
    valid = known_codes()
    for code in codes:
        if code == "ALL" or (
            code.startswith("UNS") and any(known.startswith(code) for known in valid)
        ):
            continue
        close = difflib.get_close_matches(code, [*valid, "ALL"], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{key} contains unknown rule code {code!r} in {source}.{hint} Valid codes are ALL, a prefix such as 'UNS1', or one of: {', '.join(valid)}.",
            key=key,
            source=source,
        )
    return codes


FREQUENCIES = ("every", "first", "startup", "test", "example")


def parse_frequency(value: Any, key: str, source: str) -> tuple[str, ...]:
    """Validate the frequency tiers to report (``every``, ``first``, ``startup``, ``test``, ``example``, or ``all``); raise :class:`ConfigError`."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    tiers = _str_list(
        value, key, source, what="a list of frequency tiers such as ['every', 'first'] or ['all']"
    )
    if "all" in tiers:
        return FREQUENCIES
    bad = [tier for tier in tiers if tier not in FREQUENCIES]
    if bad or not tiers:
        raise ConfigError(
            f"{key} = {value!r} in {source} is invalid; choose from every, first, startup, test, example, or all (every: blocks each time; first: on the first call only; startup: only at start-up or shutdown; test: in test code; example: in example or demo code).",
            key=key,
            source=source,
        )
    return tuple(tier for tier in FREQUENCIES if tier in tiers)


def _glob_list(value: Any, key: str, source: str) -> tuple[str, ...]:
    return _str_list(
        value, key, source, what="a list of glob patterns such as ['tests/fixtures/**', '*_pb2.py']"
    )


def _per_file_ignores(value: Any, key: str, source: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{key} = {value!r} in {source} is invalid; it must be a table of glob = [codes], e.g. {{'tests/**' = ['UNS1']}}.",
            key=key,
            source=source,
        )
    return tuple(
        (glob, parse_codes(codes, f"{key}.{glob!r}", source)) for glob, codes in value.items()
    )


def _max_file_size(value: Any, key: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"{key} = {value!r} in {source} is invalid; it must be a positive number of bytes such as 5242880.",
            key=key,
            source=source,
        )
    return value


def _blocking(value: Any, key: str, source: str) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ConfigError(
            f"{key} = {value!r} in {source} is invalid; it must be an array of tables ([[tool.unstall.blocking]]) with name, kind, why and alternative.",
            key=key,
            source=source,
        )
    from unstall.catalog import default_catalog
    from unstall.errors import CatalogError

    try:
        default_catalog().extended(value, source=f"{key} in {source}")
    except CatalogError as exc:
        raise ConfigError(str(exc), key=key, source=source) from None
    return tuple(dict(item) for item in value)


def _boolean(value: Any, key: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            f"{key} = {value!r} in {source} is invalid; it must be true or false.",
            key=key,
            source=source,
        )
    return value


_Parser = Callable[[Any, str, str], Any]


class ConfigKey(NamedTuple):
    """One setting of a table: the field it fills, its validator, its JSON Schema and its help.

    ``schema`` is a JSON Schema fragment (``$ref`` points into the ``definitions`` that
    :func:`unstall._config_schema.config_schema` adds); ``help`` is the one-line description
    an editor shows.
    """

    attr: str
    parse: _Parser
    schema: Mapping[str, Any]
    help: str


_CODES = {"$ref": "#/definitions/codes"}
_NAMES = {"$ref": "#/definitions/qualified-names"}
_GLOBS = {"$ref": "#/definitions/globs"}


def _watch_key(key: str, schema: Mapping[str, Any], help: str) -> ConfigKey:
    setting = WATCH_SETTINGS[key]
    return ConfigKey(setting.attr, setting.parse, schema, help)


#: ``[tool.unstall.watch]``: the parsers are the watchdog's own (shared with ``UNSTALL_*``
#: variables); the schema and help are what an editor shows
WATCH_KEYS: dict[str, ConfigKey] = {
    "threshold-ms": _watch_key(
        "threshold-ms",
        {"type": "number", "minimum": 1, "maximum": 60000, "default": 100},
        "Stall threshold of the runtime watchdog, in milliseconds.",
    ),
    "tripwire": _watch_key(
        "tripwire",
        {"type": "boolean", "default": False},
        "Report every blocking call made on a running loop's thread, however short.",
    ),
    "allow": _watch_key("allow", _NAMES, "Qualified names the tripwire must not report."),
    "metrics": _watch_key(
        "metrics",
        {"type": "string"},
        "HOST:PORT to serve Prometheus metrics on at /metrics (off: not served).",
    ),
    "html": _watch_key("html", {"type": "string"}, "File the HTML report is written to at exit."),
    "log": _watch_key(
        "log",
        {"type": "boolean", "default": True},
        "Write a log record for every stall and blocking call (rate-limited).",
    ),
    "log-rate": _watch_key(
        "log-rate",
        {"type": "number", "minimum": 0, "maximum": 1000000, "default": 1},
        "At most this many log records a second (0: no limit).",
    ),
    "log-burst": _watch_key(
        "log-burst",
        {"type": "integer", "minimum": 1, "maximum": 100000, "default": 10},
        "At most this many log records at once.",
    ),
    "log-error-ms": _watch_key(
        "log-error-ms",
        {
            "oneOf": [
                {"type": "number", "minimum": 1, "maximum": 3600000},
                {"const": False},
            ],
            "default": 1000,
        },
        "A stall this long or longer is logged at ERROR (false: never).",
    ),
    "max-routes": _watch_key(
        "max-routes",
        {"type": "integer", "minimum": 1, "maximum": 100000, "default": 100},
        "HTTP routes that get their own report row and metric label; the rest share one.",
    ),
}


KEYS: dict[str, ConfigKey] = {
    "select": ConfigKey(
        "select", parse_codes, _CODES, "Rule codes or prefixes to report (default: ALL)."
    ),
    "extend-select": ConfigKey(
        "extend_select", parse_codes, _CODES, "Rule codes or prefixes to report in addition."
    ),
    "ignore": ConfigKey("ignore", parse_codes, _CODES, "Rule codes or prefixes not to report."),
    "exclude": ConfigKey(
        "exclude",
        _glob_list,
        _GLOBS,
        "Files and folders to skip, as globs relative to the project root.",
    ),
    "extend-exclude": ConfigKey(
        "extend_exclude", _glob_list, _GLOBS, "More files and folders to skip, added to exclude."
    ),
    "per-file-ignores": ConfigKey(
        "per_file_ignores",
        _per_file_ignores,
        {"type": "object", "additionalProperties": _CODES},
        "Rule codes not to report in the files a glob (relative to the project root) matches.",
    ),
    "max-file-size": ConfigKey(
        "max_file_size",
        _max_file_size,
        {"type": "integer", "minimum": 1, "default": DEFAULT_MAX_FILE_SIZE},
        "Larger files are reported (UNS904) instead of checked, in bytes.",
    ),
    "respect-gitignore": ConfigKey(
        "respect_gitignore",
        _boolean,
        {"type": "boolean", "default": True},
        "Skip the files .gitignore files (and .git/info/exclude) ignore.",
    ),
    "blocking": ConfigKey(
        "blocking",
        _blocking,
        {"type": "array", "items": {"$ref": "#/definitions/blocking-entry"}},
        "Blocking callables of your own, added to the catalog.",
    ),
    "offload-helpers": ConfigKey(
        "offload_helpers",
        _qualified_names,
        _NAMES,
        "Your own functions that run what they are given off the loop (like asyncio.to_thread).",
    ),
    "allow": ConfigKey(
        "allow", _qualified_names, _NAMES, "Names never reported, with everything below them."
    ),
    "threadpool-decorators": ConfigKey(
        "threadpool_decorators",
        _qualified_names,
        _NAMES,
        "Decorators whose sync functions a framework runs in a thread pool.",
    ),
    "frequency": ConfigKey(
        "frequency",
        parse_frequency,
        {
            "type": "array",
            "items": {"enum": ["every", "first", "startup", "test", "example", "all"]},
            "uniqueItems": True,
        },
        "Frequency tiers to report: every (blocks each time), first (first call only), startup (only at start-up or shutdown), test (in test code), example (in example or demo code); default every and first.",
    ),
    "lifecycle-roots": ConfigKey(
        "lifecycle_roots",
        _qualified_names,
        _NAMES,
        "Your async functions that run only at start-up or shutdown: their findings go to the startup tier.",
    ),
    "watch": ConfigKey(
        "watch",
        watch_from_table,
        {"$ref": "#/definitions/watch"},
        "Settings of the runtime watchdog (unstall run, unstall.watch(), pytest --unstall).",
    ),
}


def config_from_table(
    table: Mapping[str, Any],
    *,
    source: str = "configuration",
    prefix: str = "tool.unstall",
    root: Path | None = None,
    path: Path | None = None,
) -> Config:
    """Validate one ``[tool.unstall]`` table (kebab-case keys) into a :class:`Config`; raise :class:`ConfigError`."""
    values: dict[str, Any] = {}
    for name, value in table.items():
        if name not in KEYS:
            raise _unknown(prefix, name, sorted(KEYS), source)
        row = KEYS[name]
        values[row.attr] = row.parse(value, _key(prefix, name), source)
    return Config(root=root or Path.cwd(), source=path, **values)
