"""Run ``unstall check`` over a set of files: discover, read and summarize (cached, in parallel), analyze, filter."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from unstall._config import Config, load_config
from unstall.catalog import Catalog, default_catalog
from unstall.check._cache import Cache, CacheEntry, default_cache_dir
from unstall.check._discover import discover, matches_any
from unstall.check._model import Finding
from unstall.check._read import FileStat, Source, digest, read_source, stat_file
from unstall.check._run_cache import load_result, project_key, save_result
from unstall.check._suppress import is_suppressed, suppressions
from unstall.check._worker import Job, run_jobs, summarize_source
from unstall.errors import CatalogError, ConfigError

__all__ = ("CheckResult", "CheckStats", "check", "run_check")

# Below this many files to summarize, starting worker processes costs more than it saves.
_POOL_MIN_FILES = 96


@dataclass(frozen=True, slots=True)
class CheckStats:
    """Counters of one run: files checked, their lines, how many were summarized vs taken from the cache, seconds."""

    files: int = 0
    lines: int = 0
    summarized: int = 0
    cached: int = 0
    workers: int = 1
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of a check: reported findings (sorted), the files checked (display paths) and counters.

    ``paths`` maps each display path to the file's path on disk, ``digests`` to the content
    digest that was checked (``--fix`` refuses to rewrite a file whose content changed since).
    ``suppressed`` counts findings silenced by comments or configuration.
    """

    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    stats: CheckStats = field(default_factory=CheckStats)
    paths: Mapping[str, Path] = field(default_factory=dict)
    digests: Mapping[str, str] = field(default_factory=dict)
    suppressed: int = 0


def _catalog(config: Config) -> Catalog:
    if not config.blocking:
        return default_catalog()
    try:
        return default_catalog().extended(
            config.blocking, source=str(config.source or "configuration")
        )
    except CatalogError as exc:
        raise ConfigError(
            str(exc), key="tool.unstall.blocking", source=str(config.source)
        ) from None


def _default_jobs() -> int:
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return max(1, counter() or 1)


def _pool_context() -> multiprocessing.context.BaseContext:
    # forkserver: forking a process that may have threads is unsafe (and warns on 3.12+).
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _run_parallel(jobs: list[Job], workers: int) -> list[CacheEntry | Finding]:
    # Interleaved chunks balance big and small files; several chunks per worker keep all busy.
    chunks = max(1, min(len(jobs), workers * 4))
    parts = [jobs[index::chunks] for index in range(chunks)]
    results: list[CacheEntry | Finding | None] = [None] * len(jobs)
    # The fork server and spawned workers start as ``python -c ...``, which puts the working
    # folder first on sys.path: a checked project's own ``collections.py`` or ``types.py`` would
    # then shadow the standard library and kill them. PYTHONSAFEPATH (3.11+) keeps it off.
    saved = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
            for index, part_results in enumerate(pool.map(run_jobs, parts)):
                results[index::chunks] = part_results
    finally:
        if saved is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = saved
    return [result for result in results if result is not None]


def _module_of(path: Path) -> tuple[str, bool]:
    from unstall.check._modules import module_name

    try:
        name, is_package = module_name(path)
    except (OSError, ValueError):
        return path.stem, False
    return str(name), bool(is_package)


