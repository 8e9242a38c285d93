"""docs/unstall.schema.json: generated from the config's key table, fresh, and in agreement with
what the config loader accepts and refuses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from unstall._config import KEYS, WATCH_KEYS, config_from_table
from unstall._config_schema import SCHEMA_ID, config_schema
from unstall.catalog._rows import _ENTRY_KEYS, _REQUIRED
from unstall.check._rules_info import PROJECT_URL
from unstall.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "docs" / "unstall.schema.json"
SCHEMA = config_schema()
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def test_the_committed_file_is_the_generated_schema() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == SCHEMA, (
        "docs/unstall.schema.json is stale: run `python scripts/gen_config_schema.py` and commit it"
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_config_schema.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_it_is_a_valid_draft_7_schema_at_its_documented_address() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA_ID.startswith(PROJECT_URL)
    assert SCHEMA_ID.endswith("/docs/unstall.schema.json")


def test_its_keys_are_the_keys_the_loader_accepts() -> None:
    assert set(SCHEMA["properties"]) == set(KEYS)
    assert SCHEMA["additionalProperties"] is False
    watch = SCHEMA["definitions"]["watch"]
    assert set(watch["properties"]) == set(WATCH_KEYS)
    entry = SCHEMA["definitions"]["blocking-entry"]
    assert set(entry["properties"]) == set(_ENTRY_KEYS)
    assert set(entry["required"]) == set(_REQUIRED)
    for name, key in KEYS.items():
        assert SCHEMA["properties"][name]["description"] == key.help


def _readme_config() -> dict[str, Any]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    tables = [tomllib.loads(block) for block in blocks if "[tool.unstall]" in block]
    assert tables, "the README shows a [tool.unstall] example"
    table: dict[str, Any] = tables[0]["tool"]["unstall"]
    return table


VALID: list[dict[str, Any]] = [
    {},
    {"select": "UNS1, UNS201"},
    {"select": ["ALL"], "ignore": ["UNS110"], "extend-select": ["UNS2"]},
    {"per-file-ignores": {"tests/**": ["UNS101"]}, "respect-gitignore": False},
    {"max-file-size": 1000, "exclude": ["gen/"], "extend-exclude": ["*_pb2.py"]},
    {"watch": {"threshold-ms": 20.5, "tripwire": True, "allow": ["x.y"]}},
    {
        "blocking": [
            {
                "name": "mycorp.Client.*",
                "kind": "network",
                "why": "w",
                "alternative": "a",
                "offload": "thread",
                "aliases": ["mycorp.get"],
                "nonblocking": ["timeout=0"],
            }
        ]
    },
]
INVALID: list[dict[str, Any]] = [
    {"selct": ["UNS1"]},
    {"select": ["XYZ1"]},
    {"select": 5},
    {"max-file-size": 0},
    {"max-file-size": "big"},
    {"respect-gitignore": "no"},
    {"exclude": [""]},
    {"allow": ["not a name"]},
    {"per-file-ignores": ["tests/**"]},
    {"watch": {"threshold-ms": 0}},
    {"watch": {"tripwire": 1}},
    {"watch": {"threshhold-ms": 10}},
    {"blocking": [{"name": "x.y", "kind": "network", "why": "w"}]},
    {"blocking": [{"name": "x.y", "kind": "teleport", "why": "w", "alternative": "a"}]},
    {"blocking": [{"name": "x.y", "kind": "file", "why": "w", "alternative": "a", "colour": 1}]},
]


@pytest.mark.parametrize("table", [*VALID, "readme"], ids=repr)
def test_valid_configs_pass_both(table: dict[str, Any] | str) -> None:
    config = _readme_config() if table == "readme" else table
    assert isinstance(config, dict)
    errors = list(VALIDATOR.iter_errors(config))
    assert not errors, errors[0].message
    config_from_table(config)


@pytest.mark.parametrize("table", INVALID, ids=repr)
def test_invalid_configs_fail_both(table: dict[str, Any]) -> None:
    assert list(VALIDATOR.iter_errors(table)), "the schema accepts it"
    with pytest.raises(ConfigError):
        config_from_table(table)
