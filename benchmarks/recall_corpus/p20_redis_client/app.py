import redis

cache = redis.Redis(host="localhost", port=6379)


async def cached_profile(user_id):
    value = cache.get(f"profile:{user_id}")  # expect
    return value
