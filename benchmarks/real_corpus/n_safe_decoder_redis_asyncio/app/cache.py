# Reproduces: https://github.com/safe-global/safe-decoder-service/pull/252 — fixed shape: the cache uses redis.asyncio.Redis and awaits every call
import json

from redis.asyncio import Redis

redis_client = Redis.from_url("redis://redis:6379/0")


async def cache_response(key, compute):
    cached = await redis_client.get(key)
    if cached is not None:
        return json.loads(cached)
    value = await compute()
    await redis_client.set(key, json.dumps(value), ex=300)
    return value
