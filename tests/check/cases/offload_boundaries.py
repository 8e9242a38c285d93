"""What is handed to an offload boundary runs off the loop; what is evaluated for it does not."""

import asyncio
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import anyio
import anyio.to_thread
import requests
import unstall
from starlette.concurrency import run_in_threadpool


def load(url: str) -> bytes:
    return requests.get(url).content


async def to_thread(url: str) -> None:
    await asyncio.to_thread(time.sleep, 1)
    await asyncio.to_thread(load, url)
    await asyncio.to_thread(lambda: requests.get(url))
    await asyncio.to_thread(lambda: load(url))


async def to_thread_of_a_call_is_still_on_the_loop(url: str) -> None:
    await asyncio.to_thread(load(url))  # UNS103


async def run_in_executor(url: str) -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, load, url)
    await loop.run_in_executor(None, functools.partial(load, url))
    await loop.run_in_executor(None, partial(requests.get, url, timeout=5))
    await loop.run_in_executor(None, lambda: time.sleep(1))
    await loop.run_in_executor(None, partial(lambda: time.sleep(1)))
    await asyncio.get_running_loop().run_in_executor(None, lambda: load(url))


async def anyio_threads(url: str) -> None:
    await anyio.to_thread.run_sync(load, url)
    await anyio.to_thread.run_sync(lambda: time.sleep(1))


async def starlette_threadpool(url: str) -> None:
    await run_in_threadpool(load, url)
    await run_in_threadpool(lambda: time.sleep(1))


async def unstall_offload(url: str) -> None:
    await unstall.to_thread(lambda: load(url))
    await unstall.to_process(lambda: time.sleep(1))
    await unstall.offload(lambda: time.sleep(1))


async def executor_submit(url: str) -> None:
    pool = ThreadPoolExecutor()
    pool.submit(lambda: time.sleep(1))
    pool.submit(load, url)


async def lambda_run_on_the_loop(values: list[str]) -> list[str]:
    return sorted(values, key=lambda value: load(value).decode())  # UNS103


async def nested_calls_inside_an_offloaded_lambda(url: str) -> None:
    await asyncio.to_thread(lambda: print(load(url)))
    await asyncio.to_thread(lambda: print(time.sleep(1)))


async def arguments_are_evaluated_on_the_loop(url: str) -> None:
    await asyncio.to_thread(print, load(url))  # UNS103
    await asyncio.to_thread(partial(print, time.sleep(1)))  # UNS101


async def a_nested_function_handed_to_a_thread(url: str) -> None:
    def work() -> bytes:
        time.sleep(1)
        return load(url)

    await asyncio.to_thread(work)


async def own_threads_and_processes() -> None:
    import multiprocessing
    import threading

    threading.Thread(target=lambda: time.sleep(1)).start()
    threading.Timer(1.0, lambda: time.sleep(1)).start()
    multiprocessing.Process(target=lambda: time.sleep(1)).start()


async def callbacks_run_on_the_loop() -> None:
    loop = asyncio.get_running_loop()
    loop.call_soon(lambda: time.sleep(1))  # UNS101


class Settings:
    @property
    def remote(self) -> bytes:
        return load("https://example.com/settings")


async def properties_in_lambdas(settings: Settings) -> None:
    await asyncio.to_thread(lambda: settings.remote)
    print(sorted([1], key=lambda item: settings.remote))  # UNS103


async def receivers_of_unknown_type(loop: asyncio.AbstractEventLoop, executor: object, url: str) -> None:
    await loop.run_in_executor(None, lambda: time.sleep(1))
    await loop.run_in_executor(executor, partial(lambda: load(url)))  # type: ignore[arg-type]
