"""The ``unstall server`` subcommand: the language server on standard input and output."""

from __future__ import annotations

import argparse
import os
import sys
from typing import BinaryIO

from unstall.server._serve import EXTRA_MISSING, serve

__all__ = ("configure", "run")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``server`` options to ``parser``."""
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="talk over standard input and output (the default and only transport; "
        "accepted because editors' clients pass it)",
    )
    parser.add_argument(
        "--debounce-ms",
        type=float,
        default=100.0,
        metavar="MS",
        help="quiet time after an edit before checking, in milliseconds (default: 100)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        help="worker processes for a first check of many files (default: the usable cores)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read the summary cache from disk nor write it at shutdown "
        "(summaries are still kept in memory between checks)",
    )


def _protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """Standard input, and standard output for the protocol alone.

    Anything else written to file descriptor 1 (a warning printed by a library, a worker
    process) would corrupt the protocol's messages: the protocol gets its own copy of the
    descriptor, and descriptor 1 (and ``sys.stdout``) go to standard error.
    """
    stdin = sys.stdin.buffer
    try:
        out = os.dup(sys.stdout.fileno())
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        return stdin, sys.stdout.buffer  # not a real descriptor (an embedding host): as it is
    sys.stdout = sys.stderr
    return stdin, os.fdopen(out, "wb")


def run(args: argparse.Namespace) -> int:
    """Serve until the client exits; 2 when the ``lsp`` extra is not installed."""
    if args.debounce_ms < 0:
        print(
            f"unstall server: error: --debounce-ms must be 0 or more, got {args.debounce_ms!r}.",
            file=sys.stderr,
        )
        return 2
    if args.jobs is not None and args.jobs < 1:
        print(
            f"unstall server: error: --jobs must be at least 1, got {args.jobs!r}.", file=sys.stderr
        )
        return 2
    try:
        import lsprotocol.types  # noqa: F401
        import pygls.lsp.server  # noqa: F401
    except ImportError:
        print(f"unstall server: error: {EXTRA_MISSING}.", file=sys.stderr)
        return 2
    stdin, stdout = _protocol_streams()
    return serve(
        stdin, stdout, debounce=args.debounce_ms / 1000, jobs=args.jobs, use_cache=not args.no_cache
    )
