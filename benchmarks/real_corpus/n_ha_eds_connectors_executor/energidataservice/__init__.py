# Reproduces: https://github.com/MTrab/energidataservice/issues/531 — fixed shape: the Connectors class is constructed in the executor
from homeassistant.core import HomeAssistant

from .connectors import Connectors


async def async_setup_entry(hass: HomeAssistant, entry):
    connectors = await hass.async_add_executor_job(Connectors)
    hass.data.setdefault("energidataservice", {})[entry.entry_id] = connectors.connectors
    return True
