"""The ``unstall check`` subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from unstall._config import Config, load_config, parse_codes, parse_frequency
from unstall.check._apply import fixable, plan_fixes, unified_diff, write_fixes
from unstall.check._format_json import format_github, format_json
from unstall.check._format_sarif import format_sarif
from unstall.check._format_text import format_statistics, format_text, use_color
from unstall.check._read import Source, read_source
from unstall.check._rules_info import rule_infos
from unstall.check._runner import CheckResult, run_check
from unstall.errors import ConfigError

__all__ = ("configure", "run")

_EPILOG = """\
Exit codes: 0 no problems found, 1 problems found (after --fix: problems left),
2 usage or configuration error.

Suppress one finding with a comment on its line: '# noqa', '# noqa: UNS101',
'# unstall: ignore' or '# unstall: ignore[UNS101, UNS103]'.
Settings come from [tool.unstall] in the nearest pyproject.toml (or --config FILE).
The summary cache lives in .unstall_cache/ (or --cache-dir, or $UNSTALL_CACHE_DIR).
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``check`` options to ``parser``."""
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders to check (default: .); '-' reads standard input",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="report format (default: text)",
    )
    parser.add_argument(
        "--frequency",
        metavar="TIERS",
        help="report findings of these tiers, comma-separated: every (blocks each time), first "
        "(on the first call only: a cache or lazy set-up fills, a first import), startup (only "
        "at start-up or shutdown), or all (default: every,first)",
    )
    parser.add_argument(
        "--statistics",
        action="store_true",
        help="print a count of findings per rule code instead of each finding",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="apply the safe mechanical fixes, then report what remains",
    )
    parser.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="with --fix or --diff: also apply fixes that may change behaviour",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff instead of writing them",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="do not read or write the summary cache"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="folder of the summary cache (default: .unstall_cache)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="worker processes (default: the number of cores)",
    )
    parser.add_argument(
        "--select",
        metavar="CODES",
        help="comma-separated codes or prefixes to report (replaces the config's select)",
    )
    parser.add_argument(
        "--extend-select",
        metavar="CODES",
        help="comma-separated codes or prefixes to report in addition",
    )
    parser.add_argument(
        "--ignore",
        metavar="CODES",
        help="comma-separated codes or prefixes not to report (added to the config's)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files and folders matching GLOB (repeatable)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="read settings from FILE (pyproject.toml or unstall.toml)",
    )
    parser.add_argument(
        "--stdin-filename",
        metavar="NAME",
        default="stdin.py",
        help="file name for source read from '-' (default: stdin.py)",
    )
    parser.add_argument(
        "--show-source",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show the source line under each finding (text format)",
    )


def _config(args: argparse.Namespace, paths: Sequence[Path]) -> Config:
    config = load_config(
        args.config, start=paths[0] if paths and str(paths[0]) != "-" else Path.cwd()
    )
    changes: dict[str, object] = {}
    if args.select:
        changes["select"] = parse_codes(args.select, "--select", "command line")
        changes["extend_select"] = ()
    if args.extend_select:
        changes["extend_select"] = (
            *config.extend_select,
            *parse_codes(args.extend_select, "--extend-select", "command line"),
        )
    if args.ignore:
        changes["ignore"] = (*config.ignore, *parse_codes(args.ignore, "--ignore", "command line"))
    if args.exclude:
        changes["extend_exclude"] = (*config.extend_exclude, *args.exclude)
    if args.frequency:
        changes["frequency"] = parse_frequency(args.frequency, "--frequency", "command line")
    return config.replace(**changes) if changes else config


def _line_source(result: CheckResult, stdin: tuple[str, str] | None) -> dict[str, list[str] | None]:
    lines: dict[str, list[str] | None] = {}
    for finding in result.findings:
        path = finding.location.path
        if path in lines:
            continue
        if stdin is not None and path == stdin[0]:
            lines[path] = stdin[1].splitlines()
            continue
        source = read_source(str(result.paths.get(path, Path(path))), max_size=1 << 62)
        lines[path] = source.text.splitlines() if isinstance(source, Source) else None
    return lines


def _report(
    result: CheckResult, args: argparse.Namespace, config: Config, stdin: tuple[str, str] | None
) -> None:

    infos = rule_infos(config.catalog())
    out = sys.stdout
    if args.format == "json":
        out.write(format_json(result.findings, infos, files=len(result.files)))
    elif args.format == "sarif":
        out.write(format_sarif(result.findings, infos, root=Path.cwd()))
    elif args.format == "github":
        out.write(format_github(result.findings))
    elif args.statistics:
        out.write(format_statistics(result.findings, infos, result.hidden))
    else:
        lines = _line_source(result, stdin)
        out.write(
            format_text(
                result.findings,
                lines.get,
                files=len(result.files),
                color=use_color(out),
                show_source=args.show_source,
                unsafe_fixes=args.unsafe_fixes,
                hidden=result.hidden,
            )
        )


def run(args: argparse.Namespace) -> int:
    """Run ``unstall check`` with parsed ``args``; return the exit code (0 clean, 1 findings, 2 errors)."""
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show a character (an arrow of a chain, a name in the source)
        # gets an escape, never a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors="backslashreplace")
    paths = [Path(p) for p in args.paths] or [Path(".")]
    stdin: tuple[str, str] | None = None
    if any(str(p) == "-" for p in paths):
        if args.fix and not args.diff:
            raise ConfigError(
                "--fix cannot rewrite standard input; use --diff to see the fixes.",
                key="--fix",
                source="command line",
            )
        stdin = (args.stdin_filename, sys.stdin.read())
        paths = [p for p in paths if str(p) != "-"]
    config = _config(args, paths)
    use_cache = not args.no_cache

    def check_once() -> CheckResult:
        return run_check(
            paths,
            config=config,
            stdin=stdin,
            jobs=args.jobs,
            use_cache=use_cache,
            cache_dir=args.cache_dir,
        )

    result = check_once()
    if args.fix or args.diff:
        overrides = {stdin[0]: stdin[1]} if stdin is not None else {}
        plans = plan_fixes(result.findings, result.paths, unsafe=args.unsafe_fixes, texts=overrides)
        if args.diff:
            sys.stdout.write(unified_diff(plans))
            would = sum(plan.fixed for plan in plans)
            print(
                f"Would fix {would} problem{'s' if would != 1 else ''} in {len(plans)} file{'s' if len(plans) != 1 else ''}.",
                file=sys.stderr,
            )
            remaining = [f for f in result.findings if not fixable(f, unsafe=args.unsafe_fixes)]
            return 1 if remaining else 0
        fixed, skipped = write_fixes(plans, result.digests)
        for path in skipped:
            print(
                f"unstall check: {path} changed while it was being checked; not fixed.",
                file=sys.stderr,
            )
        if fixed:
            print(f"Fixed {fixed} problem{'s' if fixed != 1 else ''}.", file=sys.stderr)
            result = check_once()
    _report(result, args, config, stdin)
    return 1 if result.findings else 0
