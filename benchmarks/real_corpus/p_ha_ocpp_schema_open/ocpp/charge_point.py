# Reproduces: https://github.com/lbbrhzn/ocpp/issues/1199 — lru_cache'd get_schema() opens a JSON schema file; validate_payload() calls it from the async call()
import asyncio

from .messages import validate_payload


class ChargePoint:
    def __init__(self, connection, ocpp_version="1.6"):
        self._connection = connection
        self._ocpp_version = ocpp_version
        self._response_queue = asyncio.Queue()

    async def call(self, message):
        validate_payload(message, self._ocpp_version)  # expect
        await self._connection.send(message.to_json())
        return await self._response_queue.get()
