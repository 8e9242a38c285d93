# Reproduces: https://github.com/haggis663/ha-melview/issues/11 — an async turn_on service calls a device method that sends the command with requests.post
from .melview import MelViewDevice


class MelViewClimate:
    def __init__(self, device: MelViewDevice):
        self._device = device

    async def async_turn_on(self):
        self._device.power_on()  # expect
