# Reproduces: https://github.com/UI-Lovelace-Minimalist/UI/issues/1501 — shutil.copytree of card folders in a sync method called from the async configure step
from .base import UlmBase


async def async_setup_entry(hass, entry):
    ulm = UlmBase(hass, dict(entry.options))
    return await ulm.configure_ulm()
