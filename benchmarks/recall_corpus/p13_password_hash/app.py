import hashlib
import os


def hash_password(password, salt=None):
    salt = salt or os.urandom(16)
    return salt + hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)


async def register(db, email, password):
    digest = hash_password(password)  # expect
    await db.insert(email=email, password=digest)
