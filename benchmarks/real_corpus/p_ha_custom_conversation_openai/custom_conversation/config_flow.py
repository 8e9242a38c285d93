# Reproduces: https://github.com/michelle-avery/custom-conversation/issues/31 — openai.AsyncOpenAI(...) constructed in the async config-flow validation (load_verify_locations)
import openai

CONF_API_KEY = "api_key"


async def validate_input(hass, data):
    client = openai.AsyncOpenAI(api_key=data[CONF_API_KEY], base_url=data.get("base_url"))  # expect
    await client.models.list()
