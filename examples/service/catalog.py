"""The shop's data access and helpers, written the way sync code usually is.

Every function here is fine in a sync program. Called from an ``async def`` handler, each one
holds the event loop's only thread until it returns.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

import requests

UPSTREAM = os.environ.get("SHOP_UPSTREAM", "http://127.0.0.1:8081")
DB_PATH = Path(os.environ.get("SHOP_DB", Path(__file__).with_name("shop.sqlite")))

_session = requests.Session()


def ensure_database(path: Path = DB_PATH, rows: int = 40_000) -> None:
    """Create the demo database once: a table of items without an index on the name."""
    if path.exists():
        return
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
        conn.executemany(
            "INSERT INTO items (name, price) VALUES (?, ?)",
            ((f"item-{i * 7919 % 100_003}", (i * 37 % 1000) / 10.0) for i in range(rows)),
        )
    conn.close()


def fetch_stock(item_id: int) -> str:
    """Ask the warehouse service how many are left (a blocking HTTP call)."""
    response = _session.get(f"{UPSTREAM}/", params={"item": item_id}, timeout=5)
    return response.text.strip()


def find_similar(item_id: int) -> int:
    """Count items with a similar name (a blocking query that scans the table)."""
    conn = sqlite3.connect(DB_PATH)
    try:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM items WHERE name LIKE ?", (f"%{item_id % 100}%",)
        ).fetchone()
        return int(count)
    finally:
        conn.close()


def sign(payload: str) -> str:
    """Sign the response for the client (a key-derivation hash: pure CPU)."""
    return hashlib.pbkdf2_hmac("sha256", payload.encode(), b"demo-salt", 20_000).hex()[:16]


def rate_limit() -> None:
    """Be nice to the warehouse service (a blocking sleep)."""
    time.sleep(0.005)
