# Reproduces: https://github.com/haggis663/ha-melview/issues/11 — an async turn_on service calls a device method that sends the command with requests.post
import requests

COMMAND_URL = "https://api.melview.net/api/unitcommand.aspx"


class MelViewDevice:
    def __init__(self, unit_id, cookies):
        self.unit_id = unit_id
        self._cookies = cookies

    def _send_command(self, command):
        req = requests.post(COMMAND_URL, cookies=self._cookies, json={"unitid": self.unit_id, "v": 2, "commands": command}, timeout=10)
        return req.status_code == 200

    def power_on(self):
        return self._send_command("PW1")
