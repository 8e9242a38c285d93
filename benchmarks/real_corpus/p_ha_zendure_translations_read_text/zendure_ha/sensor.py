# Reproduces: https://github.com/Zendure/Zendure-HA/issues/1474 — the base entity constructor reads translations/en.json with Path.read_text; sensors are built in async setup
from .entity import EntityZendure


class ZendureSensor(EntityZendure):
    @property
    def native_value(self):
        return self.device.values.get(self.key)


async def async_setup_entry(hass, entry, async_add_entities):
    device = hass.data["zendure_ha"][entry.entry_id]
    sensors = [ZendureSensor(device, key) for key in device.sensor_keys]  # expect
    async_add_entities(sensors)
