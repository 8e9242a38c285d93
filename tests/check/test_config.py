"""``[tool.unstall]`` loading: every key, valid and invalid, and where the file is found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from unstall._config import (
    DEFAULT_MAX_FILE_SIZE,
    Config,
    WatchConfig,
    find_config_file,
    load_config,
)
from unstall.errors import ConfigError


def write(tmp_path: Path, body: str, name: str = "pyproject.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def load(tmp_path: Path, body: str) -> Config:
    return load_config(write(tmp_path, "[tool.unstall]\n" + body))


def test_defaults_without_any_config_file(tmp_path: Path) -> None:
    config = load_config(start=tmp_path)
    assert config.source is None
    assert config.select == ("ALL",)
    assert config.max_file_size == DEFAULT_MAX_FILE_SIZE
    assert config.watch == WatchConfig()
    assert config.is_selected("UNS101")


@pytest.mark.parametrize(
    ("body", "attr", "expected"),
    [
        ('select = ["UNS1"]', "select", ("UNS1",)),
        ('select = ["ALL"]', "select", ("ALL",)),
        ('extend-select = ["UNS201"]', "extend_select", ("UNS201",)),
        ('ignore = ["UNS102", "UNS9"]', "ignore", ("UNS102", "UNS9")),
        ('exclude = ["gen/**"]', "exclude", ("gen/**",)),
        ('extend-exclude = ["*_pb2.py"]', "extend_exclude", ("*_pb2.py",)),
        ("max-file-size = 1000", "max_file_size", 1000),
        ('offload-helpers = ["myapp.run_blocking"]', "offload_helpers", ("myapp.run_blocking",)),
        ('allow = ["myapp.fast_read"]', "allow", ("myapp.fast_read",)),
        (
            'threadpool-decorators = ["myapp.threaded"]',
            "threadpool_decorators",
            ("myapp.threaded",),
        ),
    ],
)
def test_valid_keys(tmp_path: Path, body: str, attr: str, expected: Any) -> None:
    assert getattr(load(tmp_path, body), attr) == expected


def test_per_file_ignores(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[tool.unstall.per-file-ignores]\n"tests/**" = ["UNS1"]\n"x.py" = ["UNS101", "UNS102"]\n',
    )
    assert config.per_file_ignores == (("tests/**", ("UNS1",)), ("x.py", ("UNS101", "UNS102")))


def test_blocking_entries_are_validated_through_the_catalog(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[[tool.unstall.blocking]]\nname = "mylib.fetch"\nkind = "network"\nwhy = "It waits."\nalternative = "mylib.afetch"\n',
    )
    assert config.blocking[0]["name"] == "mylib.fetch"
    with pytest.raises(ConfigError, match="kind 'telepathy'") as info:
        load(
            tmp_path,
            '[[tool.unstall.blocking]]\nname = "a.b"\nkind = "telepathy"\nwhy = "w"\nalternative = "x"\n',
        )
    assert info.value.key == "tool.unstall.blocking"


def test_watch_table(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        '[tool.unstall.watch]\nthreshold-ms = 250\ntripwire = true\nallow = ["app.warmup"]\n',
    )
    assert config.watch == WatchConfig(threshold_ms=250.0, tripwire=True, allow=("app.warmup",))


@pytest.mark.parametrize(
    ("body", "key", "fragment"),
    [
        ('selct = ["UNS1"]', "tool.unstall.selct", "Did you mean 'select'?"),
        ('select = ["UNS999"]', "tool.unstall.select", "'UNS999'"),
        ('select = ["E501"]', "tool.unstall.select", "'E501'"),
        ('select = "UNS1"', None, None),  # a comma-separated string is accepted
        ("ignore = [1]", "tool.unstall.ignore", "[1]"),
        ('exclude = "gen"', "tool.unstall.exclude", "'gen'"),
        ("extend-exclude = [1]", "tool.unstall.extend-exclude", "[1]"),
        ("max-file-size = 0", "tool.unstall.max-file-size", "0"),
        ("max-file-size = true", "tool.unstall.max-file-size", "True"),
        ('max-file-size = "5MB"', "tool.unstall.max-file-size", "'5MB'"),
        ('offload-helpers = ["not a name"]', "tool.unstall.offload-helpers", "'not a name'"),
        ("allow = 3", "tool.unstall.allow", "3"),
        ('threadpool-decorators = ["a..b"]', "tool.unstall.threadpool-decorators", "'a..b'"),
        ('per-file-ignores = ["x"]', "tool.unstall.per-file-ignores", "['x']"),
        ('blocking = {name = "x"}', "tool.unstall.blocking", "array of tables"),
        ("[tool.unstall.watch]\nthreshold-ms = 0", "tool.unstall.watch.threshold-ms", "0"),
        ("[tool.unstall.watch]\nthreshold-ms = 60001", "tool.unstall.watch.threshold-ms", "60001"),
        ("[tool.unstall.watch]\nthreshold-ms = nan", "tool.unstall.watch.threshold-ms", "nan"),
        ('[tool.unstall.watch]\ntripwire = "yes"', "tool.unstall.watch.tripwire", "'yes'"),
        ("[tool.unstall.watch]\nallow = [1]", "tool.unstall.watch.allow", "[1]"),
        (
            "[tool.unstall.watch]\nthreshold = 5",
            "tool.unstall.watch.threshold",
            "Did you mean 'threshold-ms'?",
        ),
        ("watch = 3", "tool.unstall.watch", "3"),
    ],
)
def test_invalid_values_name_the_key_and_value(
    tmp_path: Path, body: str, key: str | None, fragment: str | None
) -> None:
    if key is None:
        assert load(tmp_path, body).select == ("UNS1",)
        return
    with pytest.raises(ConfigError) as info:
        load(tmp_path, body)
    assert info.value.key == key
    assert key in str(info.value)
    assert fragment is not None
    assert fragment in str(info.value)


def test_unknown_code_suggests_a_close_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'UNS110'"):
        load(tmp_path, 'ignore = ["UNS1010"]')


def test_invalid_toml_names_file_and_position(tmp_path: Path) -> None:
    path = write(tmp_path, "[tool.unstall]\nselect = = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert "line" in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_nearest_pyproject_with_a_tool_unstall_table_is_found(tmp_path: Path) -> None:
    write(tmp_path, '[tool.unstall]\nignore = ["UNS102"]\n')
    inner = tmp_path / "sub" / "deeper"
    inner.mkdir(parents=True)
    # A pyproject.toml without [tool.unstall] in between is skipped.
    write(tmp_path / "sub", '[project]\nname = "x"\n')
    assert find_config_file(inner) == tmp_path / "pyproject.toml"
    config = load_config(start=inner)
    assert config.ignore == ("UNS102",)
    assert config.root == tmp_path.resolve()


def test_unstall_toml_top_level_keys(tmp_path: Path) -> None:
    path = write(tmp_path, 'ignore = ["UNS9"]\n[watch]\ntripwire = true\n', name="unstall.toml")
    config = load_config(path)
    assert config.ignore == ("UNS9",)
    assert config.watch.tripwire
    bad = write(tmp_path, 'ignroe = ["UNS9"]\n', name="unstall.toml")
    with pytest.raises(ConfigError, match="Did you mean 'ignore'"):
        load_config(bad)


@pytest.mark.parametrize(
    ("select", "ignore", "code", "selected"),
    [
        (("ALL",), (), "UNS905", True),
        (("UNS1",), (), "UNS101", True),
        (("UNS1",), (), "UNS201", False),
        (("ALL",), ("UNS1",), "UNS101", False),
        (("UNS101",), ("UNS1",), "UNS101", True),  # the more specific prefix wins
        (("UNS1",), ("UNS101",), "UNS101", False),
        (("UNS1",), ("UNS1",), "UNS102", False),  # a tie goes to ignore
    ],
)
def test_selection_by_prefix_specificity(
    select: tuple[str, ...], ignore: tuple[str, ...], code: str, selected: bool
) -> None:
    assert Config(select=select, ignore=ignore).is_selected(code) is selected


def test_a_tool_that_is_not_a_table_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "tool = 5\n")
    with pytest.raises(ConfigError, match=r"tool in .* must be a table, got 5"):
        load_config(path)
    (tmp_path / "unstall.toml").write_text("tool = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a table"):
        load_config(tmp_path / "unstall.toml")


def test_tool_unstall_written_as_a_key_of_tool_is_found(tmp_path: Path) -> None:
    write(tmp_path, '[tool]\nunstall = { ignore = ["UNS102"] }\n')
    assert find_config_file(tmp_path) == tmp_path / "pyproject.toml"
    assert load_config(start=tmp_path).ignore == ("UNS102",)
    write(tmp_path, 'tool.unstall.ignore = ["UNS101"]\n')
    assert load_config(start=tmp_path).ignore == ("UNS101",)


def test_a_pyproject_that_only_mentions_unstall_elsewhere_is_passed_over(tmp_path: Path) -> None:
    write(tmp_path, '[tool.unstall]\nignore = ["UNS102"]\n')
    inner = tmp_path / "sub"
    inner.mkdir()
    write(inner, '[project]\nname = "x"\ndependencies = ["unstall"]\n')
    assert find_config_file(inner) == tmp_path / "pyproject.toml"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[tool.unstall]\nignore = ["UNS102"]\n# caf\xe9\n', "is not valid UTF-8"),
        (b"[tool.unstall]\nignore = = 1\n", "is not valid TOML"),
    ],
)
def test_an_unreadable_unstall_pyproject_is_an_error_not_skipped(
    tmp_path: Path, content: bytes, message: str
) -> None:
    # The parent folder's settings must not silently apply instead.
    write(tmp_path, '[tool.unstall]\nignore = ["UNS1"]\n')
    inner = tmp_path / "sub"
    inner.mkdir()
    (inner / "pyproject.toml").write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_config(start=inner)


def test_config_errors_exit_2_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from unstall._cli import main

    write(tmp_path, "tool = 5\n")
    (tmp_path / "app.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--config", "pyproject.toml", "."]) == 2
    assert "must be a table" in capsys.readouterr().err
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.unstall]\n# \xff\n")
    assert main(["check", "."]) == 2
    assert "is not valid UTF-8" in capsys.readouterr().err
