# Reproduces: https://github.com/bvis/aegis-hass/issues/27 — a classmethod lazily builds ssl.create_default_context(); the async connect() calls it
import asyncio
import ssl


class HtsClient:
    _ssl_ctx = None

    def __init__(self, host, port):
        self._host = host
        self._port = port

    @classmethod
    def _get_ssl_context(cls):
        if cls._ssl_ctx is None:
            cls._ssl_ctx = ssl.create_default_context()
        return cls._ssl_ctx

    async def connect(self):
        ssl_ctx = self._get_ssl_context()  # expect
        reader, writer = await asyncio.open_connection(self._host, self._port, ssl=ssl_ctx)
        return reader, writer
