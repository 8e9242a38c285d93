"""The summary cache: warm runs re-summarize nothing, edits re-summarize only what changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from unstall.check import Config, _cache, _pool, check
from unstall.check._cache import Cache

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def make_project(root: Path, count: int = 5) -> None:
    for index in range(count):
        (root / f"mod{index}.py").write_text(
            BLOCKING if index == 0 else f"x = {index}\n", encoding="utf-8"
        )


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNSTALL_CACHE_DIR", raising=False)
    make_project(tmp_path)
    return tmp_path


def run(root: Path, **options: object) -> tuple[int, int, tuple[str, ...]]:
    result = check([root], config=Config(root=root), jobs=1, **options)  # type: ignore[arg-type]
    return (
        result.stats.summarized,
        result.stats.cached,
        tuple(f"{f.location.path}:{f.code}" for f in result.findings),
    )


def test_second_run_summarizes_nothing(root: Path) -> None:
    first = run(root)
    assert first[:2] == (5, 0)
    second = run(root)
    assert second == (0, 5, first[2])
    cache_dir = root / ".unstall_cache"
    assert (
        (cache_dir / "CACHEDIR.TAG")
        .read_text(encoding="utf-8")
        .startswith("Signature: 8a477f597d28d172789f06886806bc55")
    )
    assert (cache_dir / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"


def test_stale_cache_files_of_this_project_are_removed_and_links_never_written_through(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cache_dir = root / ".unstall_cache"
    cache_dir.mkdir()
    outside = tmp_path_factory.mktemp("outside")
    # Links planted where the cache writes its tag and its .gitignore, pointing at no file yet.
    (cache_dir / "CACHEDIR.TAG").symlink_to(outside / "tag")
    (cache_dir / ".gitignore").symlink_to(outside / "ignore")
    current = Cache(cache_dir, cwd=root)
    name = current.file.name
    key = name.rsplit("-", 1)[1].removesuffix(".json")
    minor = f"py{sys.version_info.major}{sys.version_info.minor}"
    stale = [
        f"check-0.0.1-{minor}-v1-0123456789abcdef-{key}.json",
        f"edits-0.0.1-{minor}-v1-0123456789abcdef-{key}.json",
        f"check-0.0.1-{minor}-0123456789abcdef-{key}.pickle",
        f"result-{key}.pickle",
    ]
    kept = [
        f"check-0.0.1-py20-v1-0123456789abcdef-{key}.json",  # another Python's
        f"check-0.0.1-{minor}-v1-0123456789abcdef-0000aaaa1111.json",  # another project's
    ]
    for file in (*stale, *kept):
        (cache_dir / file).write_text("{}", encoding="utf-8")
    run(root)
    names = {path.name for path in cache_dir.iterdir()}
    assert name in names
    assert not names & set(stale)
    assert set(kept) <= names
    assert list(outside.iterdir()) == []


def test_editing_one_file_resummarizes_only_it(root: Path) -> None:
    run(root)
    (root / "mod3.py").write_text(BLOCKING, encoding="utf-8")
    summarized, cached, findings = run(root)
    assert (summarized, cached) == (1, 4)
    assert findings == ("mod0.py:UNS101", "mod3.py:UNS101")


def test_touched_but_unchanged_file_is_not_resummarized(root: Path) -> None:
    run(root)
    later = (root / "mod2.py").stat().st_mtime_ns + 5_000_000_000
    os.utime(root / "mod2.py", ns=(later, later))
    assert run(root)[:2] == (0, 5)


def test_an_edit_writes_the_edits_file_not_the_whole_cache(root: Path) -> None:
    run(root)
    cache_dir = root / ".unstall_cache"
    (full,) = cache_dir.glob("check-*.json")
    before = full.read_bytes()
    (root / "mod3.py").write_text(BLOCKING, encoding="utf-8")
    assert run(root)[:2] == (1, 4)
    assert full.read_bytes() == before
    (edits,) = cache_dir.glob("edits-*.json")
    assert edits.stat().st_size < len(before)
    assert run(root) == (0, 5, ("mod0.py:UNS101", "mod3.py:UNS101"))
    (root / "mod2.py").write_text(BLOCKING, encoding="utf-8")
    assert run(root)[:2] == (1, 4)
    # The edits file holds every entry changed since the full file, not just the last run's.
    assert sorted(Cache(cache_dir, cwd=root).entries) == [f"mod{i}.py" for i in range(5)]
    _forget_last_result(root)
    assert run(root) == (0, 5, ("mod0.py:UNS101", "mod2.py:UNS101", "mod3.py:UNS101"))


def test_many_edits_rewrite_the_whole_cache(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cache, "_EDITS_AT_LEAST", 1)
    run(root)
    cache_dir = root / ".unstall_cache"
    (root / "mod3.py").write_text(BLOCKING, encoding="utf-8")
    run(root)
    assert list(cache_dir.glob("edits-*.json"))
    (root / "mod2.py").write_text(BLOCKING, encoding="utf-8")
    (root / "mod1.py").write_text(BLOCKING, encoding="utf-8")
    run(root)
    assert not list(cache_dir.glob("edits-*.json"))
    _forget_last_result(root)
    assert run(root)[:2] == (0, 5)


def test_edits_of_another_full_cache_file_are_ignored(root: Path) -> None:
    run(root)
    cache_dir = root / ".unstall_cache"
    (full,) = cache_dir.glob("check-*.json")
    (root / "mod3.py").write_text(BLOCKING, encoding="utf-8")
    run(root)
    assert list(cache_dir.glob("edits-*.json"))
    # Another full file (written by another run: another token) makes the edits stale.
    full.write_bytes(full.read_bytes().replace(b'"token":"', b'"token":"0'))
    _forget_last_result(root)
    assert run(root) == (1, 4, ("mod0.py:UNS101", "mod3.py:UNS101"))


def _forget_last_result(root: Path) -> None:
    for path in (root / ".unstall_cache").glob("result-*.json"):
        path.unlink()


def test_corrupt_cache_file_is_ignored_and_rewritten(root: Path) -> None:
    first = run(root)
    (cache_file,) = (root / ".unstall_cache").glob("check-*.json")
    cache_file.write_bytes(b"not JSON at all")
    _forget_last_result(root)
    assert run(root) == (5, 0, first[2])
    _forget_last_result(root)
    assert run(root)[:2] == (0, 5)
    cache_file.write_text(json.dumps({"mod0.py": "wrong type"}), encoding="utf-8")
    _forget_last_result(root)
    assert run(root)[:2] == (5, 0)


def test_unchanged_project_reuses_the_last_result_without_reading_summaries(root: Path) -> None:
    first = check([root], config=Config(root=root), jobs=1)
    (summaries,) = (root / ".unstall_cache").glob("check-*.json")
    summaries.write_bytes(b"unreadable: a reused result never opens it")
    second = check([root], config=Config(root=root), jobs=1)
    assert second.findings == first.findings
    assert second.digests == first.digests
    assert (second.stats.summarized, second.stats.cached) == (0, 5)


def test_a_reused_result_neither_reads_the_catalog_nor_loads_the_worker_pool(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = check([root], config=Config(root=root), jobs=1)

    def unread(self: Config) -> None:
        raise AssertionError("the catalog was read")

    monkeypatch.setattr(Config, "catalog", unread)
    assert check([root], config=Config(root=root), jobs=1).findings == first.findings
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from unstall.check import Config, check\n"
        "check([Path('.')], config=Config(root=Path('.').resolve()))\n"
        "print(sorted(n for n in sys.modules if n.startswith(('multiprocessing', 'concurrent'))))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "[]"


def test_last_result_is_not_reused_after_an_edit_or_a_config_change(root: Path) -> None:
    assert run(root)[2] == ("mod0.py:UNS101",)
    (root / "mod3.py").write_text(BLOCKING, encoding="utf-8")
    assert run(root)[2] == ("mod0.py:UNS101", "mod3.py:UNS101")
    ignoring = check([root], config=Config(root=root, ignore=("UNS101",)), jobs=1)
    assert ignoring.findings == ()
    (root / "mod4.py").unlink()
    (root / "mod3.py").write_text("x = 3\n", encoding="utf-8")
    assert run(root)[2] == ("mod0.py:UNS101",)
    (root / "mod5.py").write_text(BLOCKING, encoding="utf-8")
    assert run(root)[2] == ("mod0.py:UNS101", "mod5.py:UNS101")


def test_no_cache_reads_and_writes_nothing(root: Path) -> None:
    assert run(root, use_cache=False)[:2] == (5, 0)
    assert not (root / ".unstall_cache").exists()
    assert run(root, use_cache=False)[:2] == (5, 0)


def test_cache_dir_option_and_environment(
    root: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path_factory.mktemp("cache")
    run(root, cache_dir=elsewhere)
    assert run(root, cache_dir=elsewhere)[:2] == (0, 5)
    assert not (root / ".unstall_cache").exists()
    from_env = tmp_path_factory.mktemp("env-cache")
    monkeypatch.setenv("UNSTALL_CACHE_DIR", str(from_env))
    run(root)
    assert list(from_env.glob("check-*.json"))


def test_cache_file_is_written_atomically(root: Path) -> None:
    run(root)
    leftovers = [p.name for p in (root / ".unstall_cache").iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []
    cache = Cache(root / ".unstall_cache", cwd=root)
    assert sorted(cache.entries) == [f"mod{i}.py" for i in range(5)]


def test_a_syntax_error_is_cached_too(root: Path) -> None:
    (root / "mod4.py").write_text("def (:\n", encoding="utf-8")
    first = run(root)
    assert "mod4.py:UNS901" in first[2]
    assert run(root) == (0, 5, first[2])


def test_parallel_and_serial_give_identical_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for index in range(120):
        body = (
            BLOCKING
            if index % 7 == 0
            else f"from mod{index - 1} import *\n\ndef f{index}():\n    return {index}\n"
            if index
            else "x = 0\n"
        )
        (tmp_path / f"mod{index}.py").write_text(body, encoding="utf-8")
    (tmp_path / "broken.py").write_text("def (:\n", encoding="utf-8")
    monkeypatch.setattr(_pool, "POOL_BYTES_PER_WORKER", 1000)  # a pool even for these small files
    serial = check([tmp_path], config=Config(root=tmp_path), jobs=1, use_cache=False)
    parallel = check([tmp_path], config=Config(root=tmp_path), jobs=2, use_cache=False)
    assert serial.stats.workers == 1
    assert parallel.stats.workers == 2
    assert parallel.findings == serial.findings
    assert parallel.files == serial.files
    assert len(serial.findings) >= 18


def test_worker_processes_are_started_by_source_size_not_file_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for index in range(200):  # many files, little source: summarized in this process
        (tmp_path / f"mod{index}.py").write_text(BLOCKING, encoding="utf-8")
    small = check([tmp_path], config=Config(root=tmp_path), jobs=2, use_cache=False)
    assert small.stats.workers == 1
    # Past the size one process handles best, a second process takes half of the files.
    monkeypatch.setattr(_pool, "POOL_BYTES_PER_WORKER", len(BLOCKING) * 100)
    large = check([tmp_path], config=Config(root=tmp_path), jobs=2, use_cache=False)
    assert large.stats.workers == 2
    assert large.findings == small.findings
