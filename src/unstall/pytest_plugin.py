"""pytest plugin: fail a test that stalls its event loop or makes a blocking call on it.

Off unless asked for: ``pytest --unstall``, ``unstall = true`` in the ini file, or an
``@pytest.mark.unstall(...)`` marker on the test. While a test runs (its call phase), a
:class:`unstall.watch.Watcher` watches every event loop that runs: the test fails when a loop
stalled longer than ``unstall_threshold_ms`` (default 100) or, with the tripwire on (the
default), when a known blocking call ran on a loop's thread, however short. The failure names
the blamed line, the call and its rule code, the duration and the stack. With the hygiene
check on (``--unstall-hygiene=yes``), a test also fails when it loses a task (destroyed while
pending, or its exception never retrieved), leaves a coroutine never awaited, or lets a
transport or client session be collected open: with the line that made it. Works with any real
loop: pytest-asyncio, anyio's pytest plugin, or ``asyncio.run`` inside a sync test.

The tripwire uses the project's ``[tool.unstall]`` settings too: extra ``blocking`` entries
extend the catalog, and ``[tool.unstall.watch] allow`` is added to every test's allow-list.

Options (command line overrides ini)::

    --unstall                  / unstall = true
    --unstall-threshold-ms=MS  / unstall_threshold_ms = 100
    --unstall-tripwire=yes|no  / unstall_tripwire = true
    --unstall-hygiene=yes|no   / unstall_hygiene = false

Markers::

    @pytest.mark.unstall(threshold_ms=50, tripwire=True, hygiene=True, allow=["myapp.cache.load"])
    @pytest.mark.allow_blocking   # this test may block its loop: nothing is checked
"""

from __future__ import annotations

import gc
import math
import os
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pytest

from unstall._limits import THRESHOLD_MS_RANGE, valid_threshold_ms

if TYPE_CHECKING:
    from unstall.watch import Frame, StallEvent, TripwireEvent, Watcher

__all__ = ()

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_MARKER_KEYS = ("threshold_ms", "tripwire", "hygiene", "allow")
_HIDDEN_MODULES = ("_pytest", "pluggy", "pytest_asyncio", "unstall")
_MAX_STACK = 12


@dataclass(frozen=True, slots=True)
class _Settings:
    enabled: bool
    threshold_ms: float
    tripwire: bool
    allow: tuple[str, ...] = ()
    hygiene: bool = False


_SETTINGS = pytest.StashKey[_Settings]()
_ITEM_SETTINGS = pytest.StashKey["_Settings | None"]()
# the project's [tool.unstall] settings the tripwire uses: a catalog with the user's blocking
# entries (None: the built-in one) and [tool.unstall.watch] allow
_PROJECT = pytest.StashKey["tuple[Any, tuple[str, ...]]"]()
# allow-list items given in markers, and those that allowed at least one call, over the session
_ALLOW_SEEN = pytest.StashKey[dict[str, str]]()
_ALLOW_FIRED = pytest.StashKey[set[str]]()
_SENTINEL_HELD = pytest.StashKey[bool]()  # whether this session holds the sentinel


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("unstall", "unstall: fail tests that stall their event loop")
    group.addoption(
        "--unstall",
        action="store_true",
        default=None,
        help="fail a test that stalls its event loop or makes a blocking call on it",
    )
    group.addoption(
        "--unstall-threshold-ms",
        dest="unstall_threshold_ms",
        default=None,
        metavar="MS",
        help="a loop stall longer than this fails the test (default: 100)",
    )
    group.addoption(
        "--unstall-tripwire",
        dest="unstall_tripwire",
        default=None,
        metavar="yes|no",
        help="also fail on any known blocking call on a running loop, however short (default: yes)",
    )
    group.addoption(
        "--unstall-hygiene",
        dest="unstall_hygiene",
        default=None,
        metavar="yes|no",
        help="also fail on a task lost, a coroutine never awaited or a resource left open (default: no)",
    )
    parser.addini("unstall", "check every test for event-loop stalls (true/false)", default="false")
    parser.addini(
        "unstall_hygiene",
        "fail on a task lost, a coroutine never awaited or a resource left open",
        default="false",
    )
    parser.addini(
        "unstall_threshold_ms", "loop stall in milliseconds that fails a test", default="100"
    )
    parser.addini(
        "unstall_tripwire", "fail on any known blocking call on a running loop", default="true"
    )


