# Reproduces: https://github.com/3dg1luk43/ha_washdata/issues/372 — ws_api reads manifest.json at module level; the module is imported lazily inside async_setup_entry
import json
from pathlib import Path as _Path

_VERSION = json.loads((_Path(__file__).parent / "manifest.json").read_text(encoding="utf-8"))["version"]


def async_register(hass):
    hass.data.setdefault("ha_washdata_ws", {})["version"] = _VERSION
