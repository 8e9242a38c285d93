# Reproduces: https://github.com/wills106/homeassistant-solax-modbus/issues/876 — the inverter plugin is imported with importlib.import_module directly in async_setup_entry
import importlib

DOMAIN = "solax_modbus"


async def async_setup_entry(hass, entry):
    plugin_name = entry.options.get("plugin", "solax")
    plugin = importlib.import_module(f".plugin_{plugin_name}", "custom_components.solax_modbus")  # expect
    hass.data.setdefault(DOMAIN, {})[entry.entry_id] = plugin.plugin_instance
    return True
