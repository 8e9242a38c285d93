"""The demo shop, fixed: the same work, none of it on the event loop.

* the warehouse call uses an async HTTP client (aiohttp) instead of ``requests``;
* the SQLite query runs on a worker thread (``unstall.to_thread``);
* the signature hash moves off the loop with ``unstall.offload(engine="auto")``, which
  measures it and picks a thread or a process;
* the rate limit is ``asyncio.sleep``.

Run it: ``python app_fixed.py --port 8080`` (needs the warehouse: ``python upstream.py``).
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import ClientSession, ClientTimeout, web

import catalog
import unstall

sign = unstall.offload(engine="auto")(catalog.sign)
SESSION = web.AppKey("session", ClientSession)


async def fetch_stock(session: ClientSession, item_id: int) -> str:
    async with session.get(f"{catalog.UPSTREAM}/", params={"item": item_id}) as response:
        return (await response.text()).strip()


async def item(request: web.Request) -> web.Response:
    item_id = int(request.match_info["item_id"])
    await asyncio.sleep(0.005)  # rate limit, without holding the loop
    stock = await fetch_stock(request.app[SESSION], item_id)
    similar = await unstall.to_thread(catalog.find_similar, item_id)
    signature = await sign.aio(str(item_id))
    return web.json_response(
        {"item": item_id, "stock": stock, "similar": similar, "signature": signature}
    )


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def client_session(app: web.Application):  # type: ignore[no-untyped-def]
    async with ClientSession(timeout=ClientTimeout(total=5)) as session:
        app[SESSION] = session
        yield


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(client_session)
    app.router.add_get("/item/{item_id}", item)
    app.router.add_get("/health", health)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    catalog.ensure_database()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)
