# Reproduces: https://github.com/Zendure/Zendure-HA/issues/1474 — the base entity constructor reads translations/en.json with Path.read_text; sensors are built in async setup
import json
from pathlib import Path


class EntityZendure:
    def __init__(self, device, key):
        self.device = device
        self.key = key
        self._attr_name = self._translated_name(key)

    def _translated_name(self, key):
        _t = json.loads((Path(__file__).parent / "translations" / "en.json").read_text())
        return _t["entity"]["sensor"].get(key, {}).get("name", key)
