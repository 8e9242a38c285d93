# Reproduces: https://github.com/fsaris/home-assistant-zonneplan-one/issues/117 — fixed shape: the manifest is read in the executor with hass.async_add_executor_job
import json
import os

from homeassistant.core import HomeAssistant


def read_manifest_version():
    script_directory = os.path.dirname(os.path.realpath(__file__))
    with open(script_directory + "/../manifest.json") as f:
        return json.load(f)["version"]


class ZonneplanApi:
    def __init__(self, hass: HomeAssistant, session, access_token):
        self._hass = hass
        self._session = session
        self._token = access_token
        self._version = None

    async def _user_agent(self):
        if self._version is None:
            self._version = await self._hass.async_add_executor_job(read_manifest_version)
        return f"home-assistant-zonneplan-one/{self._version}"

    async def async_get_user_accounts(self):
        headers = {"User-Agent": await self._user_agent()}
        async with self._session.get("https://app-api.zonneplan.nl/user-accounts/me", headers=headers) as response:
            return await response.json()
