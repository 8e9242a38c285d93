"""Blocking reached through sync code in one module: helpers, methods, constructors, properties,
generators, decorators, nested functions, recursion and cycles."""

import contextlib
import functools
import smtplib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import requests


def fetch(url: str) -> bytes:
    return requests.get(url).content


def fetch_twice(url: str) -> bytes:
    return fetch(url) + fetch(url)


def pure(values: list[int]) -> int:
    return sum(values)


class Repository:
    def __init__(self, path: str) -> None:
        with open(path) as handle:
            self.text = handle.read()

    @property
    def remote(self) -> bytes:
        return fetch("https://example.com")

    @property
    def size(self) -> int:
        return len(self.text)

    def lines(self) -> Iterator[str]:
        with open("data.txt") as handle:
            yield from handle

    def load(self) -> bytes:
        return fetch("https://example.com")

    @staticmethod
    def static_wait() -> None:
        time.sleep(1)

    @classmethod
    def build(cls) -> "Repository":
        return cls("x")


class Child(Repository):
    def reload(self) -> bytes:
        return self.load()


class Lazy:
    def __init__(self) -> None:
        self.ready = False


def retry(function: Callable[..., object]) -> Callable[..., object]:
    @functools.wraps(function)
    def wrapper(*args: object) -> object:
        time.sleep(0.1)
        return function(*args)

    return wrapper


@retry
def decorated() -> int:
    return 1


def countdown(n: int) -> int:
    if n <= 0:
        time.sleep(1)
        return 0
    return countdown(n - 1)


def ping(n: int) -> None:
    if n:
        pong(n - 1)


def pong(n: int) -> None:
    if n:
        ping(n - 1)


def ping_blocking(n: int) -> None:
    pong_blocking(n)


def pong_blocking(n: int) -> None:
    ping_blocking(n)
    time.sleep(n)


async def helpers(url: str) -> None:
    fetch(url)  # UNS103
    fetch_twice(url)  # UNS103
    pure([1, 2])


async def classes() -> None:
    repository = Repository("x")  # UNS102
    repository.remote  # UNS103
    repository.size
    repository.load()  # UNS103
    Child("y").reload()  # UNS102 UNS103
    Repository.static_wait()  # UNS101
    Repository.build()  # UNS102
    Lazy()


async def generators() -> None:
    repository = Repository("x")  # UNS102
    for line in repository.lines():  # UNS102
        print(line)
    lines = repository.lines()
    print(lines)
    print(list(repository.lines()))  # UNS102
    print([line for line in repository.lines()])  # UNS102


async def decorators() -> None:
    decorated()  # UNS101


async def recursion() -> None:
    countdown(3)  # UNS101
    ping(3)
    ping_blocking(3)  # UNS101


async def closures(url: str) -> None:
    def inner() -> bytes:
        return fetch(url)

    def unused() -> None:
        time.sleep(1)

    inner()  # UNS103


async def calls_a_coroutine_function() -> None:
    await other_coroutine()


async def other_coroutine() -> None:
    time.sleep(1)  # UNS101


class Base:
    def __init__(self) -> None:
        self.data = fetch("https://example.com")

    def save(self) -> None:
        pass


class Derived(Base):
    def __init__(self) -> None:
        super().__init__()

    def save(self) -> None:
        super().save()
        time.sleep(1)


class Quiet(Base):
    def __init__(self) -> None:
        pass


async def super_calls() -> None:
    Derived()  # UNS103
    Quiet()


@contextlib.contextmanager
def opened(name: str) -> Iterator[str]:
    with open(name) as handle:
        yield handle.read()


async def context_managers() -> None:
    with opened("x") as text:  # UNS102
        print(text)


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value = 0

    def increment(self) -> None:
        with self.lock:
            self.value += 1

    def save(self) -> None:
        # A thread may hold the lock across a network call: taking it on the loop waits for it.
        with self.lock:
            requests.post("https://example.com/counter", json=self.value)

    def drain(self) -> None:
        with ThreadPoolExecutor() as pool:
            pool.submit(print)


# Every section of this lock is in-memory work: taking it never waits long.
TALLY_LOCK = threading.Lock()
TALLY = [0]


async def thread_primitives(counter: Counter) -> None:
    counter.increment()
    with counter.lock:  # UNS108
        pass
    with TALLY_LOCK:
        TALLY[0] += 1
    counter.drain()  # UNS108


class Mailer(smtplib.SMTP):
    def greet(self) -> None:
        self.send_message("hello")


class OwnInit(smtplib.SMTP):
    def __init__(self) -> None:
        pass


async def subclassed_outside_classes() -> None:
    mailer = Mailer("localhost")  # UNS103
    mailer.greet()  # UNS103
    OwnInit()


def retry_times(times: int) -> Callable[[Callable[..., object]], Callable[..., object]]:
    def decorate(function: Callable[..., object]) -> Callable[..., object]:
        def again(*args: object) -> object:
            for _ in range(times):
                time.sleep(0.1)
            return function(*args)

        return again

    return decorate


ROUTES: dict[str, Callable[..., object]] = {}


def route(path: str) -> Callable[[Callable[..., object]], Callable[..., object]]:
    def register(function: Callable[..., object]) -> Callable[..., object]:
        time.sleep(0.1)  # runs once, when the module is imported
        ROUTES[path] = function
        return function

    return register


@retry_times(3)
def flaky() -> int:
    return 1


@route("/home")
def home() -> str:
    return "home"


async def decorator_factories() -> None:
    flaky()  # UNS101
    home()


class Job:
    def __call__(self) -> None:
        time.sleep(1)


class Plain:
    pass


async def callable_instances() -> None:
    job = Job()
    job()  # UNS101
    plain = Plain()
    print(plain)


def numbers() -> list[int]:
    time.sleep(1)
    return [1, 2]


def generated() -> Iterator[int]:
    time.sleep(1)
    yield 1


async def iterating_names() -> None:
    lines = Repository("x").lines()  # UNS102
    for line in lines:  # UNS102
        print(line)
    values = numbers()  # UNS101
    for value in values:
        print(value)
    later = generated()
    print([item for item in later])  # UNS101


class Config:
    def __init__(self) -> None:
        self._level = 0
        self.plain = 0

    @property
    def level(self) -> int:
        return self._level

    @level.setter
    def level(self, value: int) -> None:
        with open("level.txt", "w") as handle:
            handle.write(str(value))
        self._level = value

    @level.deleter
    def level(self) -> None:
        time.sleep(1)


async def setters(config: Config) -> None:
    config.level = 3  # UNS102
    print(config.level)
    config.plain = 1
