from collections.abc import Awaitable, Callable
from typing import Any


def run_blocking(function: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    raise NotImplementedError


def threaded(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    raise NotImplementedError
