"""Run ``unstall check`` over a set of files: :func:`run_check` calls the stages the package docstring maps."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from unstall._config import Config, load_config
from unstall.catalog import Catalog
from unstall.check._cache import Cache, CacheEntry, default_cache_dir
from unstall.check._discover import discover, matches_any
from unstall.check._model import Finding, Frequency
from unstall.check._modules import is_example_folder, is_test_file
from unstall.check._pool import default_workers, run_all
from unstall.check._read import Source, read_source, source_from_bytes, stat_file
from unstall.check._run_cache import analysis_key, load_result, project_key, save_result
from unstall.check._summary_types import ModuleSummary
from unstall.check._suppress import is_suppressed, suppressions
from unstall.check._syntax import merge_newer_syntax
from unstall.check._worker import Job, summarize_source
from unstall.errors import ConfigError

__all__ = ("Analysis", "CheckResult", "CheckStats", "Memory", "StdinText", "check", "run_check")


class StdinText(NamedTuple):
    """Source read from standard input (or an editor's buffer), checked in place of the file ``name``.

    ``data`` are the bytes as read: they are decoded as a file's would be (BOM, coding
    cookie), so undecodable input is the same UNS902 finding the file on disk would give.
    """

    name: str
    data: bytes


class Analysis(NamedTuple):
    """The findings of one analysis (before configuration and comments silence any), and the
    :func:`~unstall.check._run_cache.analysis_key` of what it read."""

    key: str
    findings: tuple[Finding, ...]


@dataclass(slots=True)
class Memory:
    """What a long-lived caller (the language server) keeps between runs over one project.

    ``cache`` is the summary cache, read from disk on the first run and then kept here, so
    a run neither reads nor writes it (call :meth:`save` to write it, when done);
    ``buffers`` the summaries of in-memory texts by display path, so a buffer whose text is
    unchanged since the last run is not summarized again; ``analysis`` the last run's
    findings, reused while no summary changes. Not thread-safe: one run at a time.
    """

    cache: Cache | None = None
    buffers: dict[str, CacheEntry] = field(default_factory=dict)
    analysis: Analysis | None = None

    def save(self) -> None:
        """Write the summary cache to disk if a run changed it (failures are ignored)."""
        if self.cache is not None:
            self.cache.save()


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
    ``suppressed`` counts findings silenced by comments or configuration; ``hidden`` the
    findings of each frequency tier the configuration does not report (``{"startup": 3}``).
    """

    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    stats: CheckStats = field(default_factory=CheckStats)
    paths: Mapping[str, Path] = field(default_factory=dict)
    digests: Mapping[str, str] = field(default_factory=dict)
    suppressed: int = 0
    hidden: Mapping[str, int] = field(default_factory=dict)


def run_check(
    paths: Sequence[Path],
    *,
    config: Config,
    jobs: int | None = None,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    stdin: StdinText | None = None,
    cwd: Path | None = None,
    buffers: Sequence[StdinText] = (),
    memory: Memory | None = None,
) -> CheckResult:
    """The whole pipeline; ``stdin`` and each of ``buffers`` is checked in place of the file it names.

    ``memory`` keeps the summary cache (and the buffers' summaries) in memory from one run
    to the next instead of reading and writing it each time. Raises :class:`ConfigError`.
    """
    started = time.perf_counter()
    texts = (*buffers, stdin) if stdin is not None else tuple(buffers)
    plan = _plan(
        paths,
        config,
        jobs=jobs,
        use_cache=use_cache,
        cache_dir=cache_dir,
        texts=texts,
        cwd=cwd,
        memory=memory,
    )
    reused = _reuse(plan, started)
    if reused is not None:
        return reused
    summarized = _summarize(plan)
    merged = _merge(summarized)
    found = _analyze(plan, merged)
    report = _report(found, plan, merged)
    return _save(plan, merged, report, started)


# -- plan ---------------------------------------------------------------------------------------


