# Reproduces: https://github.com/home-assistant/core/issues/116188 — the gateway subclass constructor reaches get_const(), which import_module()s the protocol module
from .const import get_const


class BaseAsyncGateway:
    def __init__(self, event_callback=None, protocol_version="1.4"):
        self.event_callback = event_callback
        self.protocol_version = protocol_version
        self.const = get_const(protocol_version)


class AsyncMQTTGateway(BaseAsyncGateway):
    def __init__(self, pub_callback, sub_callback, **kwargs):
        super().__init__(**kwargs)
        self._pub = pub_callback
        self._sub = sub_callback


async def _get_gateway(hass, pub_callback, sub_callback, version):
    gateway = AsyncMQTTGateway(pub_callback, sub_callback, protocol_version=version)  # expect
    return gateway
