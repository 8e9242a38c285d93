"""The watchdog's settings: [tool.unstall.watch] keys, UNSTALL_* variables, their errors and precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

import unstall.watch._process as process
from unstall._config import load_config
from unstall._watch_config import Address, WatchConfig, parse_address, watch_from_env
from unstall.errors import ConfigError
from unstall.watch import watch

TABLE = """
[tool.unstall.watch]
threshold-ms = 40
tripwire = false
metrics = "127.0.0.1:0"
html = "report.html"
log = true
log-rate = 5
log-burst = 20
log-error-ms = 750
max-routes = 30
"""


def test_every_key_of_the_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(TABLE)
    assert load_config(start=tmp_path).watch == WatchConfig(
        threshold_ms=40.0,
        metrics="127.0.0.1:0",
        html="report.html",
        log_rate=5.0,
        log_burst=20,
        log_error_ms=750.0,
        max_routes=30,
    )
    (tmp_path / "pyproject.toml").write_text("[tool.unstall.watch]\nlog-error-ms = false\n")
    assert load_config(start=tmp_path).watch.log_error_ms is None


@pytest.mark.parametrize(
    ("line", "key", "shown"),
    [
        ('metrics = "localhost"', "tool.unstall.watch.metrics", "'localhost'"),
        ("metrics = 9464", "tool.unstall.watch.metrics", "9464"),
        ("log-rate = -1", "tool.unstall.watch.log-rate", "-1"),
        ("log-burst = 0", "tool.unstall.watch.log-burst", "0"),
        ("log-error-ms = true", "tool.unstall.watch.log-error-ms", "True"),
        ("max-routes = 1.5", "tool.unstall.watch.max-routes", "1.5"),
        ("metric = ':9'", "tool.unstall.watch.metric", "Did you mean 'metrics'"),
    ],
)
def test_bad_table_values_name_the_key(tmp_path: Path, line: str, key: str, shown: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.unstall.watch]\n{line}\n")
    with pytest.raises(ConfigError) as info:
        load_config(start=tmp_path)
    assert info.value.key == key
    assert shown in str(info.value)


def test_the_environment_sets_every_setting() -> None:
    env = {
        "UNSTALL_THRESHOLD_MS": "25",
        "UNSTALL_TRIPWIRE": "yes",
        "UNSTALL_ALLOW": "app.warm, app.cache.fill",
        "UNSTALL_METRICS": ":9464",
        "UNSTALL_HTML": "/tmp/u.html",
        "UNSTALL_LOG": "off",
        "UNSTALL_LOG_RATE": "0",
        "UNSTALL_LOG_BURST": "3",
        "UNSTALL_LOG_ERROR_MS": "off",
        "UNSTALL_MAX_ROUTES": "7",
        "PATH": "/bin",
        "UNSTALL_SOMETHING_ELSE": "not ours",
    }
    assert watch_from_env(env) == WatchConfig(
        threshold_ms=25.0,
        tripwire=True,
        allow=("app.warm", "app.cache.fill"),
        metrics=":9464",
        html="/tmp/u.html",
        log=False,
        log_rate=0.0,
        log_burst=3,
        log_error_ms=None,
        max_routes=7,
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        (
            "UNSTALL_THRESHOLD_MS",
            "fast",
            "UNSTALL_THRESHOLD_MS='fast' in the environment is invalid",
        ),
        ("UNSTALL_THRESHOLD_MS", "0", "from 1 to 60000"),
        ("UNSTALL_TRIPWIRE", "maybe", "1, true, yes, on, 0, false, no, off"),
        ("UNSTALL_METRICS", "example.com", "HOST:PORT"),
        ("UNSTALL_METRICS", "::1:80", "[IPv6]:PORT"),
        ("UNSTALL_LOG_BURST", "-2", "whole number"),
        ("UNSTALL_ALLOW", "not a name", "dotted qualified names"),
        ("UNSTALL_TRESHOLD_MS", "50", "did you mean UNSTALL_THRESHOLD_MS"),
    ],
)
def test_bad_variables_are_clear_errors(variable: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        watch_from_env({variable: value})
    assert says in str(info.value)
    assert info.value.key == variable


def test_addresses() -> None:
    assert parse_address("127.0.0.1:9464") == Address("127.0.0.1", 9464)
    assert parse_address(":9464") == Address("", 9464)
    assert parse_address("9464") == Address("127.0.0.1", 9464)
    assert parse_address("[::1]:0") == Address("::1", 0)
    for bad in ("", "host:", "host:99999", "::1:80", "[::1]", "a:b:c"):
        with pytest.raises(ValueError, match="not an address"):
            parse_address(bad)


def test_watch_reads_the_table_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.unstall.watch]\nthreshold-ms = 40\nmax-routes = 9\nlog = false\n"
    )
    monkeypatch.chdir(tmp_path)
    w = watch()
    assert w.threshold == pytest.approx(0.040)
    assert w.report().routes == ()
    w.stop()
    process._current = None
    monkeypatch.setenv("UNSTALL_THRESHOLD_MS", "60")
    w = watch()
    assert w.threshold == pytest.approx(0.060)
    w.stop()
    process._current = None
    w = watch(threshold_ms=80)  # an argument wins over both
    assert w.threshold == pytest.approx(0.080)


def test_watch_refuses_a_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNSTALL_TRIPWIRE", "sometimes")
    with pytest.raises(ConfigError, match="UNSTALL_TRIPWIRE"):
        watch()
    assert process._current is None or not process._current.running
