"""The Dask engine against a real distributed.LocalCluster with a worker process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import offload_work as work
import pytest
from tests.loops import RunLoop

from unstall.offload import Offloader

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    cluster: Any = distributed.LocalCluster(
        n_workers=1, threads_per_worker=3, processes=True, dashboard_address="127.0.0.1:0"
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_calls_run_on_the_cluster(run_loop: RunLoop, scheduler: str) -> None:
    async def main() -> None:
        async with Offloader(dask_address=scheduler) as off:
            assert await off.run(work.add, (2,), {"b": 3}, engine="dask") == 5
            pid, _ = await off.run(work.whoami, engine="dask")
            assert pid != os.getpid()
            with pytest.raises(work.WorkFailed, match="remote"):
                await off.run(work.fail, ("remote",), engine="dask")
            with pytest.raises(TimeoutError, match="cancelled on the cluster"):
                await off.run(work.sleep_then, (1.0,), engine="dask", timeout=0.2)
            assert off.stats().engines["dask"]["address"] == scheduler
            results = await off.map_list(work.square, range(30), engine="dask", chunksize=10)
            assert results == [i * i for i in range(30)]

    run_loop(main())


def test_missing_distributed_is_a_clear_error() -> None:
    code = (
        "import sys, asyncio; sys.modules['distributed'] = None\n"
        "from unstall.offload import Offloader\n"
        "from unstall.errors import EngineUnavailable\n"
        "async def main():\n"
        "    async with Offloader() as off:\n"
        "        try:\n"
        "            await off.run(print, engine='dask')\n"
        "        except EngineUnavailable as exc:\n"
        "            print(exc.engine, exc)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.startswith("dask "), out.stderr
    assert "pip install 'unstall[dask]'" in out.stdout


def test_without_an_address_a_local_cluster_is_started_on_demand_and_closed() -> None:
    """No scheduler given: the engine starts a LocalCluster of worker processes on first use
    (asynchronously, without blocking the loop) and closes it with the offloader."""
    import asyncio

    async def main() -> tuple[int, list[int], Any]:
        async with Offloader(engine_options={"dask": {"n_workers": 1}}) as off:
            engine = off.engine("dask")
            assert engine.describe()["address"] is None  # nothing started yet
            pid, _ = await off.run(work.whoami, engine="dask")
            assert engine.describe()["address"] == "local"
            cluster = engine._cluster  # type: ignore[attr-defined]
            workers = [w.pid for w in cluster.workers.values()]
            results = await off.map_list(work.square, range(12), engine="dask", chunksize=4)
        assert cluster.status.name == "closed"
        return pid, results, workers

    pid, results, worker_pids = asyncio.run(main())
    assert pid != os.getpid()
    assert pid in worker_pids
    assert results == [i * i for i in range(12)]
