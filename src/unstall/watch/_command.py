"""``unstall run``: run a script or module under the event-loop watchdog and report at exit.

``unstall run [OPTIONS] (SCRIPT | -m MODULE) [ARGS...]``: as with ``python`` (and
``coverage run``), everything after the script or ``-m MODULE`` belongs to the program, its
options included (``unstall run -m uvicorn app:app --port 8000``). The program sees the
``sys.argv`` and ``sys.path[0]`` that ``python`` would give it; its exit code is returned; a
script that cannot be opened exits 2 and a module that cannot be found exits 1, with python's
message and no report; report files are checked before the program starts. SIGINT and SIGTERM
end the process the way they would end the plain program (after the report is written, with
any stall still in progress); SIGUSR1 writes the report so far. While C code holds the GIL the
report cannot be written: the sentinel then ends the process by SIGTERM two seconds after the
signal (see :mod:`unstall.watch._term`). Settings not given on the command line come from
``[tool.unstall.watch]``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib.util
import os
import runpy
import signal
import sys
import tempfile
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unstall._watch_config import WatchConfig
    from unstall.watch._metrics_server import MetricsServer

__all__ = ("configure", "run")

# The options that name a file the report is written to: checked before the program starts, so
# a bad path fails at once rather than after an hour of traffic (option -> its dest).
_REPORT_FILES = {"--output": "output", "--html": "html"}
# seconds a SIGTERM leaves the program to write its report before the sentinel ends it by SIGTERM
_TERM_BOUND = 2.0


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``run`` options to ``parser``."""
    # The program's own options follow its name and must reach it untouched: an abbreviation of
    # one of ours ("--t") must not be taken for ours, nor rejected as ambiguous.
    parser.allow_abbrev = False
    parser.usage = "unstall run [OPTIONS] (SCRIPT | -m MODULE) [ARGS...]"
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
        "--no-sentinel",
        dest="sentinel",
        action="store_false",
        help="run without the sentinel, the helper process that names the line and the thread of "
        "stalls in C code holding the GIL, and ends the program on SIGTERM while C code holds it",
    )
    # the faulthandler backstop is gone (the sentinel does its job without its risk): still taken
    parser.add_argument("--backstop", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    parser.add_argument("--output", default=None, help="write the report to FILE instead of stderr")
    parser.add_argument(
        "--html",
        default=None,
        metavar="FILE",
        help="also write the HTML report (one self-contained file) to FILE at exit "
        "(default: [tool.unstall.watch] html, UNSTALL_HTML)",
    )
    parser.add_argument(
        "--metrics",
        default=None,
        metavar="HOST:PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics while the program runs "
        "(:PORT for every interface; default: [tool.unstall.watch] metrics, UNSTALL_METRICS)",
    )
    # -m takes the rest of the command line, as python's does: the module's name, then its
    # arguments, options included (argparse stops it at a "--", which run() puts back)
    parser.add_argument(
        "-m",
        dest="module",
        nargs=argparse.REMAINDER,
        default=None,
        metavar="MODULE [ARGS...]",
        help="run library module MODULE as a script; every argument after it is the module's",
    )
    parser.add_argument(
        "target",
        nargs=argparse.REMAINDER,
        metavar="SCRIPT [ARGS...]",
        help="the script to run; every argument after it is the script's",
    )


@dataclass(frozen=True, slots=True)
class _Program:
    """What ``unstall run`` starts: a script path or a module name, and the ``sys.argv`` it gets.

    ``argv[0]`` is the script as given, or the module's name (runpy replaces it with the
    module's file, as ``python -m`` does).
    """

    script: str | None
    module: str | None
    argv: tuple[str, ...]


class _UsageError(Exception):
    """A command line or path that cannot run; ``code`` is the exit code python would give."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _program(module: list[str] | None, target: list[str]) -> _Program:
    """The :class:`_Program` named by the parsed ``-m`` and ``SCRIPT`` arguments.

    Raises :class:`_UsageError` when neither names a program.
    """
    if module is not None:
        words = [*module, *target]  # argparse ends -m's words at a "--"; the rest is the module's
        if not words or not words[0]:
            raise _UsageError(
                "-m needs the name of a module to run, e.g. `unstall run -m http.server 8000`."
            )
        return _Program(None, words[0], tuple(words))
    if target[:1] == ["--"]:  # `unstall run -- app.py`, as `python -- app.py`
        target = target[1:]
    if not target:
        raise _UsageError("give a SCRIPT or -m MODULE to run, e.g. `unstall run app.py`.")
    return _Program(target[0], None, tuple(target))


def _check_report_file(option: str, path: str) -> None:
    """Raise :class:`_UsageError` unless a report can be written to ``path`` (nothing is created)."""
    file = Path(path)
    folder = file.parent
    if file.is_dir():
        raise _UsageError(
            f"{option} {path!r} is a folder; give the path of a file in it, "
            f"e.g. {option} {str(file / 'unstall-report.txt')!r}."
        )
    if not folder.exists():
        raise _UsageError(
            f"{option} {path!r}: the folder {str(folder)!r} does not exist; "
            "create it first or give a path in an existing folder."
        )
    if not folder.is_dir():
        raise _UsageError(
            f"{option} {path!r}: {str(folder)!r} is not a folder; give a path in a folder."
        )
    if file.exists():
        try:
            with open(file, "ab"):  # opened for appending: the content is left as it is
                pass
        except OSError:
            raise _UsageError(
                f"{option} {path!r}: the file is not writable; give a path you can write to."
            ) from None
        return
    try:  # a real probe: permission bits say nothing for root, read-only mounts or /proc
        handle, probe = tempfile.mkstemp(prefix=".unstall-probe-", dir=folder)
    except OSError:
        raise _UsageError(
            f"{option} {path!r}: the folder {str(folder)!r} is not writable; "
            "give a path in a folder you can write to."
        ) from None
    os.close(handle)
    os.unlink(probe)


def _check_program(prog: _Program) -> None:
    """Raise :class:`_UsageError`, with python's own message and exit code, if ``prog`` cannot start.

    A script that cannot be opened exits 2 (``can't open file ...: [Errno 2] ...``); a module
    that cannot be found exits 1 (``No module named ...``). Finding a dotted module imports its
    parent packages, as ``python -m`` does before running it.
    """
    if prog.script is not None:
        path = os.path.abspath(prog.script)
        if os.path.isdir(path):
            return  # a folder with a __main__.py: runpy says so if it has none
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise _UsageError(
                f"can't open file {path!r}: [Errno {exc.errno}] {exc.strerror}"
            ) from None
        return
    assert prog.module is not None
    problem = _module_problem(prog.module)
    if problem is not None:
        raise _UsageError(problem, code=1)


def _path0(prog: _Program) -> str:
    """The ``sys.path[0]`` python gives ``prog``: the working folder for ``-m``, else the script's
    folder with symbolic links resolved (a folder run as a script is its own)."""
    if prog.script is None:
        return os.getcwd()
    path = os.path.realpath(prog.script)
    return path if os.path.isdir(path) else os.path.dirname(path)


def _module_problem(name: str) -> str | None:
    """Python's message for a ``-m`` module that cannot run, or ``None`` when it can be found."""
    if name.startswith("."):
        return "Relative module names not supported"
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError) as exc:
        return (
            f"Error while finding module specification for {name!r} ({type(exc).__name__}: {exc})"
        )
    if spec is None:
        return f"No module named {name}"
    if spec.submodule_search_locations is not None:  # a package runs its __main__
        main_name = f"{name}.__main__"
        try:
            main = importlib.util.find_spec(main_name)
        except (ImportError, ValueError) as exc:
            return f"Error while finding module specification for {main_name!r} ({type(exc).__name__}: {exc})"
        if main is None:
            return f"No module named {main_name}; {name!r} is a package and cannot be directly executed"
    return None


def _settings(args: argparse.Namespace) -> WatchConfig:
    """The nearest configuration with the environment's ``UNSTALL_*`` settings, then ``args``, on top."""
    from unstall._limits import THRESHOLD_MS_RANGE, valid_threshold_ms
    from unstall.watch._process import settings

    cfg = settings(start=Path.cwd())
    if args.threshold_ms is not None:
        if not valid_threshold_ms(args.threshold_ms):
            low, high = THRESHOLD_MS_RANGE
            raise _UsageError(
                f"--threshold-ms {args.threshold_ms:g} is invalid; give a number of "
                f"milliseconds from {low:g} to {high:g}, e.g. --threshold-ms 100."
            )
        cfg = replace(cfg, threshold_ms=args.threshold_ms)
    if args.tripwire:
        cfg = replace(cfg, tripwire=True)
    if args.html is not None:
        cfg = replace(cfg, html=args.html)
    if args.metrics is not None:
        cfg = replace(cfg, metrics=args.metrics or None)
    return cfg


def _metrics_server(address: str | None) -> MetricsServer | None:
    """A bound (not yet serving) metrics server for ``address``; :class:`_UsageError` if it cannot be."""
    if not address:
        return None
    from unstall.watch._metrics_server import MetricsServer

    try:
        return MetricsServer(address)
    except ValueError as exc:
        raise _UsageError(f"--metrics: {exc}") from None
    except OSError as exc:
        raise _UsageError(
            f"--metrics {address!r}: cannot listen there ({exc.strerror or exc}); "
            "give a free port, or :0 for any."
        ) from None


def _user_traceback(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without the leading frames of runpy and of this module."""
    skip = {"<frozen runpy>", runpy.__file__, __file__}
    while tb is not None and tb.tb_frame.f_code.co_filename in skip:
        tb = tb.tb_next
    return tb


def _to_stderr(text: str) -> None:
    """Write ``text`` to stderr, or nothing when the program closed it (never raises)."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except Exception:  # closed, replaced by None, or its descriptor gone: nowhere to write
        return


def _own_file(path: str, parent: int) -> str:
    """Where this process writes its report: ``path``, or in a process forked from the one that
    started (``parent``), ``path`` with the child's process id before its extension
    (``report.json`` -> ``report.4242.json``), so that parent and child keep their own reports."""
    pid = os.getpid()
    if pid == parent:
        return path
    folder, name = os.path.split(path)
    stem, dot, ext = name.rpartition(".")
    return os.path.join(folder, f"{stem}.{pid}.{ext}" if dot and stem else f"{name}.{pid}")


def _die_by(signum: int) -> None:
    """End the process by ``signum`` with its default action, as the plain program would have."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def run(args: argparse.Namespace) -> int:
    """Run the program under :func:`unstall.watch`; return its exit code (uncaught exception: 1)."""
    from unstall.watch._process import event_log, tripwire_option, watch, write_html
    from unstall.watch._term import enforce_sigterm

    server = None
    try:
        prog = _program(args.module, list(args.target))
        cfg = _settings(args)  # a ConfigError becomes exit code 2 in the CLI
        for option, dest in _REPORT_FILES.items():
            path = cfg.html if dest == "html" else getattr(args, dest, None)
            if path is not None:
                _check_report_file(option, path)
        # where python looks for the program's imports (set first: the module is looked up there)
        sys.path[0] = _path0(prog)
        _check_program(prog)
        server = _metrics_server(cfg.metrics)
    except _UsageError as exc:
        sys.stderr.write(f"unstall run: {exc}\n")
        return exc.code
    watcher = watch(
        cfg.threshold_ms,
        tripwire=tripwire_option(cfg.allow) if cfg.tripwire else False,
        sentinel=args.sentinel,
        log=event_log(cfg),
        max_routes=cfg.max_routes,
        metrics=None,
        html=None,
    )
    if server is not None:
        server.start(watcher.metrics)
    written = False
    parent = os.getpid()

    def write_report(final: bool) -> None:
        nonlocal written
        if written:
            return
        if final:
            written = True
            if server is not None:
                server.close()
            watcher.stop()
        if cfg.html:
            try:
                write_html(watcher, cfg.html)
            except Exception as exc:  # nor must an HTML report that cannot be written
                sys.stderr.write(f"unstall run: could not write the HTML report: {exc}\n")
        try:
            report = watcher.report()
            text = report.to_json() + "\n" if args.format == "json" else report.render_text()
            if args.output:
                with open(_own_file(args.output, parent), "w", encoding="utf-8") as fh:
                    fh.write(text)
            else:
                _to_stderr(text)
        except Exception as exc:  # a report that cannot be written must not change the exit
            _to_stderr(f"unstall run: could not write the report: {exc}\n")

    def on_usr1(signum: int, frame: FrameType | None) -> None:
        write_report(False)

    def on_term(signum: int, frame: FrameType | None) -> None:
        write_report(True)
        _die_by(signum)

    atexit.register(write_report, True)
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, on_usr1)
    undo_term = None
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, on_term)
        if args.sentinel:  # and end by SIGTERM even when C code keeps on_term from running
            undo_term = enforce_sigterm(_TERM_BOUND)
    code = 0
    try:
        sys.argv = list(prog.argv)
        if prog.module is not None:
            runpy.run_module(prog.module, run_name="__main__", alter_sys=True)
        else:
            assert prog.script is not None
            runpy.run_path(prog.script, run_name="__main__")
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except KeyboardInterrupt as exc:
        _print_exception(exc)
        write_report(True)
        _die_by(signal.SIGINT)
        code = 130  # only when the signal could not end the process
    except BaseException as exc:
        _print_exception(exc)
        code = 1
    write_report(True)
    if undo_term is not None:
        undo_term()
    return code


def _exit_code(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    _to_stderr(f"{value}\n")
    return 1


def _print_exception(exc: BaseException) -> None:
    """Print the program's uncaught exception as python would, starting in the program."""
    with contextlib.suppress(Exception):  # the program may have closed its stderr
        traceback.print_exception(type(exc), exc, _user_traceback(exc.__traceback__))
