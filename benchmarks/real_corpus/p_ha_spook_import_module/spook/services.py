# Reproduces: https://github.com/frenck/spook/issues/740 — importlib.import_module of every service module inside the async service manager setup
import importlib

SERVICE_MODULES = ("homeassistant_restart", "repairs_create", "entity_enable")


class SpookServiceManager:
    def __init__(self, hass):
        self.hass = hass
        self._services = []

    async def async_setup(self):
        for name in SERVICE_MODULES:
            module_path = f"ectoplasms.services.{name}"
            module = importlib.import_module(f".{module_path}", __package__)  # expect
            self._services.append(module.SpookService(self.hass))