def _bool(value: object, option: str) -> bool:
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(
        f"unstall: {option} = {value!r} is not a valid setting; use true or false "
        f"(e.g. {option} = true)."
    )


def _threshold(value: object, option: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        number = math.nan
    if not valid_threshold_ms(number):
        low, high = THRESHOLD_MS_RANGE
        raise ValueError(
            f"unstall: {option} = {value!r} is not a valid setting; use a number of "
            f"milliseconds from {low:g} to {high:g} (e.g. {option} = 100)."
        )
    return number


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "unstall(threshold_ms=100, tripwire=True, allow=[]): check this test for event-loop "
        "stalls and blocking calls, with these settings",
    )
    config.addinivalue_line(
        "markers", "allow_blocking: this test may block its event loop; unstall checks nothing"
    )
    config.stash[_ALLOW_SEEN] = {}
    config.stash[_ALLOW_FIRED] = set()
    try:
        config.stash[_SETTINGS] = settings = _config_settings(config)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if settings.enabled:
        try:
            _project(config)
        except Exception as error:  # ConfigError, CatalogError: the message names key and fix
            raise pytest.UsageError(f"unstall: {error}") from None


def _project(config: pytest.Config) -> tuple[Any, tuple[str, ...]]:
    """The catalog and allow-list from the project's ``[tool.unstall]`` settings (read once)."""
    cached = config.stash.get(_PROJECT, None)
    if cached is None:
        from unstall._config import load_config

        project = load_config(start=config.rootpath)
        catalog = project.catalog() if project.blocking else None
        cached = config.stash[_PROJECT] = (catalog, tuple(project.watch.allow))
    return cached


def _config_settings(config: pytest.Config) -> _Settings:
    cli_enabled = config.getoption("unstall", None)
    cli_threshold = config.getoption("unstall_threshold_ms", None)
    cli_tripwire = config.getoption("unstall_tripwire", None)
    enabled = bool(cli_enabled) or _bool(config.getini("unstall"), "unstall")
    threshold = (
        _threshold(cli_threshold, "--unstall-threshold-ms")
        if cli_threshold is not None
        else _threshold(config.getini("unstall_threshold_ms"), "unstall_threshold_ms")
    )
    tripwire = (
        _bool(cli_tripwire, "--unstall-tripwire")
        if cli_tripwire is not None
        else _bool(config.getini("unstall_tripwire"), "unstall_tripwire")
    )
    cli_hygiene = config.getoption("unstall_hygiene", None)
    hygiene = (
        _bool(cli_hygiene, "--unstall-hygiene")
        if cli_hygiene is not None
        else _bool(config.getini("unstall_hygiene"), "unstall_hygiene")
    )
    return _Settings(enabled, threshold, tripwire, hygiene=hygiene)


