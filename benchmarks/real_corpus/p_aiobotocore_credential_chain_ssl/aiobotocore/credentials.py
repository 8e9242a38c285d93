# Reproduces: https://github.com/aio-libs/aiobotocore/issues/1023 — client creation reaches, through a credential resolver and a metadata fetcher, an HTTP session constructor that loads CA certs
from .httpsession import AIOHTTPSession


class AioContainerMetadataFetcher:
    TIMEOUT_SECONDS = 2

    def __init__(self, session=None):
        if session is None:
            session = AIOHTTPSession(timeout=self.TIMEOUT_SECONDS)
        self._session = session


class CredentialResolver:
    def __init__(self, providers):
        self.providers = providers


def create_credential_resolver(session):
    fetcher = AioContainerMetadataFetcher()
    return CredentialResolver([session, fetcher])
