# Reproduces: https://github.com/SecKatie/wyzeapy/pull/326 — fixed shape: the cached SSL context is built with asyncio.to_thread and passed to the session factory
import asyncio
import ssl
from functools import cache

import aiohttp
import certifi


@cache
def get_ssl_context():
    return ssl.create_default_context(cafile=certifi.where())


def _create_client_session(context):
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))


class WyzeAuthLib:
    def __init__(self, username):
        self.username = username
        self._session = None

    @classmethod
    async def create(cls, username):
        self = cls(username)
        context = await asyncio.to_thread(get_ssl_context)
        self._session = _create_client_session(context)
        return self
