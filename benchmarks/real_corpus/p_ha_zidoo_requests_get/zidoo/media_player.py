# Reproduces: https://github.com/wizmo2/zidoo-player/issues/20 — the media player's async update calls a ZidooRC method whose private helper uses requests.get
from .zidoorc import ZidooRC


class ZidooMediaPlayer:
    def __init__(self, host, name):
        self._player = ZidooRC(host)
        self._name = name
        self._state = None

    async def async_update(self):
        info = self._player.get_playing_info()  # expect
        self._state = info.get("status")
