# Reproduces: https://github.com/dlarrick/hass-kumo/issues/85 — a climate entity's async update calls the sync pykumo update_status(), which posts with requests
import requests


class PyKumo:
    def __init__(self, name, address, token):
        self._name = name
        self._address = address
        self._token = token
        self._status = {}

    def _request(self, query):
        response = requests.put(f"http://{self._address}/api?m={self._token}", json=query, timeout=5)
        return response.json()

    def update_status(self):
        data = self._request({"c": {"indoorUnit": {"status": {}}}})
        self._status = data.get("r", {}).get("indoorUnit", {}).get("status", {})
        return bool(self._status)