class _Module(NamedTuple):
    name: str
    is_package: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one run checks, and with what; every later stage reads it.

    ``files`` are ``(display path, path on disk)``, sorted; ``modules`` holds their module
    names when the whole-run cache is used (``key`` is then its key, unless a file is gone).
    ``texts`` are the decoded in-memory texts (standard input, editors' buffers) by display
    path, checked in place of those files.
    """

    config: Config
    catalogs: _CatalogOnce
    cwd: Path
    workers: int
    files: list[tuple[str, Path]]
    paths: dict[str, Path]
    texts: dict[str, Source | Finding]
    use_cache: bool
    cache_folder: Path
    modules: dict[Path, _Module]
    key: str | None
    memory: Memory | None

    @property
    def catalog(self) -> Catalog:
        """The catalog with the project's additions, made the first time a stage needs it (a
        run that reuses the last result never does). Raises :class:`ConfigError`."""
        return self.catalogs.get()


class _CatalogOnce:
    """The configuration's catalog, made on the first :meth:`get`."""

    __slots__ = ("config", "value")

    def __init__(self, config: Config) -> None:
        self.config = config
        self.value: Catalog | None = None

    def get(self) -> Catalog:
        if self.value is None:
            self.value = self.config.catalog()
        return self.value


def _plan(
    paths: Sequence[Path],
    config: Config,
    *,
    jobs: int | None,
    use_cache: bool,
    cache_dir: Path | None,
    texts: Sequence[StdinText],
    cwd: Path | None,
    memory: Memory | None,
) -> _Plan:
    """The number of workers, the files (the in-memory texts' among them) and the whole-run key."""
    cwd = (cwd or Path.cwd()).resolve()
    workers = jobs if jobs is not None else default_workers()
    if workers < 1:
        raise ConfigError(
            f"--jobs must be at least 1, got {workers!r}.", key="--jobs", source="command line"
        )
    files = discover(
        paths,
        root=config.root,
        exclude=(*config.exclude, *config.extend_exclude),
        cwd=cwd,
        respect_gitignore=config.respect_gitignore,
    )
    decoded: dict[str, Source | Finding] = {}
    if texts:
        replaced = {text.name: Path(os.path.normpath(cwd / text.name)) for text in texts}
        kept = {pair for pair in files if pair[1] not in replaced.values()}
        files = sorted({*kept, *replaced.items()})
        for text in texts:
            decoded[text.name] = source_from_bytes(
                text.data, text.name, max_size=config.max_file_size
            )
    modules: dict[Path, _Module] = {}
    key = None
    if use_cache and not texts:  # text in memory is not a file the key could describe
        modules = {absolute: _module_of(absolute) for _, absolute in files}
        key = _key(files, modules, config, cwd)
    return _Plan(
        config=config,
        catalogs=_CatalogOnce(config),
        cwd=cwd,
        workers=workers,
        files=files,
        paths=dict(files),
        texts=decoded,
        use_cache=use_cache,
        cache_folder=cache_dir or default_cache_dir(config.root),
        modules=modules,
        key=key,
        memory=memory,
    )


def _module_of(path: Path) -> _Module:
    from unstall.check._modules import module_name

    try:
        name, is_package = module_name(path)
    except (OSError, ValueError):
        return _Module(path.stem, False)
    return _Module(str(name), bool(is_package))


