# Reproduces: https://github.com/scottbonline/sense/issues/61 — ASyncSenseable's constructor calls set_ssl_context() (ssl.create_default_context); HA builds it in async_setup_entry
from .asyncsenseable import ASyncSenseable


async def async_setup_entry(hass, entry):
    timeout = entry.data.get("timeout", 30)
    gateway = ASyncSenseable(api_timeout=timeout, wss_timeout=timeout, client_session=hass.data["session"])  # expect
    entry.runtime_data = gateway
    return True
