"""The ``unstall check`` subcommand: what one invocation checks, and how it reports (its options are in ``_options``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from unstall._config import Config, load_config, parse_codes, parse_frequency
from unstall.check._apply import plan_fixes, unified_diff, write_fixes
from unstall.check._cache import default_cache_dir
from unstall.check._discover import discover
from unstall.check._format_text import format_finding
from unstall.check._model import Finding
from unstall.check._options import configure
from unstall.check._output import Output, ReportStyle, render_report
from unstall.check._read import Source, read_source, source_from_bytes
from unstall.check._rules_info import rule_infos
from unstall.check._runner import CheckResult, StdinText, run_check
from unstall.check._show import format_files, format_settings
from unstall.check._stdin import only_file, project_folder, read_stdin
from unstall.check._watch import Watched, watch
from unstall.errors import ConfigError

__all__ = ("configure", "run")


def _usage_error(message: str, key: str) -> ConfigError:
    return ConfigError(message, key=key, source="command line")


def _config(args: argparse.Namespace, paths: Sequence[Path], start: Path | None = None) -> Config:
    config = load_config(args.config, start=start or (paths[0] if paths else Path.cwd()))
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
    if args.respect_gitignore is not None:
        changes["respect_gitignore"] = args.respect_gitignore
    if args.frequency:
        changes["frequency"] = parse_frequency(args.frequency, "--frequency", "command line")
    return config.replace(**changes) if changes else config


class _Run:
    """One invocation: the parsed arguments, what to check and where the output goes."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        given = [Path(p) for p in args.paths]
        self.reads_stdin = any(str(p) == "-" for p in given) or (
            args.stdin_filename is not None and not given
        )
        self.paths = [p for p in given if str(p) != "-"]
        self.stdin_name: str = args.stdin_filename or "stdin.py"
        self.cwd = Path.cwd().resolve()
        self._validate()

    def _validate(self) -> None:
        args = self.args
        if args.watch:
            clash = [
                flag
                for flag, used in (
                    ("'-' (standard input)", self.reads_stdin),
                    ("--fix", args.fix),
                    ("--diff", args.diff),
                    ("--statistics", args.statistics),
                    ("--output-file", args.output_file is not None),
                    (f"--output-format {args.output_format}", args.output_format != "text"),
                )
                if used
            ]
            if clash:
                raise _usage_error(
                    f"--watch prints a text report of what changes and cannot be combined with {', '.join(clash)}; drop them or run without --watch.",
                    "--watch",
                )

    def config(self) -> Config:
        """The settings: from the file found above the first path (the stdin file's, when it is named)."""
        start = None
        if self.reads_stdin and self.args.stdin_filename and not self.paths:
            start = self.cwd / self.stdin_name
        return _config(self.args, self.paths, start)

    def project_paths(self, config: Config) -> list[Path]:
        """What to check besides standard input: the paths given, the stdin file's project, or ``.``."""
        if not self.reads_stdin:
            return self.paths or [Path(".")]
        if self.paths or self.args.stdin_filename is None:
            return self.paths
        folder = project_folder(self.cwd / self.stdin_name, config)
        return [folder] if folder is not None else []

    def files(self, config: Config, folders: set[str] | None = None) -> list[tuple[str, Path]]:
        """The files a check would read from disk (``folders`` receives the folders searched)."""
        return discover(
            self.project_paths(config),
            root=config.root,
            exclude=(*config.exclude, *config.extend_exclude),
            cwd=self.cwd,
            respect_gitignore=config.respect_gitignore,
            folders=folders,
        )

    def check(self, config: Config, stdin: StdinText | None = None) -> CheckResult:
        args = self.args
        result = run_check(
            self.project_paths(config),
            config=config,
            stdin=stdin,
            jobs=args.jobs,
            use_cache=not args.no_cache,
            cache_dir=args.cache_dir,
        )
        return only_file(result, stdin.name) if stdin is not None else result


def _line_source(
    result: CheckResult, stdin: Source | Finding | None, stdin_name: str
) -> dict[str, list[str] | None]:
    lines: dict[str, list[str] | None] = {}
    for finding in result.findings:
        path = finding.location.path
        if path in lines:
            continue
        if stdin is not None and path == stdin_name:
            lines[path] = stdin.text.splitlines() if isinstance(stdin, Source) else None
            continue
        source = read_source(str(result.paths.get(path, Path(path))), max_size=1 << 62)
        lines[path] = source.text.splitlines() if isinstance(source, Source) else None
    return lines


def _style(args: argparse.Namespace, output: Output) -> ReportStyle:
    return ReportStyle(
        format=args.output_format,
        statistics=args.statistics,
        show_source=args.show_source,
        unsafe_fixes=args.unsafe_fixes,
        summary=not output.quiet,
        color=output.color,
    )


def _render(
    run: _Run,
    result: CheckResult,
    config: Config,
    style: ReportStyle,
    stdin: Source | Finding | None = None,
) -> str:
    lines = _line_source(result, stdin, run.stdin_name)
    infos = rule_infos(config.catalog())
    return render_report(result, style, infos=infos, lines=lines.get, cwd=run.cwd)


def _exit(code: int, args: argparse.Namespace) -> int:
    return 0 if code == 1 and args.exit_zero else code


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def run(args: argparse.Namespace) -> int:
    """Run ``unstall check`` with parsed ``args``; return the exit code (0 clean, 1 findings, 2 errors)."""
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show a character (an arrow of a chain, a name in the source)
        # gets an escape, never a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors="backslashreplace")
    command = _Run(args)
    config = command.config()
    if args.show_settings:
        sys.stdout.write(_settings(command, config))
        return 0
    if args.show_files:
        sys.stdout.write(format_files(command.files(config)))
        return 0
    with Output(
        output_file=args.output_file, color=args.color, quiet=args.quiet, silent=args.silent
    ) as output:
        if args.watch:
            return watch(_WatchSession(command, output), output)
        if command.reads_stdin:
            return _exit(_check_stdin(command, config, output), args)
        return _exit(_check_files(command, config, output), args)


