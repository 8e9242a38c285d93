# Reproduces: https://github.com/dlarrick/hass-kumo/issues/85 — a climate entity's async update calls the sync pykumo update_status(), which posts with requests
from .pykumo import PyKumo


class KumoThermostat:
    def __init__(self, kumo_api):
        self._pykumo = kumo_api
        self._available = False

    async def async_update(self):
        success = self._pykumo.update_status()  # expect
        self._available = success


async def async_setup_entry(hass, entry, async_add_entities):
    unit = PyKumo(entry.data["name"], entry.data["address"], entry.data["token"])
    async_add_entities([KumoThermostat(unit)])
