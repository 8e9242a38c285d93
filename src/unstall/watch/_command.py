"""``unstall run``: run a script or module under the event-loop watchdog and report at exit.

``unstall run [--threshold-ms N] [--tripwire] [--format text|json] [--output FILE]
(SCRIPT [ARGS...] | -m MODULE [ARGS...])``. The target sees the same ``sys.argv`` it would
see under ``python``; its exit code is returned; SIGINT and SIGTERM end the process the way
they would end the plain program (after the report is written); SIGUSR1 writes the report so
far. Settings not given on the command line come from ``[tool.unstall.watch]``.
"""

from __future__ import annotations

import argparse
import atexit
import os
import runpy
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

__all__ = ("configure", "run")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``run`` options to ``parser``."""
    parser.add_argument(
        "--threshold-ms",
        type=float,
        default=None,
        help="stall threshold in milliseconds (default: [tool.unstall.watch] threshold-ms, else 100)",
    )
    parser.add_argument(
        "--tripwire",
        action="store_true",
        default=None,
        help="also report every blocking call made on a running loop, however short",
    )
    parser.add_argument(
        "--backstop",
        action="store_true",
        help="arm the faulthandler backstop: stalls in C code that holds the GIL get their line "
        "too (for development and staging; see unstall.watch.Watcher)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    parser.add_argument("--output", default=None, help="write the report to FILE instead of stderr")
    parser.add_argument("-m", dest="module", default=None, help="run a library module as a script")
    parser.add_argument(
        "target", nargs=argparse.REMAINDER, help="SCRIPT [ARGS...] (or ARGS for -m)"
    )


def _settings() -> tuple[float, bool, tuple[str, ...]]:
    """``(threshold_ms, tripwire, allow)`` from the nearest configuration (defaults without one)."""
    from unstall._config import load_config

    cfg = load_config(start=Path.cwd())
    return float(cfg.watch.threshold_ms), bool(cfg.watch.tripwire), tuple(cfg.watch.allow)


def _tripwire(allow: tuple[str, ...]) -> object:
    """The tripwire option for :func:`watch`: a configured Tripwire when there is an allow-list."""
    if not allow:
        return True
    try:
        from unstall.watch._tripwire import Tripwire

        return Tripwire(allow=allow)
    except Exception:  # an older tripwire without allow-lists: run it plain
        return True


def _user_traceback(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without the leading frames of runpy and of this module."""
    skip = {"<frozen runpy>", runpy.__file__, __file__}
    while tb is not None and tb.tb_frame.f_code.co_filename in skip:
        tb = tb.tb_next
    return tb


def _die_by(signum: int) -> None:
    """End the process by ``signum`` with its default action, as the plain program would have."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def run(args: argparse.Namespace) -> int:
    """Run the target under :func:`unstall.watch`; return its exit code (uncaught exception: 1)."""
    from unstall.watch import watch

    target: list[str] = list(args.target)
    if args.module is None and not target:
        sys.stderr.write(
            "unstall run: give a SCRIPT or -m MODULE to run, e.g. `unstall run app.py`.\n"
        )
        return 2
    threshold, tripwire, allow = _settings()  # a ConfigError becomes exit code 2 in the CLI
    if args.threshold_ms is not None:
        if not args.threshold_ms > 0:
            sys.stderr.write(
                f"unstall run: --threshold-ms {args.threshold_ms!r} is invalid; give a positive number of milliseconds.\n"
            )
            return 2
        threshold = args.threshold_ms
    if args.tripwire:
        tripwire = True
    watcher = watch(
        threshold, tripwire=_tripwire(allow) if tripwire else False, backstop=args.backstop
    )
    written = False

    def write_report(final: bool) -> None:
        nonlocal written
        if written:
            return
        if final:
            written = True
            watcher.stop()
        try:
            report = watcher.report()
            text = report.to_json() + "\n" if args.format == "json" else report.render_text()
            if args.output:
                with open(args.output, "w", encoding="utf-8") as fh:
                    fh.write(text)
            else:
                sys.stderr.write(text)
                sys.stderr.flush()
        except Exception as exc:  # a report that cannot be written must not change the exit
            sys.stderr.write(f"unstall run: could not write the report: {exc}\n")

    def on_usr1(signum: int, frame: FrameType | None) -> None:
        write_report(False)

    def on_term(signum: int, frame: FrameType | None) -> None:
        write_report(True)
        _die_by(signum)

    atexit.register(write_report, True)
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, on_usr1)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, on_term)
    code = 0
    try:
        if args.module is not None:
            sys.argv = [args.module, *target]
            sys.path[0] = os.getcwd()  # as `python -m` does
            runpy.run_module(args.module, run_name="__main__", alter_sys=True)
        else:
            script = target[0]
            sys.argv = target
            sys.path[0] = os.path.dirname(os.path.abspath(script))
            runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except KeyboardInterrupt as exc:
        traceback.print_exception(type(exc), exc, _user_traceback(exc.__traceback__))
        write_report(True)
        _die_by(signal.SIGINT)
        code = 130  # only when the signal could not end the process
    except BaseException as exc:
        traceback.print_exception(type(exc), exc, _user_traceback(exc.__traceback__))
        code = 1
    write_report(True)
    return code


def _exit_code(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    sys.stderr.write(f"{value}\n")
    return 1
