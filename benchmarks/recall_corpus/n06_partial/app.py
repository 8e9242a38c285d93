import asyncio
import functools
import shutil


async def remove(path):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, functools.partial(shutil.rmtree, path, ignore_errors=True))
