"""Write docs/unstall.schema.json, the JSON Schema of [tool.unstall], from the config's key table.

Usage: python scripts/gen_config_schema.py [--check]

With --check nothing is written: the exit code is 1 when the schema file is out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from unstall._config_schema import config_schema

SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "unstall.schema.json"


def render() -> str:
    """The schema file's text."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the schema file is stale")
    args = parser.parse_args()
    text = render()
    current = SCHEMA.read_text(encoding="utf-8") if SCHEMA.exists() else None
    if args.check:
        if current != text:
            print(
                f"{SCHEMA} is out of date; run: python scripts/gen_config_schema.py",
                file=sys.stderr,
            )
            return 1
        return 0
    if current != text:
        SCHEMA.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
