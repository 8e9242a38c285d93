"""The demo shop, naive: async handlers that call blocking helpers.

Run it: ``python app_naive.py --port 8080`` (needs the warehouse: ``python upstream.py``).
Under load, one request's blocking calls stall every other request. ``unstall check``
finds the chains (handler -> helper -> blocking call); ``unstall run app_naive.py`` shows
the stalls as they happen.
"""

from __future__ import annotations

import argparse

from aiohttp import web

import catalog


async def item(request: web.Request) -> web.Response:
    item_id = int(request.match_info["item_id"])
    catalog.rate_limit()
    stock = catalog.fetch_stock(item_id)
    similar = catalog.find_similar(item_id)
    signature = catalog.sign(str(item_id))
    return web.json_response(
        {"item": item_id, "stock": stock, "similar": similar, "signature": signature}
    )


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/item/{item_id}", item)
    app.router.add_get("/health", health)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    catalog.ensure_database()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)
