# Reproduces: https://github.com/wizmo2/zidoo-player/issues/20 — the media player's async update calls a ZidooRC method whose private helper uses requests.get
import requests


class ZidooRC:
    def __init__(self, host):
        self._host = host
        self._session = None

    def _req_json(self, path):
        response = requests.get(f"http://{self._host}:9529/{path}", timeout=5)
        return response.json()

    def get_playing_info(self):
        return self._req_json("ZidooVideoPlay/getPlayStatus")
