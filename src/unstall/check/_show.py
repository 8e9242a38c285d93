"""``--show-settings`` and ``--show-files``: what a run would use, without running it.

The settings are printed as the ``[tool.unstall]`` TOML they amount to (configuration file
and command line together), so the output can be pasted into a ``pyproject.toml``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from unstall._config import KEYS, WATCH_KEYS, Config, ConfigKey, WatchConfig

__all__ = ("format_files", "format_settings", "toml_value")


def toml_value(value: Any) -> str:
    """``value`` (str, bool, int, float, sequence, mapping, path) as an inline TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        # A JSON string is a valid TOML basic string (json.dumps never writes "\/").
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, Mapping):
        items = ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _table(obj: Config | WatchConfig, keys: Mapping[str, ConfigKey]) -> list[str]:
    lines = []
    for name, key in keys.items():
        value = getattr(obj, key.attr)
        if isinstance(value, WatchConfig):
            continue  # a sub-table of its own
        if value is None:  # TOML has no null: false where the setting takes it, else unset
            if {"const": False} in key.schema.get("oneOf", ()):
                lines.append(f"{name} = false")
            else:
                lines.append(f"# {name} is not set")
            continue
        if key.schema.get("type") == "object":
            value = dict(value)  # pairs kept as a tuple, written as the table they came from
        lines.append(f"{name} = {toml_value(value)}")
    return lines


def format_settings(config: Config, *, notes: Mapping[str, str]) -> str:
    """The resolved settings: ``notes`` (run options: paths, cache, format) as comments, then ``[tool.unstall]``."""
    out = [f"# {name}: {value}" for name, value in notes.items()]
    out.append(f"# config file: {config.source if config.source else 'none (defaults)'}")
    out.append(f"# project root: {config.root}")
    out.append("[tool.unstall]")
    out.extend(_table(config, KEYS))
    out.append("")
    out.append("[tool.unstall.watch]")
    out.extend(_table(config.watch, WATCH_KEYS))
    return "\n".join(out) + "\n"


def format_files(files: Sequence[tuple[str, Path]]) -> str:
    """One display path a line, sorted: the files a run would check."""
    return "".join(f"{shown}\n" for shown, _ in files)
