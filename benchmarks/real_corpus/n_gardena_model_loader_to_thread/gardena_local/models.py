# Reproduces: https://github.com/cloudless-garden/gardena-smart-local-api/pull/35 — fixed shape: the glob and reads run in asyncio.to_thread
import asyncio
import json
from pathlib import Path


class ModelLoader:
    def __init__(self):
        self._dir = Path(__file__).parent / "device_models"
        self.models = {}

    def _scan(self):
        return {path.stem: json.loads(path.read_text()) for path in sorted(self._dir.glob("*.json"))}

    async def load(self):
        self.models = await asyncio.to_thread(self._scan)
        return self.models
