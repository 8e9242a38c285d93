"""Run summary jobs in worker processes when there are enough of them, else in this one."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NamedTuple

from unstall.check._cache import CacheEntry
from unstall.check._model import Finding
from unstall.check._worker import Job, run_jobs

if TYPE_CHECKING:
    import multiprocessing.context

# multiprocessing and concurrent.futures are imported by a run that starts workers only: a
# re-run that summarizes a file or two (or nothing) does not pay for them.

__all__ = ("POOL_BYTES_PER_WORKER", "JobResults", "default_workers", "pool_size", "run_all")

# Each this much source past the first adds a worker process. Starting workers and sending the
# summaries back cost more than they saved on every tree measured (2 cores, --no-cache): one
# process beat two on uvicorn (0.3 MB), sanic (0.9 MB), discord.py (3.1 MB), 5 to 20 MB of Home
# Assistant components, and all of Home Assistant (6 725 files, 33 MB: 48 s against 69 s).
POOL_BYTES_PER_WORKER = 34_000_000


class JobResults(NamedTuple):
    """What :func:`run_all` gives: one result per job, in order, and the processes that ran them (1: this one)."""

    results: list[CacheEntry | Finding]
    workers: int


def default_workers() -> int:
    """The number of cores this process may use."""
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return max(1, counter() or 1)


def pool_size(jobs: list[Job], workers: int) -> int:
    """How many processes summarize ``jobs``: this one, plus one per :data:`POOL_BYTES_PER_WORKER`
    bytes of source, at most ``workers`` and one per file."""
    total = sum(job.stat.size for job in jobs if job.stat is not None)
    return max(1, min(workers, len(jobs), 1 + total // POOL_BYTES_PER_WORKER))


def run_all(jobs: list[Job], workers: int) -> JobResults:
    """Run ``jobs`` in up to ``workers`` processes, or here when they are few or the pool fails."""
    used = pool_size(jobs, workers)
    if used > 1:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return JobResults(_run_parallel(jobs, used), used)
        except (BrokenProcessPool, OSError, EOFError):
            # A worker died (out of memory, a crash in C code) or the fork server could not
            # start (EOFError): do the work here instead.
            pass
    return JobResults(run_jobs(jobs), 1)


def _pool_context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    # forkserver: forking a process that may have threads is unsafe (and warns on 3.12+).
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _run_parallel(jobs: list[Job], workers: int) -> list[CacheEntry | Finding]:
    from concurrent.futures import ProcessPoolExecutor

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
