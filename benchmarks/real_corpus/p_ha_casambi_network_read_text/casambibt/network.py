# Reproduces: https://github.com/lkempf/casambi-bt-hass/issues/86 — the async logIn reads the cached network id with Path.exists/read_text on a path kept in self
from pathlib import Path


class Network:
    def __init__(self, uuid, http_client, cache_dir):
        self._uuid = uuid
        self._http = http_client
        self._cachePath = Path(cache_dir) / uuid
        self._id = None

    async def logIn(self):
        networkCacheFile = self._cachePath / "networkid"
        if networkCacheFile.exists():  # expect
            self._id = networkCacheFile.read_text()  # expect
            return self._id
        response = await self._http.get(f"https://api.casambi.com/network/uuid/{self._uuid}")
        self._id = response.json()["id"]
        return self._id
