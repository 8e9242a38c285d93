"""The demo's warehouse service: answers ``GET /`` after 20 ms, without blocking its loop.

Run it: ``python upstream.py --port 8081``.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web


async def stock(request: web.Request) -> web.Response:
    await asyncio.sleep(0.02)
    return web.Response(text="12\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/", stock)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)