def _settings(command: _Run, config: Config) -> str:
    args = command.args
    cache = "off" if args.no_cache else str(args.cache_dir or default_cache_dir(config.root))
    notes = {
        "paths": " ".join(str(p) for p in command.paths) or ("-" if command.reads_stdin else "."),
        "output format": args.output_format,
        "cache": cache,
    }
    if command.reads_stdin:
        notes["standard input as"] = command.stdin_name
    return format_settings(config, notes=notes)


def _check_files(command: _Run, config: Config, output: Output) -> int:
    args = command.args
    result = command.check(config)
    if args.fix or args.diff:
        plans = plan_fixes(result.findings, result.paths, unsafe=args.unsafe_fixes)
        if args.diff:
            output.report(unified_diff(plans))
            would = sum(plan.fixed for plan in plans)
            output.note(f"Would fix {_plural(would, 'problem')} in {_plural(len(plans), 'file')}.")
            return 1 if plans else 0
        fixed, skipped = write_fixes(plans, result.digests)
        for path in skipped:
            output.note(f"unstall check: {path} changed while it was being checked; not fixed.")
        if fixed:
            output.note(f"Fixed {_plural(fixed, 'problem')}.")
            result = command.check(config)
    output.report(_render(command, result, config, _style(args, output)))
    return 1 if result.findings else 0


def _check_stdin(command: _Run, config: Config, output: Output) -> int:
    """Standard input as a file of its project; ``--fix`` prints the fixed source, ``--diff`` its diff."""
    args = command.args
    stdin = read_stdin(command.stdin_name)
    source = source_from_bytes(stdin.data, stdin.name, max_size=config.max_file_size)
    result = command.check(config, stdin)
    if not (args.fix or args.diff):
        output.report(_render(command, result, config, _style(args, output), source))
        return 1 if result.findings else 0
    plans = (
        plan_fixes(
            result.findings,
            result.paths,
            unsafe=args.unsafe_fixes,
            sources={stdin.name: source},
        )
        if isinstance(source, Source)
        else []
    )
    plan = next((plan for plan in plans if plan.path == stdin.name), None)
    if args.diff:
        output.report(unified_diff([plan] if plan is not None else []))
        fixed = plan.fixed if plan is not None else 0
        output.note(f"Would fix {_plural(fixed, 'problem')}.")
        return 1 if plan is not None else 0
    # --fix -: the fixed source (in its own encoding) on standard output, like a formatter;
    # what remains is reported on standard error.
    fixed_data = stdin.data
    if plan is not None:
        try:
            fixed_data = plan.after.encode(plan.encoding)
        except UnicodeEncodeError:
            plan = None
    _write_bytes(fixed_data)
    if plan is not None:
        stdin = StdinText(stdin.name, fixed_data)
        source = source_from_bytes(fixed_data, stdin.name, max_size=config.max_file_size)
        result = command.check(config, stdin)
        output.note(f"Fixed {_plural(plan.fixed, 'problem')}.")
    report = _render(command, result, config, _style(args, output), source)
    if args.output_file is not None:
        output.report(report)  # the report file asked for gets the report, even when clean
    elif result.findings and not output.silent:
        sys.stderr.write(report)
    return 1 if result.findings else 0


def _write_bytes(data: bytes) -> None:
    """Write ``data`` to standard output as they are (a text-only stream gets them decoded)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        sys.stdout.write(data.decode("utf-8", errors="replace"))
        sys.stdout.flush()


class _WatchSession:
    """What ``--watch`` checks and prints, read afresh each round (the configuration may change)."""

    def __init__(self, command: _Run, output: Output) -> None:
        self.command = command
        self.output = output
        self.config = command.config()

    def check(self) -> CheckResult:
        self.config = self.command.config()
        return self.command.check(self.config)

    def watched(self) -> Watched:
        config = self.config
        folders: set[str] = set()
        files = [str(absolute) for _, absolute in self.command.files(config, folders)]
        files.extend(os.path.join(folder, ".gitignore") for folder in folders)
        # The configuration: the file in use, and where one would be found first.
        start = self.command.paths[0] if self.command.paths else Path(".")
        try:
            start = start.resolve()
        except (OSError, RuntimeError):  # a symbolic link loop (RuntimeError before 3.13)
            start = start.absolute().parent.resolve()
        for folder in (start, *start.parents):
            files.extend(str(folder / name) for name in ("unstall.toml", "pyproject.toml"))
            if config.source is not None and folder == config.source.parent:
                break
        if config.source is not None:
            files.append(str(config.source))
        return Watched(sorted(set(files)), sorted(folders))

    def render_full(self, result: CheckResult) -> str:
        style = _style(self.command.args, self.output)
        return _render(self.command, result, self.config, style)

    def render_new(self, findings: Sequence[Finding], result: CheckResult) -> str:
        args = self.command.args
        lines = _line_source(result, None, self.command.stdin_name)
        blocks = [
            format_finding(
                finding,
                lines.get(finding.location.path),
                color=self.output.color,
                show_source=args.show_source,
            )
            for finding in findings
        ]
        return ("\n\n" if args.show_source else "\n").join(blocks) + "\n"
