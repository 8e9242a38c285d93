# Reproduces: https://github.com/cloudless-garden/gardena-smart-local-api/pull/35 — ModelLoader.load() (async) iterates Path.glob over the bundled model files on the loop
import json
from pathlib import Path


class ModelLoader:
    def __init__(self):
        self._dir = Path(__file__).parent / "device_models"
        self.models = {}

    async def load(self):
        for path in self._dir.glob("*.json"):  # expect
            self.models[path.stem] = json.loads(path.read_text())  # expect
        return self.models
