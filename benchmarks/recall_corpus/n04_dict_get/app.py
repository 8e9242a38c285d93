import asyncio


async def lookup(cache: dict, key):
    value = cache.get(key)
    await asyncio.sleep(0)
    return value
