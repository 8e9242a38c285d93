# Reproduces: https://github.com/home-assistant/core/issues/141513 — genai.Client(api_key=...) constructed in async_setup_entry builds an SSL context on the loop
from google import genai

CONF_API_KEY = "api_key"


async def async_setup_entry(hass, entry):
    client = genai.Client(api_key=entry.data[CONF_API_KEY])  # expect
    entry.runtime_data = client
    return True