def run_check(
    paths: Sequence[Path],
    *,
    config: Config,
    jobs: int | None = None,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    stdin: tuple[str, str] | None = None,
    cwd: Path | None = None,
) -> CheckResult:
    """The whole pipeline; ``stdin`` is ``(file name, text)`` checked in place of that file. Raises :class:`ConfigError`."""
    from unstall.check._analyze import AnalysisSettings, analyze

    started = time.perf_counter()
    cwd = (cwd or Path.cwd()).resolve()
    catalog = _catalog(config)
    workers = jobs if jobs is not None else _default_jobs()
    if workers < 1:
        raise ConfigError(
            f"--jobs must be at least 1, got {workers!r}.", key="--jobs", source="command line"
        )
    files = discover(
        paths, root=config.root, exclude=(*config.exclude, *config.extend_exclude), cwd=cwd
    )
    if stdin is not None:
        stdin_path = Path(os.path.normpath(cwd / stdin[0]))
        files = sorted({*(pair for pair in files if pair[1] != stdin_path), (stdin[0], stdin_path)})
    cache_folder = cache_dir or default_cache_dir(config.root)
    key = None
    modules: dict[Path, tuple[str, bool]] = {}
    if use_cache and stdin is None:  # text from stdin is not a file the key could describe
        modules = {absolute: _module_of(absolute) for _, absolute in files}
        key = _key(files, modules, config, catalog, cwd)
        if key is not None:
            previous = load_result(cache_folder, cwd, key)
            if isinstance(previous, CheckResult):
                # nothing the result depends on changed: skip reading, summaries and analysis
                stats = replace(
                    previous.stats,
                    summarized=0,
                    cached=previous.stats.files,
                    workers=1,
                    seconds=time.perf_counter() - started,
                )
                return replace(previous, stats=stats)
    cache = Cache(cache_folder, cwd=cwd) if use_cache else None

    entries: dict[str, CacheEntry] = {}
    problems: list[Finding] = []
    pending: list[Job] = []
    cached = 0
    for shown, absolute in files:
        module, is_package = modules.get(absolute) or _module_of(absolute)
        if stdin is not None and shown == stdin[0]:
            data = stdin[1].encode("utf-8")
            source = Source(stdin[1], digest(data), "utf-8", stat=FileStat(len(data), 0))
            entries[shown] = summarize_source(
                source, Job(shown, shown, module, is_package, config.max_file_size)
            )
            continue
        file_stat = stat_file(str(absolute), shown)
        if isinstance(file_stat, Finding):
            problems.append(file_stat)
            continue
        known = cache.get(shown) if cache is not None else None
        if known is not None and known.module == module and known.is_package == is_package:
            if known.size == file_stat.size and known.mtime_ns == file_stat.mtime_ns:
                entries[shown] = known
                cached += 1
                continue
            pending.append(
                Job(
                    shown,
                    str(absolute),
                    module,
                    is_package,
                    config.max_file_size,
                    file_stat,
                    known.digest,
                )
            )
        else:
            pending.append(
                Job(shown, str(absolute), module, is_package, config.max_file_size, file_stat)
            )

    used_workers = (
        min(workers, len(pending)) if workers > 1 and len(pending) >= _POOL_MIN_FILES else 1
    )
    if used_workers > 1:
        try:
            results = _run_parallel(pending, used_workers)
        except (BrokenProcessPool, OSError, EOFError):
            # A worker died (out of memory, a crash in C code) or the fork server could not
            # start (EOFError): do the work here instead.
            used_workers = 1
            results = run_jobs(pending)
    else:
        results = run_jobs(pending)
    summarized = 0
    for job, result in zip(pending, results, strict=True):
        if isinstance(result, Finding):
            problems.append(result)
            continue
        if result.result is None and cache is not None:
            previous = cache.get(job.path)
            assert previous is not None
            result = CacheEntry(
                result.size,
                result.mtime_ns,
                result.digest,
                result.module,
                result.is_package,
                result.lines,
                previous.result,
            )
            cached += 1
        else:
            summarized += 1
        entries[job.path] = result
        if cache is not None:
            cache.put(job.path, result)

    summaries = []
    for shown in sorted(entries):
        value = entries[shown].result
        if isinstance(value, Finding):
            problems.append(value)
        else:
            summaries.append(value)
    settings = AnalysisSettings(
        offload_helpers=config.offload_helpers,
        allow=config.allow,
        threadpool_decorators=config.threadpool_decorators,
    )
    found = [*analyze(summaries, catalog=catalog, settings=settings), *problems]
    path_map = dict(files)
    reported, suppressed = _filter(found, config, path_map, stdin, entries, cache)
    if cache is not None:
        cache.save()
    stats = CheckStats(
        files=len(files),
        lines=sum(entry.lines for entry in entries.values()),
        summarized=summarized,
        cached=cached,
        workers=used_workers,
        seconds=time.perf_counter() - started,
    )
    checked = CheckResult(
        findings=tuple(sorted(reported, key=_sort_key)),
        files=tuple(shown for shown, _ in files),
        stats=stats,
        paths=path_map,
        digests={shown: entry.digest for shown, entry in entries.items()},
        suppressed=suppressed,
    )
    if key is not None and not problems:
        # a run with unreadable files is not kept: what made them unreadable may be fixed
        # without touching the files (permissions, a link's target)
        save_result(cache_folder, cwd, key, checked)
    return checked


