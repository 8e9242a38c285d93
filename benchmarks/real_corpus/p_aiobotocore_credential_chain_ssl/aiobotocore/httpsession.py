# Reproduces: https://github.com/aio-libs/aiobotocore/issues/1023 — client creation reaches, through a credential resolver and a metadata fetcher, an HTTP session constructor that loads CA certs
import ssl

import certifi


class AIOHTTPSession:
    def __init__(self, timeout=60, verify=True):
        self._timeout = timeout
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if verify:
            ssl_context.load_verify_locations(cafile=certifi.where())
        self._ssl_context = ssl_context
