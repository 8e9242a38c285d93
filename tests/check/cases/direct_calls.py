"""Blocking calls written directly in an ``async def``, one of each kind."""

import asyncio
import hashlib
import importlib
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
import urllib.request

import requests


async def sleeps() -> None:
    time.sleep(1)  # UNS101
    await asyncio.sleep(1)


async def files(path: str) -> None:
    open(path)  # UNS102
    os.listdir(path)  # UNS102
    shutil.rmtree(path)  # UNS102
    os.path.exists(path)  # UNS102
    os.path.join(path, "x")


async def network(url: str) -> None:
    requests.get(url)  # UNS103
    requests.post(url, data=b"x")  # UNS103
    urllib.request.urlopen(url)  # UNS103


async def dns(host: str) -> None:
    socket.getaddrinfo(host, 80)  # UNS104
    socket.gethostbyname(host)  # UNS104


async def certificates() -> None:
    ssl.create_default_context()  # UNS105


async def processes() -> None:
    subprocess.run(["ls"])  # UNS106
    os.system("ls")  # UNS106


async def database() -> None:
    sqlite3.connect("app.db")  # UNS107


async def threads(thread: threading.Thread) -> None:
    thread.join()  # UNS108
    thread.join(timeout=0)


async def cpu(password: bytes) -> None:
    hashlib.pbkdf2_hmac("sha256", password, b"salt", 100_000)  # UNS109
    hashlib.sha256(password)


async def imports() -> None:
    importlib.import_module("json")  # UNS110


def not_reached_from_async() -> None:
    time.sleep(1)
    requests.get("https://example.com")


async def nested_in_expressions(url: str) -> list[str]:
    results = [requests.get(url).text]  # UNS103
    print(time.sleep(1) or "slept")  # UNS101
    return results


async def every_kind_offloaded(path: str, url: str, password: bytes) -> None:
    await asyncio.to_thread(time.sleep, 1)
    await asyncio.to_thread(os.listdir, path)
    await asyncio.to_thread(requests.get, url)
    await asyncio.to_thread(socket.getaddrinfo, url, 80)
    await asyncio.to_thread(ssl.create_default_context)
    await asyncio.to_thread(subprocess.run, ["ls"])
    await asyncio.to_thread(sqlite3.connect, "app.db")
    await asyncio.to_thread(threading.Event().wait)
    await asyncio.to_thread(hashlib.pbkdf2_hmac, "sha256", password, b"salt", 1)
    await asyncio.to_thread(importlib.import_module, "json")


async def every_kind_async_native(path: str) -> None:
    await asyncio.sleep(1)
    process = await asyncio.create_subprocess_exec("ls")
    await process.wait()
    await asyncio.get_running_loop().getaddrinfo("localhost", 80)
    reader, writer = await asyncio.open_connection("localhost", 80)
    writer.close()
    await asyncio.Event().wait()
