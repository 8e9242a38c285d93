# Reproduces: https://github.com/MrBearPresident/JBL_Soundbar/pull/48 — the coordinator constructor builds ssl.create_default_context() and the async setup loads a client cert chain
from .coordinator import JBLCoordinator


async def async_setup_entry(hass, entry):
    coordinator = JBLCoordinator(hass, entry.data["address"])  # expect
    await coordinator._SetupDeviceInfo()
    return True
