# Reproduces: https://github.com/3dg1luk43/ha_washdata/issues/372 — ws_api reads manifest.json at module level; the module is imported lazily inside async_setup_entry
DOMAIN = "ha_washdata"


async def async_setup_entry(hass, entry):
    from . import ws_api  # expect

    ws_api.async_register(hass)
    return True
