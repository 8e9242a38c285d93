# Reproduces: https://github.com/aio-libs/aiohttp/issues/9308 — a request's host property falls back to socket.getfqdn(); an async handler reads request.host
from .request import BaseRequest


async def redirect_to_https(request: BaseRequest):
    location = f"https://{request.host}{request.path}"  # expect
    return {"status": 301, "Location": location}
