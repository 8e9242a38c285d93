import asyncio


async def sleep(seconds):
    await asyncio.sleep(seconds)


async def tick():
    await sleep(1)
