# Reproduces: https://github.com/scottbonline/sense/issues/61 — ASyncSenseable's constructor calls set_ssl_context() (ssl.create_default_context); HA builds it in async_setup_entry
import ssl


class ASyncSenseable:
    def __init__(self, api_timeout=5, wss_timeout=5, client_session=None, ssl_verify=True, ssl_cafile=""):
        self.api_timeout = api_timeout
        self.wss_timeout = wss_timeout
        self._client_session = client_session
        self.set_ssl_context(ssl_verify, ssl_cafile)

    def set_ssl_context(self, ssl_verify, ssl_cafile):
        if not ssl_verify:
            self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        elif ssl_cafile:
            self.ssl_context = ssl.create_default_context(cafile=ssl_cafile)
        else:
            self.ssl_context = ssl.create_default_context()
