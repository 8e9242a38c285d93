# Reproduces: https://github.com/home-assistant/core/pull/114488 — fixed shape: service modules imported with homeassistant.helpers.importlib.async_import_module
from homeassistant.helpers.importlib import async_import_module

SERVICE_MODULES = ("homeassistant_restart", "repairs_create", "entity_enable")


class SpookServiceManager:
    def __init__(self, hass):
        self.hass = hass
        self._services = []

    async def async_setup(self):
        for name in SERVICE_MODULES:
            module = await async_import_module(self.hass, f"custom_components.spook.ectoplasms.services.{name}")
            self._services.append(module.SpookService(self.hass))
