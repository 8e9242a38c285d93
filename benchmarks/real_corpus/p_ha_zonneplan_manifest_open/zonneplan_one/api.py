# Reproduces: https://github.com/fsaris/home-assistant-zonneplan-one/issues/117 — the API client opens manifest.json to build its User-Agent on every request
import json
import os

ACCOUNTS_URL = "https://app-api.zonneplan.nl/user-accounts/me"


class ZonneplanApi:
    def __init__(self, session, access_token):
        self._session = session
        self._token = access_token

    def _user_agent(self):
        script_directory = os.path.dirname(os.path.realpath(__file__))
        f = open(script_directory + "/../manifest.json")
        version = json.load(f)["version"]
        f.close()
        return f"home-assistant-zonneplan-one/{version}"

    async def async_get_user_accounts(self):
        headers = {"User-Agent": self._user_agent(), "Authorization": f"Bearer {self._token}"}  # expect
        async with self._session.get(ACCOUNTS_URL, headers=headers) as response:
            return await response.json()
