# Reproduces: https://github.com/aio-libs/aiobotocore/issues/1023 — client creation reaches, through a credential resolver and a metadata fetcher, an HTTP session constructor that loads CA certs
from .credentials import create_credential_resolver


class AioSession:
    def __init__(self):
        self._resolver = None

    def _get_credential_resolver(self):
        if self._resolver is None:
            self._resolver = create_credential_resolver(self)
        return self._resolver

    async def _create_client(self, service_name):
        resolver = self._get_credential_resolver()  # expect
        return service_name, resolver
