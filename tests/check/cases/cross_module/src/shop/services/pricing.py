import hashlib

from ..config import defaults


def price_token(secret: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", secret, b"salt", 200_000)


def currency() -> object:
    return defaults()["currency"]
