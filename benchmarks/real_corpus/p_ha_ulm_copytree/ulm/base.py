# Reproduces: https://github.com/UI-Lovelace-Minimalist/UI/issues/1501 — shutil.copytree of card folders in a sync method called from the async configure step
import os
import shutil


class UlmBase:
    def __init__(self, hass, options):
        self.hass = hass
        self.options = options
        self.integration_dir = os.path.dirname(__file__)

    def _install_community_cards(self):
        src = os.path.join(self.integration_dir, "lovelace", "community_cards")
        dst = self.hass.config.path("custom_cards", "community")
        shutil.copytree(src, dst, dirs_exist_ok=True)

    async def configure_ulm(self):
        if self.options.get("community_cards"):
            self._install_community_cards()  # expect
        return True
