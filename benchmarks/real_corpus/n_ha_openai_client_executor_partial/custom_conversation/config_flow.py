# Reproduces: https://github.com/michelle-avery/custom-conversation/issues/31 — fixed shape: openai.AsyncOpenAI is constructed via hass.async_add_executor_job(partial(...))
from functools import partial

import openai
from homeassistant.core import HomeAssistant

CONF_API_KEY = "api_key"


async def validate_input(hass: HomeAssistant, data):
    client = await hass.async_add_executor_job(partial(openai.AsyncOpenAI, api_key=data[CONF_API_KEY]))
    await client.models.list()
