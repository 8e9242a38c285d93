# Reproduces: https://github.com/aprin-labs/archimedes/issues/914 — an async service method builds redis.Redis and calls ping()/get() synchronously
import json

import redis

REDIS_HOST = "redis"


async def _compute_returns(vault_address):
    r = redis.Redis(host=REDIS_HOST, port=6379, socket_timeout=2)
    r.ping()  # expect
    cached = r.get(f"returns:{vault_address}")  # expect
    if cached:
        return json.loads(cached)
    return None
