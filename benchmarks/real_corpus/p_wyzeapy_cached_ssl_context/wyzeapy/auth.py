# Reproduces: https://github.com/SecKatie/wyzeapy/pull/326 — a @cache'd get_ssl_context() loads three CA bundles; a sync session factory calls it from the async create()
import aiohttp

from .ssl_context import get_ssl_context


def _create_client_session():
    connector = aiohttp.TCPConnector(ssl=get_ssl_context())
    return aiohttp.ClientSession(connector=connector)


class WyzeAuthLib:
    def __init__(self, username, password):
        self.username = username
        self.password = password
        self._session = None

    @classmethod
    async def create(cls, username, password):
        self = cls(username, password)
        self._session = _create_client_session()  # expect
        return self
