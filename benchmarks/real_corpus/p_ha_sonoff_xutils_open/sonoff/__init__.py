# Reproduces: https://github.com/AlexxIT/SonoffLAN/issues/1464 — a utils helper hashes the integration's own source files with open(..., 'rb') during async setup
from .core import xutils

DOMAIN = "sonoff"


async def async_setup(hass, config):
    hass.data[DOMAIN] = {"version": xutils.source_hash()}  # expect
    return True
