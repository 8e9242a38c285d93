"""The ``unstall rules`` subcommand: the rules, the catalog of blocking callables and the boundaries, in text, JSON or Markdown.

It shows the catalog as ``unstall check`` uses it for this project: the built-in table plus the
project's ``[tool.unstall]`` additions."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from unstall._config import load_config
from unstall.catalog import Boundary, Catalog, Entry, Kind, KindInfo, Rule
from unstall.catalog._docs import render_rules_markdown
from unstall.errors import ConfigError

__all__ = ("configure", "run")

_EPILOG = """\
Examples:
  unstall rules                     every rule and the callables it flags
  unstall rules UNS103              one rule in full
  unstall rules requests.get        one blocking callable in full
  unstall rules --kind database --format json
  unstall rules --boundaries        offload calls, partials, thread-pool and context-manager decorators

The catalog includes the entries of [tool.unstall] blocking in the nearest pyproject.toml
(or --config FILE). Exit codes: 0 shown, 2 unknown rule or callable, or a configuration error.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``rules`` options to ``parser``."""
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "query",
        nargs="?",
        metavar="CODE_OR_NAME",
        help="a rule code (UNS103) or a blocking callable's qualified name (requests.get)",
    )
    parser.add_argument(
        "--kind",
        choices=[kind.value for kind in Kind],
        help="only the rule and callables of this kind",
    )
    parser.add_argument(
        "--boundaries",
        action="store_true",
        help="list the boundaries instead: offload calls, partials, thread-pool and context-manager decorators",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="output format (default: text)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="read [tool.unstall] from FILE instead of the nearest pyproject.toml",
    )


def _catalog(config_path: Path | None) -> Catalog:
    return load_config(config_path).catalog()


def _entry_dict(entry: Entry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "code": entry.code,
        "kind": entry.kind.value,
        "why": entry.why,
        "alternative": entry.alternative,
        "fix": entry.fix,
        "aliases": list(entry.aliases),
        "nonblocking": [str(item) for item in entry.nonblocking],
        "returns": entry.returns,
        "audit_event": entry.audit_event,
        "offload": entry.offload.value,
        "example": entry.example,
        "once": entry.once,
    }


def _kind_dict(catalog: Catalog, info: KindInfo) -> dict[str, Any]:
    return {
        "code": info.code,
        "name": f"blocking-{info.kind.value}",
        "kind": info.kind.value,
        "title": info.title,
        "why": info.why,
        "offload": info.offload.value,
        "entries": [_entry_dict(entry) for entry in catalog.by_kind(info.kind)],
    }


def _rule_dict(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "kind": None,
        "title": rule.title,
        "why": rule.why,
        "offload": None,
        "entries": [],
    }


def _rows(entries: Sequence[Entry]) -> list[str]:
    width = min(48, max((len(entry.name) for entry in entries), default=0))
    kind_width = max((len(entry.kind.value) for entry in entries), default=0)
    return [
        f"  {entry.code}  {entry.kind.value:<{kind_width}}  {entry.name:<{width}}  {entry.alternative}"
        for entry in entries
    ]


def _boundary_dict(row: Boundary) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind.value,
        "why": row.why,
        "method": row.method,
        "tail": row.tail,
        "keywords": list(row.keywords),
        "async": row.asynchronous,
    }


def _text_boundaries(rows: Sequence[Boundary]) -> str:
    width = min(48, max((len(row.name) for row in rows), default=0))
    kind_width = max((len(row.kind.value) for row in rows), default=0)
    lines = [
        f"  {row.kind.value:<{kind_width}}  {row.name:<{width}}  {row.why}"
        + (f" (also .{row.name.rpartition('.')[2]}(...) on any receiver)" if row.method else "")
        for row in rows
    ]
    return "\n".join([*lines, "", f"{len(rows)} boundaries."]) + "\n"


def _text_table(catalog: Catalog, kinds: Sequence[KindInfo], extras: Sequence[Rule]) -> str:
    lines: list[str] = []
    for info in kinds:
        entries = catalog.by_kind(info.kind)
        lines.append(
            f"{info.code} {info.title} (kind {info.kind.value}, {len(entries)} callables, offload: {info.offload.value})"
        )
        lines += _rows(entries)
        lines.append("")
    for rule in extras:
        lines.append(f"{rule.code} {rule.title}")
    total = sum(len(catalog.by_kind(info.kind)) for info in kinds)
    if extras:
        lines.append("")
    lines.append(f"{total} blocking callables in {len(kinds)} rules.")
    return "\n".join(lines) + "\n"


def _text_kind(catalog: Catalog, info: KindInfo) -> str:
    entries = catalog.by_kind(info.kind)
    lines = [
        f"{info.code} {info.title} (blocking-{info.kind.value})",
        f"  kind:     {info.kind.value}",
        f"  why:      {info.why}",
        f"  offload:  {info.offload.value}",
        f"  callables ({len(entries)}):",
        *("  " + row for row in _rows(entries)),
    ]
    return "\n".join(lines) + "\n"


def _text_rule(rule: Rule) -> str:
    return (
        f"{rule.code} {rule.title}\n  flags:       {rule.flags}\n  why:         {rule.why}\n"
        f"  use instead: {rule.instead}\n"
    )


def _text_entry(catalog: Catalog, entry: Entry) -> str:
    info = catalog.kind_info(entry.kind)
    lines = [f"{entry.name}  ({entry.code} {info.title}, kind {entry.kind.value})"]
    fields = [
        ("also known as", ", ".join(entry.aliases)),
        ("why", entry.why),
        ("use instead", entry.alternative),
        ("fix", entry.fix or ""),
        ("offload", entry.offload.value),
        ("not flagged with", ", ".join(map(str, entry.nonblocking))),
        ("returns", entry.returns or ""),
        ("audit event", entry.audit_event or ""),
    ]
    lines += [f"  {label + ':':<17} {value}" for label, value in fields if value]
    module = entry.example_module()
    if module:
        lines.append("  example:")
        lines += [("    " + line).rstrip() for line in module.rstrip().splitlines()]
    return "\n".join(lines) + "\n"


def _markdown_entry(catalog: Catalog, entry: Entry) -> str:
    info = catalog.kind_info(entry.kind)
    out = [
        f"## `{entry.name}`",
        "",
        f"Rule [{entry.code}](rules.md#{entry.code.lower()}): {info.title}.",
        "",
    ]
    out += [f"- **Why it blocks:** {entry.why}", f"- **Use instead:** {entry.alternative}"]
    if entry.aliases:
        out.append("- **Also known as:** " + ", ".join(f"`{alias}`" for alias in entry.aliases))
    if entry.fix:
        out.append(f"- **Fix:** `{entry.fix}`")
    module = entry.example_module()
    if module:
        out += ["", "```python", module.rstrip(), "```"]
    return "\n".join(out) + "\n"


def _unknown(query: str, catalog: Catalog, extras: Sequence[Rule]) -> ConfigError:
    codes = [*catalog.codes(), *(rule.code for rule in extras)]
    names = [name for entry in catalog for name in entry.names]
    close = difflib.get_close_matches(query.upper(), codes, n=3, cutoff=0.6)
    close += difflib.get_close_matches(query, names, n=5, cutoff=0.6)
    suffix = [name for name in names if name.endswith("." + query) and name not in close]
    close += suffix[:5]
    hint = f" Close matches: {', '.join(close)}." if close else ""
    return ConfigError(
        f"{query!r} is neither a rule code nor a known blocking callable.{hint} "
        "Run 'unstall rules' to list every rule and callable.",
        key="rules",
        source="command line",
    )


def _run_boundaries(catalog: Catalog, args: argparse.Namespace) -> int:
    if args.query is not None or args.kind or args.format == "markdown":
        raise ConfigError(
            "--boundaries lists every boundary in text or JSON; drop the rule or callable, --kind and --format markdown.",
            key="--boundaries",
            source="command line",
        )
    rows = catalog.boundaries
    if args.format == "json":
        sys.stdout.write(
            json.dumps({"boundaries": [_boundary_dict(row) for row in rows]}, indent=2) + "\n"
        )
    else:
        sys.stdout.write(_text_boundaries(rows))
    return 0


def run(args: argparse.Namespace) -> int:
    """Print the rules (all, one rule, or one callable) in the chosen format; return the exit code."""
    catalog = _catalog(args.config)
    if args.boundaries:
        return _run_boundaries(catalog, args)
    extras: Sequence[Rule] = tuple(catalog.rules.values())
    kinds = sorted(catalog.kinds.values(), key=lambda info: info.code)
    query: str | None = args.query
    if args.kind:
        kinds = [info for info in kinds if info.kind.value == args.kind]
        extras = ()
    output: str
    if query is None:
        if args.format == "json":
            rules = [_kind_dict(catalog, info) for info in kinds] + [_rule_dict(r) for r in extras]
            output = json.dumps({"rules": rules}, indent=2) + "\n"
        elif args.format == "markdown":
            if args.kind:
                raise ConfigError(
                    "--format markdown renders the whole rule reference; drop --kind, or pass a rule code such as 'UNS103'.",
                    key="--kind",
                    source="command line",
                )
            output = render_rules_markdown(catalog)
        else:
            output = _text_table(catalog, kinds, extras)
        sys.stdout.write(output)
        return 0
    by_code = {info.code: info for info in kinds}
    extra_by_code = {rule.code: rule for rule in extras}
    code = query.upper()
    entry = catalog.lookup(query)
    if args.kind and entry is not None and entry.kind.value != args.kind:
        entry = None
    if code in by_code:
        info = by_code[code]
        if args.format == "json":
            output = json.dumps(_kind_dict(catalog, info), indent=2) + "\n"
        elif args.format == "markdown":
            section = render_rules_markdown(catalog).split(f"\n## {code}\n", 1)[1]
            output = f"## {code}\n" + section.split("\n## ", 1)[0].rstrip() + "\n"
        else:
            output = _text_kind(catalog, info)
    elif code in extra_by_code:
        rule = extra_by_code[code]
        if args.format == "json":
            output = json.dumps(_rule_dict(rule), indent=2) + "\n"
        elif args.format == "markdown":
            section = render_rules_markdown(catalog).split(f"\n## {code}\n", 1)[1]
            output = f"## {code}\n" + section.split("\n## ", 1)[0].rstrip() + "\n"
        else:
            output = _text_rule(rule)
    elif entry is not None:
        if args.format == "json":
            output = json.dumps(_entry_dict(entry), indent=2) + "\n"
        elif args.format == "markdown":
            output = _markdown_entry(catalog, entry)
        else:
            output = _text_entry(catalog, entry)
    else:
        if args.kind and (code in catalog.codes() or catalog.lookup(query) is not None):
            raise ConfigError(
                f"{query!r} is not of kind {args.kind!r}; drop --kind to show it.",
                key="--kind",
                source="command line",
            )
        raise _unknown(query, catalog, extras)
    sys.stdout.write(output)
    return 0
