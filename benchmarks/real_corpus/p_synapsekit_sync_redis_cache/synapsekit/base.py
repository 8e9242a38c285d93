# Reproduces: https://github.com/SynapseKit/SynapseKit/issues/777 — async generate() reads a cache object whose get() is a sync redis.Redis call
import hashlib

from .redis_cache import RedisLLMCache


class BaseLLM:
    def __init__(self, model, cache: RedisLLMCache | None = None):
        self.model = model
        self._cache = cache

    async def _call_model(self, prompt):
        raise NotImplementedError

    async def generate(self, prompt):
        key = hashlib.sha256(f"{self.model}:{prompt}".encode()).hexdigest()
        if self._cache is not None:
            cached = self._cache.get(key)  # expect
            if cached is not None:
                return cached
        return await self._call_model(prompt)
