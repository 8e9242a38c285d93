"""``unstall run``: run a script or module under the event-loop watchdog and report at exit."""

from __future__ import annotations

import argparse
import atexit
import os
import runpy
import signal
import sys
import traceback
from types import FrameType

__all__ = ("configure", "run")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``run`` options to ``parser``."""
    parser.add_argument(
        "--threshold-ms", type=float, default=None, help="stall threshold in ms (default 100)"
    )
    parser.add_argument(
        "--tripwire", action="store_true", default=None, help="also report short blocking calls"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    parser.add_argument("--output", default=None, help="write the report to FILE instead of stderr")
    parser.add_argument("-m", dest="module", default=None, help="run a library module as a script")
    parser.add_argument(
        "target", nargs=argparse.REMAINDER, help="SCRIPT [ARGS...] (or ARGS for -m)"
    )


def _config_defaults() -> tuple[float, bool]:
    try:
        from unstall._config import load_config

        cfg = load_config(start=__import__("pathlib").Path.cwd())
        return float(cfg.watch.threshold_ms), bool(cfg.watch.tripwire)
    except Exception:  # no or unreadable configuration: the command-line defaults apply
        return 100.0, False


def run(args: argparse.Namespace) -> int:
    """Run the target under :func:`unstall.watch`; return its exit code (exception -> 1, Ctrl-C -> 130)."""
    from unstall.watch import watch

    threshold, tripwire = _config_defaults()
    if args.threshold_ms is not None:
        threshold = args.threshold_ms
    if args.tripwire:
        tripwire = True
    target: list[str] = list(args.target)
    if args.module is None and not target:
        sys.stderr.write("unstall run: give a SCRIPT or -m MODULE to run.\n")
        return 2
    watcher = watch(threshold, tripwire=tripwire)
    written = False

    def write_report(final: bool) -> None:
        nonlocal written
        if final and written:
            return
        written = written or final
        report = watcher.report()
        text = report.to_json() + "\n" if args.format == "json" else report.render_text()
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stderr.write(text)
            sys.stderr.flush()

    def on_usr1(signum: int, frame: FrameType | None) -> None:
        write_report(False)

    atexit.register(write_report, True)
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, on_usr1)
    code = 0
    try:
        if args.module is not None:
            sys.argv = [args.module, *target]
            runpy.run_module(args.module, run_name="__main__", alter_sys=True)
        else:
            script = target[0]
            sys.argv = target
            sys.path[0] = os.path.dirname(os.path.abspath(script))
            runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    watcher.stop()
    write_report(True)
    return code
