# Reproduces: https://github.com/Beshelmek/govee_ble_lights/issues/45 — the config flow's async step iterates Path(__file__).parent / 'jsons' with Path.iterdir
from pathlib import Path

from homeassistant.config_entries import ConfigFlow

DOMAIN = "govee-ble-lights"


class GoveeConfigFlow(ConfigFlow, domain=DOMAIN):
    VERSION = 1

    async def async_step_user(self, user_input=None):
        jsons_path = Path(__file__).parent / "jsons"
        models = []
        for file in jsons_path.iterdir():  # expect
            if file.suffix == ".json":
                models.append(file.stem)
        return self.async_show_form(step_id="user", description_placeholders={"models": models})
