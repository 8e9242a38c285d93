# Reproduces: https://github.com/aio-libs/aiohttp/issues/9308 — a request's host property falls back to socket.getfqdn(); an async handler reads request.host
import socket


class BaseRequest:
    def __init__(self, headers, path):
        self._headers = headers
        self.path = path

    @property
    def host(self):
        host = self._headers.get("Host")
        if host is not None:
            return host
        return socket.getfqdn()
