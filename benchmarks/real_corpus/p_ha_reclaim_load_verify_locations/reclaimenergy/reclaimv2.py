# Reproduces: https://github.com/david-collett/reclaimenergy/pull/5 — SSLContext.load_verify_locations on a context kept in self, called in the async MQTT listen loop
import os
import ssl

import aiomqtt


class ReclaimV2:
    def __init__(self, host, device_id):
        self.host = host
        self.device_id = device_id
        self.cacert = os.path.join(os.path.dirname(__file__), "AmazonRootCA1.pem")
        self.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)

    async def _listen(self):
        self.ssl_context.load_verify_locations(cafile=self.cacert)  # expect
        async with aiomqtt.Client(self.host, port=8883, tls_context=self.ssl_context) as client:
            await client.subscribe(f"dt/reclaim/{self.device_id}/#")
            async for message in client.messages:
                yield message
