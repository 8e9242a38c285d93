# Reproduces: https://github.com/MrBearPresident/JBL_Soundbar/pull/48 — the coordinator constructor builds ssl.create_default_context() and the async setup loads a client cert chain
import os
import ssl

CERT_DIR = os.path.dirname(__file__)


class JBLCoordinator:
    def __init__(self, hass, address):
        self.hass = hass
        self.address = address
        self.sslcontext = ssl.create_default_context()
        self.sslcontext.check_hostname = False
        self.sslcontext.verify_mode = ssl.CERT_NONE

    async def _SetupDeviceInfo(self):
        self.sslcontext.load_cert_chain(certfile=os.path.join(CERT_DIR, "client.pem"), keyfile=os.path.join(CERT_DIR, "client.key"))  # expect
        return {"address": self.address}
