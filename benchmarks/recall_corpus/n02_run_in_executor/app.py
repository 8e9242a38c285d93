import asyncio
import hashlib


def hash_password(password, salt):
    return hashlib.pbkdf2_hmac("sha256", password, salt, 600_000)


async def register(password, salt):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, hash_password, password, salt)
