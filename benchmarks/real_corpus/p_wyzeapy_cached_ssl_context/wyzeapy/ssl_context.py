# Reproduces: https://github.com/SecKatie/wyzeapy/pull/326 — a @cache'd get_ssl_context() loads three CA bundles; a sync session factory calls it from the async create()
import ssl
from functools import cache
from pathlib import Path

import certifi


@cache
def get_ssl_context():
    context = ssl.create_default_context(cafile=certifi.where())
    context.load_verify_locations(cafile=str(Path(__file__).parent / "wyze_api_ca.pem"))
    return context
