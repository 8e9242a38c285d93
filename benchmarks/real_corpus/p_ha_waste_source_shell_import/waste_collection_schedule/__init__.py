# Reproduces: https://github.com/mampfes/hacs_waste_collection_schedule/issues/2134 — SourceShell.create (a staticmethod) imports the source module with importlib while the entry is set up
from .source_shell import SourceShell


async def async_setup_entry(hass, entry):
    shell = SourceShell.create(entry.data["name"], entry.title, entry.data["args"])  # expect
    hass.data.setdefault("waste_collection_schedule", {})[entry.entry_id] = shell
    return True
