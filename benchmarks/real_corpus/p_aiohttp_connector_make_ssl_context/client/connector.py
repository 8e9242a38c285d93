# Reproduces: https://github.com/aio-libs/aiohttp/pull/8672 — the connector's async _get_ssl_context calls a cached staticmethod that runs ssl.create_default_context()
import functools
import ssl


class TCPConnector:
    def __init__(self, verify_ssl=True):
        self._verify_ssl = verify_ssl

    @staticmethod
    @functools.lru_cache(None)
    def _make_ssl_context(verified):
        if verified:
            return ssl.create_default_context()
        sslcontext = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        sslcontext.check_hostname = False
        sslcontext.verify_mode = ssl.CERT_NONE
        return sslcontext

    async def _get_ssl_context(self, req):
        if not req.is_ssl():
            return None
        if isinstance(req.ssl, ssl.SSLContext):
            return req.ssl
        return self._make_ssl_context(self._verify_ssl)  # expect
