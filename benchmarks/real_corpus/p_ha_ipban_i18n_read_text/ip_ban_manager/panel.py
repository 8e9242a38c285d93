# Reproduces: https://github.com/Wheemer/ip-ban-manager/issues/15 — i18n helper globs and reads every panel translation with Path.read_text, called from the async panel registration
from . import i18n


async def async_register_panel(hass):
    strings = i18n.get_translations(hass.config.language)  # expect
    hass.data["ip_ban_manager_panel"] = strings
