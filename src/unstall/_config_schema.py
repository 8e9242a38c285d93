"""The JSON Schema of ``[tool.unstall]``, built from the key table of :mod:`unstall._config`.

Editors read it to complete and check the settings (``docs/unstall.schema.json`` is this
document, written by ``scripts/gen_config_schema.py``); the table stays the one place a key
is defined.
"""

from __future__ import annotations

from typing import Any

from unstall._config import KEYS, WATCH_KEYS, ConfigKey

__all__ = ("SCHEMA_ID", "config_schema")

SCHEMA_ID = "https://github.com/unstall/unstall/raw/main/docs/unstall.schema.json"


def _property(key: ConfigKey) -> dict[str, Any]:
    # Draft 7 ignores the siblings of a "$ref": the reference goes under allOf.
    schema = {"allOf": [dict(key.schema)]} if "$ref" in key.schema else dict(key.schema)
    return {"description": key.help, **schema}


def _properties(keys: dict[str, ConfigKey]) -> dict[str, Any]:
    return {name: _property(key) for name, key in sorted(keys.items())}


def _definitions() -> dict[str, Any]:
    from unstall._config import known_codes
    from unstall.catalog import Kind, Offload

    code = {
        "anyOf": [
            {"enum": ["ALL", *known_codes()]},
            {"type": "string", "pattern": "^UNS[0-9]{0,3}$"},
        ]
    }
    text = {"type": "string", "minLength": 1}
    name = {"type": "string", "pattern": r"^[^.\s]+(\.[^.\s]+)*$"}
    entry_properties: dict[str, Any] = {
        "name": {
            **text,
            "description": "Qualified name, or a type's name and '.*' for all its methods.",
        },
        "kind": {"enum": [kind.value for kind in Kind], "description": "What the call waits for."},
        "why": {**text, "description": "Why it blocks, shown with each finding."},
        "alternative": {**text, "description": "What to use instead."},
        "fix": {**text, "description": "A mechanical rewrite: a template of {func} and {args}."},
        "aliases": {"type": "array", "items": name, "description": "Other names of the callable."},
        "nonblocking": {
            "type": "array",
            "items": text,
            "description": "Arguments that make the call not block: keyword=value or keyword@position=value.",
        },
        "returns": {**name, "description": "The type the call returns, followed further."},
        "yields": {**name, "description": "The type of the items the call yields."},
        "once": {
            "type": "string",
            "minLength": 1,
            "description": "Why the call blocks only the first time it runs in a process (it fills a cache of its own).",
        },
        "audit_event": {
            **text,
            "description": "The sys.audit event the runtime tripwire maps to this entry.",
        },
        "offload": {
            "enum": [item.value for item in Offload],
            "description": "Where the work belongs.",
        },
        "example": {**text, "description": "A short example that ends with the blocking call."},
    }
    return {
        "codes": {
            "description": "Rule codes or prefixes such as UNS1, UNS101 or ALL (a list, or one comma-separated string).",
            "anyOf": [
                {"type": "array", "items": code},
                {
                    "type": "string",
                    "pattern": r"^\s*(ALL|UNS[0-9]{0,3})(\s*,\s*(ALL|UNS[0-9]{0,3}))*\s*,?\s*$",
                },
            ],
        },
        "globs": {"type": "array", "items": text},
        "qualified-names": {"type": "array", "items": name},
        "blocking-entry": {
            "type": "object",
            "required": ["name", "kind", "why", "alternative"],
            "additionalProperties": False,
            "properties": entry_properties,
        },
        "watch": {
            "type": "object",
            "additionalProperties": False,
            "properties": _properties(WATCH_KEYS),
        },
    }


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 7) of the ``[tool.unstall]`` table (and of ``unstall.toml``)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "unstall settings",
        "description": "Settings of unstall: [tool.unstall] in pyproject.toml, or the top level of unstall.toml.",
        "type": "object",
        "additionalProperties": False,
        "properties": _properties(KEYS),
        "definitions": _definitions(),
    }
