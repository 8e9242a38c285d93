"""Instances whose type the analysis follows: factories, ``with``, attributes, annotations."""

import pathlib
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Optional, Union

import requests

SESSION = requests.Session()


class Client:
    def __init__(self) -> None:
        self.session = requests.Session()
        self.lock = threading.Lock()

    async def fetch(self, url: str) -> bytes:
        return self.session.get(url).content  # UNS103

    async def guarded(self) -> None:
        with self.lock:  # UNS108
            pass

    def refresh(self, url: str) -> None:
        # A thread holds the lock across a request: the loop may wait for it.
        with self.lock:
            self.session.get(url)


class Annotated:
    session: requests.Session

    async def fetch(self, url: str) -> None:
        self.session.post(url)  # UNS103


def make_session() -> requests.Session:
    return requests.Session()


async def module_level_session(url: str) -> None:
    SESSION.get(url)  # UNS103


async def local_session(url: str) -> None:
    session = requests.Session()
    session.get(url)  # UNS103
    response = session.head(url)  # UNS103
    response.json()


async def returned_session(url: str) -> None:
    make_session().get(url)  # UNS103


async def annotated_parameter(session: requests.Session, url: str) -> None:
    session.put(url)  # UNS103


async def optional_parameter(session: requests.Session | None, url: str) -> None:
    if session is not None:
        session.delete(url)  # UNS103


async def with_open(name: str) -> str:
    with open(name) as handle:  # UNS102
        return handle.read()  # UNS102


async def database_chain() -> None:
    connection = sqlite3.connect("app.db")  # UNS107
    cursor = connection.cursor()
    cursor.execute("select 1")  # UNS107
    cursor.fetchall()  # UNS107


async def paths(name: str) -> None:
    Path(name).read_text()  # UNS102
    pathlib.Path(name).with_suffix(".txt").exists()  # UNS102
    folder = Path(name)
    folder.mkdir()  # UNS102
    (folder / "settings.toml").read_text()  # UNS102
    (Path(name) / "a" / "b").unlink()  # UNS102
    str(folder / "x")


async def executor_exit() -> None:
    with ThreadPoolExecutor() as pool:  # UNS108
        pool.submit(print, "hi")


async def generic_annotations(
    a: Optional[requests.Session],
    b: Union[None, requests.Session],
    c: Annotated[requests.Session, "injected"],
    d: "requests.Session | None",
    e: list[requests.Session],
    f: Union[requests.Session, int],
) -> None:
    a.get("u")  # UNS103
    b.get("u")  # UNS103
    c.get("u")  # UNS103
    d.get("u")  # UNS103
    e.append(requests.Session())
    f.get("u")
