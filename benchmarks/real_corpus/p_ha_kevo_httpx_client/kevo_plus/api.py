# Reproduces: https://github.com/gaggle331/home-assistant-kevo/issues/17 — httpx.AsyncClient() built inside the async login loads the certifi bundle (load_verify_locations)
import httpx

AUTH_URL = "https://identity.mykevo.com/connect/token"


class KevoApi:
    def __init__(self):
        self._client = None
        self._token = None

    async def login(self, username, password):
        self._client = httpx.AsyncClient(timeout=30)  # expect
        response = await self._client.post(AUTH_URL, data={"username": username, "password": password})
        self._token = response.json()["access_token"]
