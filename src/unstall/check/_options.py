"""The options of ``unstall check``: its command line, grouped as ``--help`` shows them."""

from __future__ import annotations

import argparse
from pathlib import Path

from unstall.check._format_text import COLOR_CHOICES
from unstall.check._output import FORMATS

__all__ = ("configure",)

_EPILOG = """\
Exit codes: 0 no problems found, 1 problems found (after --fix: problems left; with
--diff: fixes to show), 2 usage or configuration error. --exit-zero turns 1 into 0.

'-' as PATH reads standard input; with --stdin-filename NAME it is checked as that file of
the project around it (chains through other modules are kept) and only its findings are
reported. --fix - prints the fixed source, --diff - its diff.

Suppress one finding with a comment on its line: '# noqa', '# noqa: UNS101',
'# unstall: ignore' or '# unstall: ignore[UNS101, UNS103]'.
Settings come from [tool.unstall] in the nearest pyproject.toml (or --config FILE).
The summary cache lives in .unstall_cache/ (or --cache-dir, or $UNSTALL_CACHE_DIR).
Colors: --color, or the NO_COLOR and FORCE_COLOR environment variables.
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
    report = parser.add_argument_group("report")
    report.add_argument(
        "--output-format",
        "--format",
        dest="output_format",
        choices=FORMATS,
        default="text",
        metavar="FORMAT",
        help=f"report format: {', '.join(FORMATS)} (default: text; gitlab is GitLab's code quality report, junit JUnit XML)",
    )
    report.add_argument(
        "-o",
        "--output-file",
        type=Path,
        metavar="FILE",
        help="write the report to FILE instead of standard output",
    )
    report.add_argument(
        "--frequency",
        metavar="TIERS",
        help="report findings of these tiers, comma-separated: every (blocks each time), first "
        "(on the first call only: a cache or lazy set-up fills, a first import), startup (only "
        "at start-up or shutdown), test (in test code), example (in example or demo code), or all "
        "(default: every,first)",
    )
    report.add_argument(
        "--statistics",
        action="store_true",
        help="print a count of findings per rule code instead of each finding",
    )
    report.add_argument(
        "--show-source",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show the source line under each finding (text format)",
    )
    report.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default="auto",
        help="color the text report: auto (on a terminal, unless NO_COLOR), always, never",
    )
    loud = report.add_mutually_exclusive_group()
    loud.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print the findings only: no summary line, no notes",
    )
    loud.add_argument(
        "-s",
        "--silent",
        action="store_true",
        help="print nothing; the exit code tells (a report file named with -o is still written)",
    )
    report.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit with 0 even when problems are found (2 still means a usage or config error)",
    )
    fixing = parser.add_argument_group("fixes")
    fixing.add_argument(
        "--fix",
        action="store_true",
        help="apply the safe mechanical fixes, then report what remains",
    )
    fixing.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="with --fix or --diff: also apply fixes that may change behaviour",
    )
    fixing.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff instead of writing them; exit 1 when there are any",
    )
    files = parser.add_argument_group("files and settings")
    files.add_argument(
        "--select",
        metavar="CODES",
        help="comma-separated codes or prefixes to report (replaces the config's select)",
    )
    files.add_argument(
        "--extend-select",
        metavar="CODES",
        help="comma-separated codes or prefixes to report in addition",
    )
    files.add_argument(
        "--ignore",
        metavar="CODES",
        help="comma-separated codes or prefixes not to report (added to the config's)",
    )
    files.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files and folders matching GLOB (repeatable)",
    )
    files.add_argument(
        "--respect-gitignore",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="skip what .gitignore files ignore (default: the config's respect-gitignore, true)",
    )
    files.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="read settings from FILE (pyproject.toml or unstall.toml)",
    )
    files.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="check standard input as the file PATH of its project (implies '-' when no PATH is given)",
    )
    files.add_argument(
        "--show-settings",
        action="store_true",
        help="print the settings in effect (as [tool.unstall] TOML) and exit",
    )
    files.add_argument(
        "--show-files",
        action="store_true",
        help="print the files that would be checked and exit",
    )
    run_options = parser.add_argument_group("running")
    run_options.add_argument(
        "--watch",
        action="store_true",
        help="check again whenever a file changes, printing only new and fixed findings",
    )
    run_options.add_argument(
        "--no-cache", action="store_true", help="do not read or write the summary cache"
    )
    run_options.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="folder of the summary cache (default: .unstall_cache)",
    )
    run_options.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="worker processes (default: the number of cores)",
    )