def _key(
    files: Sequence[tuple[str, Path]],
    modules: Mapping[Path, _Module],
    config: Config,
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
    return project_key(described, config=repr(config), cwd=cwd)


def _reuse(plan: _Plan, started: float) -> CheckResult | None:
    """The last run's result when nothing it depends on changed: no reading, summaries or analysis."""
    if plan.key is None:
        return None
    previous = load_result(plan.cache_folder, plan.cwd, plan.key, CheckResult)
    if previous is None:
        return None
    stats = replace(
        previous.stats,
        summarized=0,
        cached=previous.stats.files,
        workers=1,
        seconds=time.perf_counter() - started,
    )
    return replace(previous, stats=stats)


# -- summarize ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Summarized:
    """Each file's summary so far: ``entries`` taken as they are (unchanged in the cache, or
    standard input), ``jobs`` run for the others with their ``results``, ``problems`` of files
    that cannot be read."""

    cache: Cache | None
    entries: dict[str, CacheEntry] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    cached: int = 0
    jobs: list[Job] = field(default_factory=list)
    results: list[CacheEntry | Finding] = field(default_factory=list)
    workers: int = 1


def _summarize(plan: _Plan) -> _Summarized:
    """Take each unchanged file's summary from the cache; read and summarize the others (in worker processes when many)."""
    cache = _cache(plan)
    done = _Summarized(cache)
    for shown, absolute in plan.files:
        module = plan.modules.get(absolute) or _module_of(absolute)
        text = plan.texts.get(shown)
        if text is not None:
            done.entries[shown] = _summarize_text(text, shown, module, plan, cache)
            continue
        file_stat = stat_file(str(absolute), shown)
        if isinstance(file_stat, Finding):
            done.problems.append(file_stat)
            continue
        known = cache.get(shown) if cache is not None else None
        if known is not None and (known.module, known.is_package) != module:
            known = None  # the file moved in or out of a package: summarize it afresh
        if known is not None and (known.size, known.mtime_ns) == (
            file_stat.size,
            file_stat.mtime_ns,
        ):
            done.entries[shown] = known
            done.cached += 1
            continue
        done.jobs.append(
            Job(
                shown,
                str(absolute),
                module.name,
                module.is_package,
                plan.config.max_file_size,
                file_stat,
                known.digest if known is not None else None,
            )
        )
    done.results, done.workers = run_all(done.jobs, plan.workers)
    return done


def _cache(plan: _Plan) -> Cache | None:
    """The summary cache: read from disk, or kept in memory from an earlier run."""
    if not plan.use_cache:
        return None
    memory = plan.memory
    if memory is None:
        return Cache(plan.cache_folder, cwd=plan.cwd)
    if memory.cache is None:
        memory.cache = Cache(plan.cache_folder, cwd=plan.cwd)
    # What no longer is a buffer is forgotten (its summary is the file's, in the cache).
    memory.buffers = {name: memory.buffers[name] for name in plan.texts if name in memory.buffers}
    return memory.cache


def _summarize_text(
    source: Source | Finding, shown: str, module: _Module, plan: _Plan, cache: Cache | None
) -> CacheEntry:
    """The summary of a text in memory; not summarized again when the same text was (as the
    buffer, in an earlier run kept in memory, or as the file, in the cache)."""
    if isinstance(source, Finding):
        # Like a file that cannot be decoded: its finding stands for its summary.
        return CacheEntry(0, 0, "", module.name, module.is_package, 0, source)
    memory = plan.memory
    buffered = memory.buffers.get(shown) if memory is not None else None
    cached_entry = cache.get(shown) if cache is not None else None
    for known in (buffered, cached_entry):
        if (
            known is not None
            and known.digest == source.digest
            and (known.module, known.is_package) == module
        ):
            return known
    entry = summarize_source(
        source, Job(shown, shown, module.name, module.is_package, plan.config.max_file_size)
    )
    entry = _same_summary(entry, buffered or cached_entry)
    if memory is not None:
        memory.buffers[shown] = entry
    return entry


# -- merge --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Merged:
    """Every file's entry by display path (remembered in ``cache``), the summaries in path
    order, and ``problems``: files that could not be read or parsed, as UNS9xx findings."""

    cache: Cache | None
    entries: dict[str, CacheEntry]
    summaries: list[ModuleSummary]
    problems: list[Finding]
    summarized: int
    cached: int
    workers: int


def _merge(done: _Summarized) -> _Merged:
    """Put the jobs' results with the entries taken as they are, and in the cache."""
    cache, entries, problems, cached = done.cache, done.entries, done.problems, done.cached
    summarized = 0
    for job, result in zip(done.jobs, done.results, strict=True):
        if isinstance(result, Finding):
            problems.append(result)
            continue
        if result.result is None and cache is not None:
            # Touched but unchanged (same digest): the cached summary still holds.
            previous = cache.get(job.path)
            assert previous is not None
            result = replace(result, result=previous.result)
            cached += 1
        else:
            summarized += 1
            if cache is not None:
                result = _same_summary(result, cache.get(job.path))
        entries[job.path] = result
        if cache is not None:
            cache.put(job.path, result)
    summaries = []
    for shown in sorted(entries):
        value = entries[shown].result
        if isinstance(value, Finding):
            problems.append(value)
        elif value is not None:
            summaries.append(value)
    return _Merged(cache, entries, summaries, problems, summarized, cached, done.workers)


def _same_summary(entry: CacheEntry, previous: CacheEntry | None) -> CacheEntry:
    """``entry``, named as the ``previous`` summary of its file when it is equal to it (an edit
    the summary does not see: a comment, a docstring), so the analysis can be reused."""
    if (
        previous is None
        or previous.result is None
        or isinstance(entry.result, Finding)
        or (previous.module, previous.is_package) != (entry.module, entry.is_package)
        or entry.result != previous.result
    ):
        return entry
    return replace(entry, result=previous.result, summarized_from=previous.summary_id)


# -- analyze ------------------------------------------------------------------------------------


def _analyze(plan: _Plan, merged: _Merged) -> tuple[Finding, ...]:
    """The findings of the project's summaries and the files' own problems: the last
    analysis's when it read the same (kept in :class:`Memory`, or in the cache folder)."""
    key = _analysis_key(plan, merged)
    memory = plan.memory
    if memory is not None and memory.analysis is not None and memory.analysis.key == key:
        return memory.analysis.findings
    on_disk = memory is None and plan.use_cache
    if on_disk:
        previous = load_result(plan.cache_folder, plan.cwd, key, Analysis, name="analysis")
        if previous is not None:
            return previous.findings
    found = Analysis(key, tuple(_analyze_summaries(plan, merged)))
    if memory is not None:
        memory.analysis = found
    elif on_disk:
        save_result(plan.cache_folder, plan.cwd, key, found, name="analysis")
    return found.findings


def _analysis_key(plan: _Plan, merged: _Merged) -> str:
    """A digest of everything the analysis reads: each file's summary (by its id), the files'
    problems, the configuration (and through it and the code, the catalog)."""
    entries = merged.entries
    described: list[tuple[str, str, bool, str]] = [
        (shown, entries[shown].module, entries[shown].is_package, entries[shown].summary_id)
        for shown in sorted(entries)
    ]
    # Problems of files that could not be read are not entries; their findings are read too.
    described.extend(("", "", False, repr(problem)) for problem in merged.problems)
    return analysis_key(described, config=repr(plan.config))


def _analyze_summaries(plan: _Plan, merged: _Merged) -> list[Finding]:
    """Every finding of the project's summaries, then the files' own problems."""
    from unstall.check._analyze import AnalysisSettings, analyze
    from unstall.check._concurrency import concurrency_findings

    config = plan.config
    settings = AnalysisSettings(allow=config.allow, lifecycle_roots=config.lifecycle_roots)
    blocking = analyze(merged.summaries, catalog=plan.catalog, settings=settings)
    return [
        *concurrency_findings(merged.summaries, catalog=plan.catalog, blocking=blocking),
        *merge_newer_syntax(merged.problems),
    ]


# -- report -------------------------------------------------------------------------------------


class _Report(NamedTuple):
    findings: tuple[Finding, ...]
    suppressed: int
    hidden: dict[str, int]


def _report(found: Sequence[Finding], plan: _Plan, merged: _Merged) -> _Report:
    """The findings neither configuration nor a comment silences, sorted, and how many were silenced."""
    config = plan.config
    kept: list[Finding] = []
    suppressed = 0
    hidden: dict[str, int] = {}
    comments: dict[str, Mapping[int, frozenset[str]]] = {}
    file_ignores: dict[str, tuple[str, ...]] = {}
    examples = _Examples(plan)
    for finding in found:
        path = finding.location.path
        if path not in file_ignores:
            file_ignores[path] = _file_ignores(path, plan)
        if not config.is_selected(finding.code, file_ignores[path]):
            suppressed += 1
            continue
        if not finding.code.startswith("UNS9"):
            if path not in comments:
                comments[path] = _comments_of(path, plan, merged)
            equivalents = plan.catalog.equivalents(finding.code, finding.entry)
            if is_suppressed(finding.code, finding.location.line, comments[path], equivalents):
                suppressed += 1
                continue
        if finding.frequency is not Frequency.TEST and is_test_code(path, config.root):
            finding = replace(finding, frequency=Frequency.TEST, reason=_TEST_REASON)
        elif finding.frequency is not Frequency.EXAMPLE and examples.holds(path):
            finding = replace(finding, frequency=Frequency.EXAMPLE, reason=_EXAMPLE_REASON)
        tier = finding.frequency.value
        if tier not in config.frequency:
            hidden[tier] = hidden.get(tier, 0) + 1
            continue
        kept.append(finding)
    return _Report(tuple(sorted(kept, key=_sort_key)), suppressed, hidden)


_TEST_REASON = "a test runner drives it, not a serving program"
_EXAMPLE_REASON = "people run it by hand to learn from, not a serving program"


class _Examples:
    """Which checked files are example or demo code: in an example folder (``examples``,
    ``demos``, ``docs``...) below the folder that holds every checked file, so that checking
    ``examples/shop`` itself checks it as a project; or in a folder no import can name (not
    an identifier: ``snippet-files``) inside a package, which ships it as data (templates a
    command copies into users' projects)."""

    def __init__(self, plan: _Plan) -> None:
        folders = {str(path.parent) for _, path in plan.files}
        self.top = Path(os.path.commonpath(sorted(folders))) if folders else None
        self.paths = plan.paths
        self.packages: dict[Path, bool] = {}

    def holds(self, path: str) -> bool:
        absolute = self.paths.get(path)
        if absolute is None or self.top is None or not absolute.is_relative_to(self.top):
            return False
        parts = absolute.relative_to(self.top).parts[:-1]
        if any(is_example_folder(part) for part in parts):
            return True
        folder = self.top
        for part in parts:
            if not part.isidentifier() and self._is_package(folder):
                return True
            folder = folder / part
        return False

    def _is_package(self, folder: Path) -> bool:
        known = self.packages.get(folder)
        if known is None:
            known = self.packages[folder] = (folder / "__init__.py").is_file()
        return known


def is_test_code(path: str, root: Path) -> bool:
    """Whether ``path`` is test code: in a ``tests``, ``test`` or ``testing`` folder (below
    ``root`` when it is inside it), or a ``test_*.py``, ``*_test.py``, ``testing.py``,
    ``pytest_plugin.py`` or ``conftest.py`` file."""
    file = Path(path)
    try:
        parts = file.relative_to(root).parts[:-1]
    except ValueError:
        parts = file.parts[:-1]
    return is_test_file(parts, file.name)


def _file_ignores(path: str, plan: _Plan) -> tuple[str, ...]:
    """The codes ``per-file-ignores`` silences in the file shown as ``path``."""
    config = plan.config
    extra: list[str] = []
    absolute = plan.paths.get(path, Path(path))
    try:
        relative = absolute.resolve().relative_to(config.root).as_posix()
    except (ValueError, OSError, RuntimeError):
        # RuntimeError: a symbolic link loop (before Python 3.13), itself a UNS905 finding.
        relative = path
    for glob, codes in config.per_file_ignores:
        if matches_any(relative, (glob,)):
            extra.extend(codes)
    return tuple(extra)


def _comments_of(path: str, plan: _Plan, merged: _Merged) -> Mapping[int, frozenset[str]]:
    """The suppression comments of the file shown as ``path``, by line."""
    if path in plan.texts:
        source = plan.texts[path]
        return suppressions(source.text) if isinstance(source, Source) else {}
    entries = merged.entries
    entry = entries.get(path)
    if entry is not None and entry.suppressions is not None:
        return entry.suppressions
    source = read_source(str(plan.paths.get(path, Path(path))), max_size=1 << 62)
    if not isinstance(source, Source):
        return {}
    table = suppressions(source.text)
    if entry is not None and entry.digest == source.digest:
        # Remembered with the summary, so a warm run never reads the file again.
        entries[path] = replace(entry, suppressions=table)
        if merged.cache is not None:
            merged.cache.put(path, entries[path])
    return table


def _sort_key(finding: Finding) -> tuple[str, int, int, str, str]:
    loc = finding.location
    return (loc.path, loc.line, loc.col, finding.code, finding.message)


# -- save ---------------------------------------------------------------------------------------


def _save(plan: _Plan, merged: _Merged, report: _Report, started: float) -> CheckResult:
    """Save the summary cache, then the result (timed up to here) for the next run; return it.

    A cache kept in :class:`Memory` is saved by its keeper, not after each run.
    """
    if merged.cache is not None and plan.memory is None:
        merged.cache.save()
    entries = merged.entries
    stats = CheckStats(
        files=len(plan.files),
        lines=sum(entry.lines for entry in entries.values()),
        summarized=merged.summarized,
        cached=merged.cached,
        workers=merged.workers,
        seconds=time.perf_counter() - started,
    )
    checked = CheckResult(
        findings=report.findings,
        files=tuple(shown for shown, _ in plan.files),
        stats=stats,
        paths=plan.paths,
        digests={shown: entry.digest for shown, entry in entries.items()},
        suppressed=report.suppressed,
        hidden=report.hidden,
    )
    if plan.key is not None and not merged.problems:
        # a run with unreadable files is not kept: what made them unreadable may be fixed
        # without touching the files (permissions, a link's target)
        save_result(plan.cache_folder, plan.cwd, plan.key, checked)
    return checked


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
