# Reproduces: https://github.com/aio-libs/aiohttp/pull/8672 — fixed shape: the SSL context is made in run_in_executor under an asyncio.Lock
import asyncio
import ssl


class TCPConnector:
    def __init__(self):
        self._made_ssl_context = {}
        self._lock = None

    @staticmethod
    def _make_ssl_context(verified):
        if verified:
            return ssl.create_default_context()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    async def _make_or_get_cached_ssl_context(self, verified):
        if verified in self._made_ssl_context:
            return self._made_ssl_context[verified]
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            loop = asyncio.get_running_loop()
            context = await loop.run_in_executor(None, self._make_ssl_context, verified)
            self._made_ssl_context[verified] = context
            return context
