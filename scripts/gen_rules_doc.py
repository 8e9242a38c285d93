"""Write docs/rules.md from the catalog (src/unstall/catalog/blocking.toml).

Usage: python scripts/gen_rules_doc.py [--check]

With --check nothing is written: the exit code is 1 when docs/rules.md is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from unstall.catalog import default_catalog
from unstall.catalog._docs import render_rules_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/rules.md is stale")
    args = parser.parse_args()
    text = render_rules_markdown(default_catalog())
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else None
    if args.check:
        if current != text:
            print(f"{DOC} is out of date; run: python scripts/gen_rules_doc.py", file=sys.stderr)
            return 1
        return 0
    if current != text:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
