"""Read and summarize files: the unit of work run serially or in worker processes."""

from __future__ import annotations

from dataclasses import dataclass

from unstall.check._cache import CacheEntry
from unstall.check._model import Finding
from unstall.check._read import FileStat, Source, file_problem, read_source
from unstall.check._syntax import newer_syntax_problem

__all__ = ("Job", "run_jobs", "summarize_source")


@dataclass(frozen=True, slots=True)
class Job:
    """One file to summarize: display path, path to open, module name, and the stat already taken."""

    path: str
    open_path: str
    module: str
    is_package: bool
    max_size: int
    stat: FileStat | None = None
    known_digest: str | None = None


def summarize_source(source: Source, job: Job) -> CacheEntry:
    """Summarize decoded source; a parse failure (or any crash of the summarizer) becomes a UNS901 result."""
    from unstall.check._summary import summarize

    result: object
    try:
        result = summarize(source.text, path=job.path, module=job.module, is_package=job.is_package)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = max((exc.offset or 1) - 1, 0)
        result = newer_syntax_problem(job.path, exc.msg, source.text, line, col) or file_problem(
            "UNS901",
            job.path,
            f"Syntax error: {exc.msg} (line {line}, column {col + 1}).",
            line,
            col,
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        result = file_problem(
            "UNS901", job.path, f"The file cannot be parsed: {type(exc).__name__}: {exc}."
        )
    except Exception as exc:
        result = file_problem(
            "UNS901",
            job.path,
            f"The file could not be analyzed ({type(exc).__name__}: {exc}); please report this as a bug in unstall.",
        )
    return CacheEntry(
        size=source.stat.size,
        mtime_ns=source.stat.mtime_ns,
        digest=source.digest,
        module=job.module,
        is_package=job.is_package,
        lines=source.text.count("\n") + 1,
        result=result,
    )


def run_jobs(jobs: list[Job]) -> list[CacheEntry | Finding]:
    """Read and summarize each job's file; a file that cannot be read gives its UNS9xx finding.

    When the content digest equals ``job.known_digest`` the file is not summarized again: the
    entry comes back with ``result=None`` and the caller keeps the cached summary.
    """
    results: list[CacheEntry | Finding] = []
    for job in jobs:
        source = read_source(job.open_path, max_size=job.max_size, known=job.stat, name=job.path)
        if isinstance(source, Finding):
            results.append(source)
        elif source.digest == job.known_digest:
            lines = source.text.count("\n") + 1
            results.append(
                CacheEntry(
                    source.stat.size,
                    source.stat.mtime_ns,
                    source.digest,
                    job.module,
                    job.is_package,
                    lines,
                    None,
                )
            )
        else:
            results.append(summarize_source(source, job))
    return results
