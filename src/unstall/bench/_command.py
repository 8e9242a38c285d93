"""``unstall bench``: load-test the bundled service (or a service of yours) and chart the results.

Exit codes: 0 the run finished (even when requests failed: errors are in the table), 1 the
benchmark could not run (a server did not start), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from unstall.bench._scenarios import scenario_names

__all__ = ("configure", "run")

_QUICK_CONCURRENCY = (1, 16)
_QUICK_DURATION = 1.0
_FULL_CONCURRENCY = (1, 16, 64)
_FULL_DURATION = 3.0


def _concurrency(text: str) -> tuple[int, ...]:
    levels = []
    for part in text.split(","):
        item = part.strip()
        if not item.isdigit() or int(item) < 1 or int(item) > 10_000:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is not a whole number from 1 to 10000; "
                "give comma-separated levels such as '1,16,64'."
            )
        levels.append(int(item))
    return tuple(sorted(set(levels)))


def _scenarios(text: str) -> tuple[str, ...]:
    known = scenario_names()
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    for name in chosen:
        if name not in known:
            raise argparse.ArgumentTypeError(
                f"unknown scenario {name!r}; choose from {', '.join(known)} (comma-separated)."
            )
    if not chosen:
        raise argparse.ArgumentTypeError(
            f"no scenario given in {text!r}; choose from {', '.join(known)}."
        )
    return tuple(name for name in known if name in chosen)


def _duration(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds between 0 and 3600; use e.g. '--duration 3'."
        )
    return value


def _rates(text: str) -> tuple[float, ...]:
    rates = []
    for part in text.split(","):
        item = part.strip()
        try:
            value = float(item)
        except ValueError:
            value = float("nan")
        if not 0 < value <= 100_000:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is not a number of requests per second from 0 to 100000; "
                "give comma-separated rates such as '50,200'."
            )
        rates.append(value)
    return tuple(sorted(set(rates)))


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number.")
    return int(text)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``parser``."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"short run: concurrency {','.join(map(str, _QUICK_CONCURRENCY))}, "
        f"{_QUICK_DURATION:g} s per measurement (under a minute)",
    )
    parser.add_argument(
        "--duration",
        type=_duration,
        default=None,
        metavar="SECONDS",
        help=f"seconds per measurement (default {_FULL_DURATION:g}, {_QUICK_DURATION:g} with --quick)",
    )
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        default=None,
        metavar="N,N,...",
        help="concurrent clients per measurement (default "
        f"{','.join(map(str, _FULL_CONCURRENCY))})",
    )
    parser.add_argument(
        "--rate",
        type=_rates,
        default=None,
        metavar="N,N,...",
        help="open loop: start requests on schedule at N per second (one measurement per rate) "
        "and count latency from each scheduled start, so queueing behind a stall is measured; "
        "--concurrency then caps the connections (its largest level). Default: closed loop",
    )
    parser.add_argument(
        "--scenarios",
        type=_scenarios,
        default=scenario_names(),
        metavar="NAME,...",
        help=f"which patterns to run (default all: {','.join(scenario_names())})",
    )
    parser.add_argument(
        "--max-requests",
        type=_positive,
        default=100_000,
        metavar="N",
        help="cap on requests per measurement (default 100000)",
    )
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="event loop of the benchmarked service (default asyncio)",
    )
    parser.add_argument(
        "--url",
        default=None,
        help="drive an already running service at this loopback URL instead of the bundled one",
    )
    parser.add_argument(
        "--label",
        default=None,
        help="with --url: the name of this run in the table (default: the URL's path)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("bench-results"),
        metavar="DIR",
        help="where to write bench.json, .md, .svg, .html and .png (default ./bench-results; "
        "the PNG needs Pillow, from the bench extra)",
    )
    parser.add_argument(
        "--no-output", action="store_true", help="print the table only, write no files"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="format of the table printed on stdout (default text)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the benchmark described by ``args``; print the table, write the files; return the exit code."""
    from unstall.bench._chart import render_html, render_svg
    from unstall.bench._load import check_loopback_url
    from unstall.bench._png import write_png
    from unstall.bench._report import format_json, format_markdown, format_text
    from unstall.bench._runner import BenchConfig, run_bench, run_url

    if args.url is not None:
        try:
            check_loopback_url(args.url)
        except ValueError as exc:
            print(f"unstall bench: error: {exc}", file=sys.stderr)
            return 2
    if args.loop == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            print(
                "unstall bench: error: --loop uvloop needs uvloop; install it with "
                "pip install 'unstall[uvloop]'.",
                file=sys.stderr,
            )
            return 2
    quick = bool(args.quick)
    config = BenchConfig(
        scenarios=tuple(args.scenarios),
        concurrency=args.concurrency or (_QUICK_CONCURRENCY if quick else _FULL_CONCURRENCY),
        rates=args.rate or (),
        duration=args.duration or (_QUICK_DURATION if quick else _FULL_DURATION),
        max_requests=args.max_requests,
        loop=args.loop,
    )

    def progress(line: str) -> None:
        sys.stderr.write(f"unstall bench: {line}\n")
        sys.stderr.flush()

    try:
        if args.url is not None:
            result = asyncio.run(run_url(args.url, config, progress, label=args.label))
        else:
            result = asyncio.run(run_bench(config, progress))
    except RuntimeError as exc:
        print(f"unstall bench: error: {exc}", file=sys.stderr)
        return 1
    formatter = {"text": format_text, "json": format_json, "markdown": format_markdown}[args.format]
    sys.stdout.write(formatter(result))
    sys.stdout.flush()
    if not args.no_output:
        out: Path = args.output
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "bench.json": format_json(result),
            "bench.md": format_markdown(result),
            "bench.svg": render_svg(result),
            "bench.html": render_html(result),
        }
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
        written = [str(out / name) for name in files]
        problem = write_png(result, out / "bench.png")
        if problem is None:
            written.append(str(out / "bench.png"))
        progress(f"wrote {', '.join(written)}")
        if problem is not None:
            progress(f"warning: no PNG chart written to {out / 'bench.png'}: {problem}")
    return 0