def _key(
    files: Sequence[tuple[str, Path]],
    modules: Mapping[Path, tuple[str, bool]],
    config: Config,
    catalog: Catalog,
    cwd: Path,
) -> str | None:
    described = []
    for shown, absolute in files:
        try:
            info = os.stat(absolute)
        except OSError:
            return None
        module, is_package = modules[absolute]
        described.append((shown, str(absolute), info.st_size, info.st_mtime_ns, module, is_package))
    return project_key(described, config=repr(config), catalog=catalog.digest, cwd=cwd)


def _sort_key(finding: Finding) -> tuple[str, int, int, str, str]:
    loc = finding.location
    return (loc.path, loc.line, loc.col, finding.code, finding.message)


def _filter(
    found: list[Finding],
    config: Config,
    paths: Mapping[str, Path],
    stdin: tuple[str, str] | None,
    entries: dict[str, CacheEntry],
    cache: Cache | None,
) -> tuple[list[Finding], int]:
    root = config.root
    kept: list[Finding] = []
    suppressed = 0
    comments: dict[str, Mapping[int, frozenset[str]]] = {}
    file_ignores: dict[str, tuple[str, ...]] = {}
    for finding in found:
        path = finding.location.path
        if path not in file_ignores:
            extra: list[str] = []
            absolute = paths.get(path, Path(path))
            try:
                relative = absolute.resolve().relative_to(root).as_posix()
            except (ValueError, OSError):
                relative = path
            for glob, codes in config.per_file_ignores:
                if matches_any(relative, (glob,)):
                    extra.extend(codes)
            file_ignores[path] = tuple(extra)
        if not config.is_selected(finding.code, file_ignores[path]):
            suppressed += 1
            continue
        if not finding.code.startswith("UNS9"):
            if path not in comments:
                comments[path] = _comments_of(path, paths, stdin, entries, cache)
            if is_suppressed(finding.code, finding.location.line, comments[path]):
                suppressed += 1
                continue
        kept.append(finding)
    return kept, suppressed


def _comments_of(
    path: str,
    paths: Mapping[str, Path],
    stdin: tuple[str, str] | None,
    entries: dict[str, CacheEntry],
    cache: Cache | None,
) -> Mapping[int, frozenset[str]]:
    if stdin is not None and path == stdin[0]:
        return suppressions(stdin[1])
    entry = entries.get(path)
    if entry is not None and entry.suppressions is not None:
        return entry.suppressions
    source = read_source(str(paths.get(path, Path(path))), max_size=1 << 62)
    if not isinstance(source, Source):
        return {}
    table = suppressions(source.text)
    if entry is not None and entry.digest == source.digest:
        # Remembered with the summary, so a warm run never reads the file again.
        entries[path] = replace(entry, suppressions=table)
        if cache is not None:
            cache.put(path, entries[path])
    return table


def check(
    paths: Sequence[str | os.PathLike[str]] = (".",),
    *,
    config: Config | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> CheckResult:
    """Check the Python files under ``paths`` as one project and return the reported findings.

    ``config`` defaults to ``[tool.unstall]`` of the nearest ``pyproject.toml``; ``jobs`` is the
    number of worker processes (default: the usable cores); the summary cache lives in
    ``cache_dir`` (default ``.unstall_cache`` or ``$UNSTALL_CACHE_DIR``). Raises
    :class:`~unstall.errors.ConfigError` for a bad configuration or a path that does not
    exist; a file that cannot be read or parsed is a UNS9xx finding, never an exception.
    """
    path_list = [Path(path) for path in paths] or [Path(".")]
    if config is None:
        config = load_config(start=path_list[0])
    return run_check(
        path_list,
        config=config,
        jobs=jobs,
        use_cache=use_cache,
        cache_dir=Path(cache_dir) if cache_dir else None,
    )
