# Reproduces: https://github.com/SynapseKit/SynapseKit/issues/777 — async generate() reads a cache object whose get() is a sync redis.Redis call
import json

import redis


class RedisLLMCache:
    def __init__(self, url="redis://localhost:6379/0"):
        self._client = redis.Redis.from_url(url)

    def get(self, key):
        raw = self._client.get(key)
        return json.loads(raw) if raw is not None else None

    def put(self, key, value):
        self._client.set(key, json.dumps(value))
