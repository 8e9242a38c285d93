import os
import socket
import time
from typing import Any

from myapp.jobs import run_blocking, threaded
from myapp.legacy import old_sleep


@threaded
def blocking_work() -> None:
    time.sleep(1)


def plain_work() -> None:
    time.sleep(1)


async def setup(hass: Any) -> None:
    await hass.async_add_executor_job(lambda: time.sleep(1))
    await run_blocking(lambda: time.sleep(1))
    await blocking_work()
    old_sleep()
    os.path.exists("x")
    plain_work()  # UNS101
    socket.gethostbyname("localhost")  # UNS104
