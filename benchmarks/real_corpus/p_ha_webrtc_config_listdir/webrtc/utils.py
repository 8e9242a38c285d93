# Reproduces: https://github.com/AlexxIT/WebRTC/issues/730 — a utils helper scans hass.config.config_dir with os.listdir, reached from async_setup
import os


def find_go2rtc_config(hass):
    for file in os.listdir(hass.config.config_dir):
        if file.startswith("go2rtc") and file.endswith(".yaml"):
            return os.path.join(hass.config.config_dir, file)
    return None
