"""The sub-interpreter engine: real on Python 3.14+, a clear error naming the version before."""

from __future__ import annotations

import sys

import offload_work as work
import pytest
from tests.loops import RunLoop

from unstall.errors import EngineUnavailable
from unstall.offload import Offloader


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="this Python has InterpreterPoolExecutor")
def test_older_pythons_get_a_clear_error(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader() as off:
            with pytest.raises(EngineUnavailable) as info:
                await off.run(work.add, (1, 2), engine="interpreter")
            assert info.value.engine == "interpreter"
            version = ".".join(map(str, sys.version_info[:3]))
            assert f"Python {version}" in str(info.value)
            assert "3.14" in str(info.value)
            assert "engine='process'" in str(info.value)

    run_loop(main())


@pytest.mark.skipif(sys.version_info < (3, 14), reason="InterpreterPoolExecutor is new in 3.14")
def test_calls_run_in_sub_interpreters(run_loop: RunLoop) -> None:
    async def main() -> None:
        async with Offloader(engine_options={"interpreter": {"max_workers": 2}}) as off:
            assert await off.run(work.add, (1, 2), engine="interpreter") == 3
            with pytest.raises(work.WorkFailed):
                await off.run(work.fail, ("x",), engine="interpreter")

    run_loop(main())
