import asyncio


async def compute() -> int:
    return 1


def compute_now() -> int:
    return asyncio.run(compute())
