# Reproduces: https://github.com/Hogster/BPS/issues/19 — os.scandir of the maps folder inside a list comprehension in async_setup_entry
import os

DOMAIN = "bps"


async def async_setup_entry(hass, entry):
    maps_path = hass.config.path("www", "bps_maps")
    maps = [f.name for f in os.scandir(maps_path) if f.name.endswith(".png")]  # expect
    hass.data.setdefault(DOMAIN, {})["maps"] = maps
    return True
