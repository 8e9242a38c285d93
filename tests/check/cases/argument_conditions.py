"""Arguments that make a blocking callable return at once, given by keyword, by position, or as
named flags (``socket.AI_NUMERICHOST``); and the same calls without them, still flagged."""

from __future__ import annotations

import json
import os
import queue
import socket
import sys
import threading
from socket import AI_NUMERICHOST, AI_PASSIVE
from typing import IO


async def numeric_host_parse_only(address: str) -> None:
    socket.getaddrinfo(address, 0, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    socket.getaddrinfo(address, 0, flags=socket.AI_NUMERICHOST)
    socket.getaddrinfo(address, 0, 0, 0, 0, AI_NUMERICHOST | AI_PASSIVE)
    socket.getaddrinfo(address, 0, flags=socket.AI_PASSIVE | socket.AI_NUMERICHOST)


async def numeric_name_formatting_only(address: tuple[str, int]) -> None:
    socket.getnameinfo(address, socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
    socket.getnameinfo(address, socket.NI_NUMERICHOST)


async def reverse_lookup_still_asked(address: tuple[str, int]) -> None:
    socket.getnameinfo(address, 0)  # UNS104
    socket.getnameinfo(address, socket.NI_NUMERICSERV)  # UNS104


async def child_polled_without_waiting(pid: int) -> None:
    os.waitpid(pid, os.WNOHANG)
    os.wait4(pid, os.WNOHANG)
    os.wait3(os.WNOHANG)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG)


async def child_waited_for(pid: int) -> None:
    os.waitpid(pid, 0)  # UNS106
    os.wait4(pid, os.WUNTRACED)  # UNS106
    os.waitid(os.P_PID, pid, os.WEXITED)  # UNS106


async def resolver_still_asked(host: str, flags: int) -> None:
    socket.getaddrinfo(host, 443)  # UNS104
    socket.getaddrinfo(host, 443, flags=socket.AI_PASSIVE)  # UNS104
    socket.getaddrinfo(host, 0, 0, 0, 0, AI_PASSIVE)  # UNS104
    socket.getaddrinfo(host, 0, 0, 0, socket.AI_NUMERICHOST)  # UNS104
    socket.getaddrinfo(host, 0, flags=flags)  # UNS104
    socket.getaddrinfo(host, 0, flags=socket.AI_NUMERICHOST & flags)  # UNS104


def is_ip(text: str) -> bool:
    try:
        return bool(socket.getaddrinfo(text, 0, 0, 0, 0, socket.AI_NUMERICHOST))
    except socket.gaierror:
        return False


def lookup(host: str) -> bool:
    return bool(socket.getaddrinfo(host, 0))


async def through_helpers(text: str) -> None:
    is_ip(text)
    lookup(text)  # UNS104


async def positional_switches(lock: threading.Lock, jobs: queue.Queue[int]) -> None:
    lock.acquire(False)
    lock.acquire(True, 0)
    jobs.get(False)
    jobs.put(1, False)
    lock.acquire(True)  # UNS108
    jobs.get(True)  # UNS108
    jobs.put(False)  # UNS108


async def document_to_the_console(data: object) -> None:
    # the process's standard streams, as ``print(..., file=sys.stderr)`` is
    json.dump(data, sys.stderr)
    json.dump(data, fp=sys.stdout)


async def document_to_a_file(data: object, out: IO[str]) -> None:
    json.dump(data, out)  # UNS102
