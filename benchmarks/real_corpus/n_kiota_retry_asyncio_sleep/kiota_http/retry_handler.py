# Reproduces: https://github.com/microsoft/kiota-python/pull/485 — fixed shape: the retry middleware awaits asyncio.sleep between attempts
import asyncio


class RetryHandler:
    def __init__(self, next_handler, max_retries=3, delay=0.5):
        self.next = next_handler
        self.max_retries = max_retries
        self.delay = delay

    async def send(self, request, transport):
        retry_count = 0
        response = await self.next.send(request, transport)
        while response.status_code in (429, 503, 504) and retry_count < self.max_retries:
            await asyncio.sleep(self.delay * (2**retry_count))
            retry_count += 1
            response = await self.next.send(request, transport)
        return response
