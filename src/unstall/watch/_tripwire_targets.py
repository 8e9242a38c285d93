"""The callables the tripwire wraps because CPython raises no audit event for them.

A data table: each entry names where the callable lives and when a call to it blocks (a
socket in blocking mode, an event not yet set, a queue that is empty, ...). A wrapper is
installed only for names the catalog knows, and only where no audit event covers the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ("TARGETS", "Predicate", "Target", "blocking_socket")


def blocking_socket(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether the socket (``args[0]``) is in blocking mode or has a timeout."""
    try:
        return bool(args[0].gettimeout() != 0.0)
    except (OSError, IndexError, AttributeError):
        return False


def _timeout_arg(args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
    return args[1] if len(args) > 1 else kwargs.get("timeout")


def _event_wait(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return not args[0].is_set() and _timeout_arg(args, kwargs) != 0


def _future_result(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return not args[0].done() and _timeout_arg(args, kwargs) != 0


def _thread_join(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return bool(args[0].is_alive()) and _timeout_arg(args, kwargs) != 0


def _sleep(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return not args or args[0] != 0


def _always(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return True


def _queue_get(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    block = args[1] if len(args) > 1 else kwargs.get("block", True)
    timeout = args[2] if len(args) > 2 else kwargs.get("timeout")
    return bool(block) and timeout != 0 and bool(args[0].empty())


def _process_running(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return args[0].returncode is None and _timeout_arg(args, kwargs) != 0


Predicate = Callable[[tuple[Any, ...], dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Target:
    """A callable to wrap: ``owner`` is a class in ``module`` ("" for a module-level function).

    ``audit_event`` names the event that makes the wrapper unnecessary where CPython raises it.
    """

    module: str
    owner: str
    attr: str
    blocks: Predicate
    audit_event: str | None = None


_SOCKET_METHODS = (
    "recv",
    "recv_into",
    "recvfrom",
    "recvfrom_into",
    "send",
    "sendall",
    "sendto",
    "accept",
)
# qualified name -> what to wrap; installed only for names the catalog knows
TARGETS: dict[str, Target] = {
    "time.sleep": Target("time", "", "sleep", _sleep, audit_event="time.sleep"),
    **{
        f"socket.socket.{m}": Target("socket", "socket", m, blocking_socket)
        for m in _SOCKET_METHODS
    },
    "threading.Event.wait": Target("threading", "Event", "wait", _event_wait),
    "threading.Thread.join": Target("threading", "Thread", "join", _thread_join),
    "concurrent.futures.Future.result": Target(
        "concurrent.futures", "Future", "result", _future_result
    ),
    "queue.Queue.get": Target("queue", "Queue", "get", _queue_get),
    "subprocess.Popen.wait": Target("subprocess", "Popen", "wait", _process_running),
    "subprocess.Popen.communicate": Target("subprocess", "Popen", "communicate", _process_running),
    **{
        f"ssl.SSLContext.{m}": Target("ssl", "SSLContext", m, _always)
        for m in (
            "load_verify_locations",
            "load_cert_chain",
            "load_default_certs",
            "set_default_verify_paths",
        )
    },
    "hashlib.pbkdf2_hmac": Target("hashlib", "", "pbkdf2_hmac", _always),
    "hashlib.scrypt": Target("hashlib", "", "scrypt", _always),
}
