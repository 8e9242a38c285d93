"""Names reach the catalog through every form of import."""

import os.path
import subprocess as sp
import time as t
from os import path as p
from time import sleep as nap

import requests as r
from requests import Session as HttpSession
from requests import get


async def handler(url: str) -> None:
    nap(1)  # UNS101
    t.sleep(1)  # UNS101
    r.get(url)  # UNS103
    get(url)  # UNS103
    sp.check_output(["ls"])  # UNS106
    p.isfile("x")  # UNS102
    os.path.getsize("x")  # UNS102
    HttpSession().get(url)  # UNS103


async def local_import() -> None:
    import shutil as sh

    sh.copyfile("a", "b")  # UNS102


async def local_from_import() -> None:
    from subprocess import run as execute

    execute(["ls"])  # UNS106
