# Reproduces: https://github.com/microsoft/kiota-python/issues/505 — the async RetryHandler.send middleware waits between retries with time.sleep(delay)
import time


class BaseMiddleware:
    def __init__(self):
        self.next = None


class RetryHandler(BaseMiddleware):
    def __init__(self, max_retries=3, delay=0.5):
        super().__init__()
        self.max_retries = max_retries
        self.delay = delay

    def _should_retry(self, response):
        return response.status_code in (429, 503, 504)

    async def send(self, request, transport):
        retry_count = 0
        response = await self.next.send(request, transport)
        while self._should_retry(response) and retry_count < self.max_retries:
            delay = self.delay * (2**retry_count)
            time.sleep(delay)  # expect
            retry_count += 1
            response = await self.next.send(request, transport)
        return response
