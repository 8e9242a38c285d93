# Reproduces: https://github.com/AlexxIT/WebRTC/issues/730 — a utils helper scans hass.config.config_dir with os.listdir, reached from async_setup
from . import utils

DOMAIN = "webrtc"


async def async_setup(hass, config):
    hass.data[DOMAIN] = {"config": utils.find_go2rtc_config(hass)}  # expect
    return True
