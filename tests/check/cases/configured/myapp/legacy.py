import time


def old_sleep() -> None:
    time.sleep(1)


async def old_handler() -> None:
    time.sleep(1)
