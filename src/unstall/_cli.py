"""The ``unstall`` command line: ``check``, ``rules``, ``run``, ``bench`` and ``server``.

Each subcommand lives in its part's ``_command`` module, imported only when used, which
exposes ``configure(parser)`` and ``run(args) -> int``.

Exit codes: 0 clean, 1 findings (or the script's own failure under ``run``), 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from unstall import __version__
from unstall.errors import UnstallError

__all__ = ("main",)

# name -> (module implementing it, one-line help)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "check": ("unstall.check._command", "find async code that can reach a blocking call"),
    "rules": ("unstall.check._rules_command", "print the catalog of blocking callables and rules"),
    "run": ("unstall.watch._command", "run a script or module under the event-loop watchdog"),
    "bench": ("unstall.bench._command", "load-test a real async service: naive vs fixed"),
    "server": ("unstall.server._command", "serve findings to editors (Language Server Protocol)"),
}


class _Command(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _command(name: str) -> _Command:
    return cast("_Command", importlib.import_module(_SUBCOMMANDS[name][0]))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``unstall`` command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="unstall",
        description="Find what stalls an asyncio event loop, and move it off the loop.",
    )
    parser.add_argument("--version", action="version", version=f"unstall {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((arg for arg in args_list if not arg.startswith("-")), None)
    for name, (_module, help_text) in _SUBCOMMANDS.items():
        sub = subparsers.add_parser(
            name, help=help_text, description=help_text[0].upper() + help_text[1:] + "."
        )
        if name == chosen:
            _command(name).configure(sub)
    if not args_list:
        parser.print_help()
        return 2
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _command(args.command).run(args)
    except UnstallError as exc:
        print(f"unstall {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