def _item_settings(item: pytest.Item) -> _Settings | None:
    """What to check for ``item``, or ``None`` when nothing is; raises ``ValueError`` for a bad marker."""
    base = item.config.stash.get(_SETTINGS, None)
    if base is None or item.get_closest_marker("allow_blocking") is not None:
        return None
    marker = item.get_closest_marker("unstall")
    if marker is None:
        return base if base.enabled else None
    if marker.args:
        raise ValueError(
            f"unstall: @pytest.mark.unstall takes keyword arguments only "
            f"({', '.join(_MARKER_KEYS)}), got {marker.args!r} on {item.nodeid}."
        )
    unknown = sorted(set(marker.kwargs) - set(_MARKER_KEYS))
    if unknown:
        raise ValueError(
            f"unstall: @pytest.mark.unstall got unknown argument(s) {', '.join(map(repr, unknown))} "
            f"on {item.nodeid}; valid ones are {', '.join(_MARKER_KEYS)}."
        )
    settings = replace(base, enabled=True)
    if "threshold_ms" in marker.kwargs:
        threshold = marker.kwargs["threshold_ms"]
        settings = replace(
            settings, threshold_ms=_threshold(threshold, "@pytest.mark.unstall threshold_ms")
        )
    if "tripwire" in marker.kwargs:
        settings = replace(
            settings, tripwire=_bool(marker.kwargs["tripwire"], "@pytest.mark.unstall tripwire")
        )
    if "hygiene" in marker.kwargs:
        settings = replace(
            settings, hygiene=_bool(marker.kwargs["hygiene"], "@pytest.mark.unstall hygiene")
        )
    if "allow" in marker.kwargs:
        allow = marker.kwargs["allow"]
        if isinstance(allow, str) or not isinstance(allow, Iterable):
            raise ValueError(
                f"unstall: @pytest.mark.unstall(allow={allow!r}) on {item.nodeid} must be a list "
                "of module, function or catalog entry names, e.g. allow=['myapp.cache.load']."
            )
        from unstall.watch._tripwire_allow import AllowList

        AllowList(allow)  # raises ValueError naming a bad item
        settings = replace(settings, allow=tuple(allow))
    return settings


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    item.stash[_ITEM_SETTINGS] = None
    try:
        item.stash[_ITEM_SETTINGS] = _item_settings(item)
    except ValueError as error:
        pytest.fail(str(error), pytrace=False)
    return (yield from _watched(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _watched(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _watched(item, "teardown"))


def _watched(item: pytest.Item, when: str) -> Generator[None, Any, Any]:
    """Run one phase of ``item`` (async fixtures run in setup and teardown) under a watcher."""
    settings = item.stash.get(_ITEM_SETTINGS, None)
    if settings is None:
        return (yield)
    from unstall.watch import Tripwire, Watcher

    tripwire: Tripwire | bool = False
    if settings.tripwire:
        try:
            catalog, project_allow = _project(item.config)
        except Exception as error:  # a marker opted in, and the project settings are broken
            pytest.fail(f"unstall: {error}", pytrace=False)
        allow = (*project_allow, *settings.allow)
        tripwire = Tripwire("record", allow=allow, catalog=catalog)
    _keep_sentinel(item.config)
    watcher = Watcher(settings.threshold_ms, tripwire=tripwire, log=False, hygiene=settings.hygiene)
    watcher.start()
    try:
        result = yield
    except BaseException:
        _stop(watcher, settings)
        _note_allow(item, tripwire)
        text = _render(item, watcher, settings, when)
        if text:
            item.add_report_section(when, "unstall", text)
        raise
    _stop(watcher, settings)
    _note_allow(item, tripwire)
    text = _render(item, watcher, settings, when)
    if text:
        pytest.fail(text, pytrace=False)
    return result


def _stop(watcher: Watcher, settings: _Settings) -> None:
    if settings.hygiene:
        # what the phase dropped is reported when it is collected: collect it now, in the phase
        gc.collect()
    watcher.stop()


def _keep_sentinel(config: pytest.Config) -> None:
    """Hold the watch's sentinel process for the session: the watchers of every test phase share
    one, instead of each starting and stopping its own."""
    if config.stash.get(_SENTINEL_HELD, False):
        return
    from unstall.watch import _sentinel

    config.stash[_SENTINEL_HELD] = True
    if _sentinel.acquire() is not None:
        config.add_cleanup(_sentinel.release)


def _note_allow(item: pytest.Item, tripwire: object) -> None:
    from unstall.watch import Tripwire

    if isinstance(tripwire, Tripwire):
        seen = item.config.stash[_ALLOW_SEEN]
        project_allow = item.config.stash.get(_PROJECT, (None, ()))[1]
        for name in tripwire.allow.items:
            origin = "[tool.unstall.watch] allow" if name in project_allow else item.nodeid
            seen.setdefault(name, origin)
        item.config.stash[_ALLOW_FIRED].update(tripwire.allow.fired())


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    seen = config.stash.get(_ALLOW_SEEN, {})
    fired: set[str] = config.stash.get(_ALLOW_FIRED, set())
    unused = sorted(set(seen) - fired)
    if unused:
        terminalreporter.section("unstall: allow-list entries that never allowed a call")
        for name in unused:
            terminalreporter.line(f"{name!r} (from {seen[name]})")


# ---- the failure message ------------------------------------------------------------------------------


def _where(item: pytest.Item, frame: Frame | None) -> str:
    if frame is None:
        return "an unknown place"
    if frame.filename.startswith("<C"):  # a C function the sampled frame was calling
        return f"{frame.module}.{frame.function} (C)" if frame.module else f"{frame.function} (C)"
    path = frame.filename
    try:
        rel = os.path.relpath(path, item.config.rootpath)
        if not rel.startswith(".."):
            path = rel
    except ValueError:
        pass
    return f"{path}:{frame.lineno} in {frame.function}" + (
        f": {frame.source}" if frame.source else ""
    )


def _hidden(frame: Frame) -> bool:
    return any(frame.module == m or frame.module.startswith(m + ".") for m in _HIDDEN_MODULES)


def _shown(stack: Sequence[Frame]) -> list[Frame]:
    """The user's frames, then the library frames under the innermost one: the path to the block."""
    from unstall.watch._frames import is_user_file

    user = [i for i, f in enumerate(stack) if is_user_file(f.filename)]
    first = user[0] if user else 0
    last = user[-1] if user else 0
    shown: list[Frame] = []
    after_hidden = False
    for i, frame in enumerate(stack[first:], start=first):
        if _hidden(frame):
            after_hidden = True
            continue
        # a C callee seen through one of unstall's own wrappers is the wrapper's plumbing
        if not (frame.filename.startswith("<C") and after_hidden) and (i >= last or i in user):
            shown.append(frame)
        after_hidden = False
    return shown[-_MAX_STACK:]


def _stall_stack(stall: StallEvent) -> tuple[Frame, ...]:
    """The stack a failure shows for ``stall``: the fullest one that holds the blamed line (a
    sample taken as the stall ended, the loop back in its own code, may be longer but is not
    the stall's)."""
    holding = [stack for stack in stall.stacks if stall.blamed in stack] or stall.stacks
    return max(holding, key=len) if holding else ()


def _stack(item: pytest.Item, stack: Sequence[Frame]) -> list[str]:
    return ["  stack (most recent call last):", *(f"    {_where(item, f)}" for f in _shown(stack))]


def _render(item: pytest.Item, watcher: Watcher, settings: _Settings, when: str = "call") -> str:
    stalls: Iterable[StallEvent] = watcher.events
    calls: Iterable[TripwireEvent] = watcher.blocking_calls
    lines: list[str] = []
    for call in calls:
        took = "" if call.duration is None else f" for {call.duration * 1e3:.1f} ms"
        lines += [
            f"blocking call {call.name}({call.detail}) [{call.code}, {call.kind}] ran{took} "
            "on the event loop's thread",
            f"  at {_where(item, call.blamed)}",
        ]
        if call.fix:
            lines.append(f"  fix: {call.fix}")
        lines += [*_stack(item, call.stack), ""]
    for stall in stalls:
        if stall.duration * 1e3 < settings.threshold_ms:
            continue
        code = f" [{stall.code}]" if stall.code else ""
        lines += [
            f"event loop stalled for {stall.duration * 1e3:.1f} ms ({stall.cause.value}){code}; "
            f"threshold {settings.threshold_ms:g} ms",
            f"  at {_where(item, stall.blamed)}",
        ]
        stack = _stall_stack(stall)
        shown = _shown(stack)
        if shown and shown[-1] != stall.blamed:
            lines.append(f"  inside {_where(item, shown[-1])}")
        if stall.fix:
            lines.append(f"  fix: {stall.fix}")
        if stack:
            lines += _stack(item, stack)
        lines.append("")
    blocked = bool(lines)
    for mistake in watcher.hygiene:
        lines += [f"{mistake.kind} [{mistake.code}]: {mistake.name}"]
        lines += [f"  at {_where(item, mistake.where)}", ""] if mistake.where else [""]
    if not lines:
        return ""
    phase = {"setup": " while setting up", "teardown": " while tearing down"}.get(when, "")
    if not blocked:
        return "\n".join([f"unstall: this test made asyncio mistakes{phase}.", "", *lines]).rstrip()
    header = (
        f"unstall: this test blocked its event loop{phase} (mark it @pytest.mark.allow_blocking, "
        "or allow a name with @pytest.mark.unstall(allow=[...]), if that is intended)."
    )
    return "\n".join([header, "", *lines]).rstrip()
