import json


class Manifest:
    def __init__(self, path):
        self.path = path

    @property
    def entries(self):
        with open(self.path) as f:
            return json.load(f)


async def list_assets(manifest: Manifest):
    return sorted(manifest.entries)  # expect
