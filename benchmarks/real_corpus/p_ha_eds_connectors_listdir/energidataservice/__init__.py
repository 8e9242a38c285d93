# Reproduces: https://github.com/MTrab/energidataservice/issues/531 — the Connectors constructor lists its package folder with os.listdir; it is built in async setup
from .connectors import Connectors

DOMAIN = "energidataservice"


async def async_setup_entry(hass, entry):
    connectors = Connectors()  # expect
    hass.data.setdefault(DOMAIN, {})[entry.entry_id] = connectors.connectors
    return True
