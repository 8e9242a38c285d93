"""The bundled demo shop (examples/service): `unstall check` sees the naive app's mistakes and
not the fixed app's, both apps serve the same answer, and the load generator drives them."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.waiting import wait_until

from unstall.bench import run_load

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service"


def test_check_flags_every_mistake_of_the_naive_app_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from unstall._cli import main

    code = main(["check", "--no-cache", "--format", "json", str(EXAMPLE)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    found = {(Path(f["path"]).name, f["entry"]) for f in report["findings"]}
    assert found == {
        ("app_naive.py", "time.sleep"),
        ("app_naive.py", "requests.Session.get"),
        ("app_naive.py", "sqlite3.connect"),
        ("app_naive.py", "hashlib.pbkdf2_hmac"),
    }
    # each finding is a chain through the helper module
    assert all(Path(f["chain"][0]["path"]).name == "catalog.py" for f in report["findings"])


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _wait(url: str, proc: subprocess.Popen[bytes]) -> bytes:
    """The body of ``url`` once the server ``proc`` answers it."""
    bodies: list[bytes] = []

    def answered() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                bodies.append(response.read())
                return True
        except OSError:
            assert proc.poll() is None, f"the server for {url} exited with {proc.returncode}"
            return False

    assert wait_until(answered, 30), f"{url} did not answer in 30 s"
    return bodies[0]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture(scope="module")
def shop_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    port = _port()
    upstream = subprocess.Popen([sys.executable, "upstream.py", "--port", str(port)], cwd=EXAMPLE)
    env = dict(
        os.environ,
        SHOP_UPSTREAM=f"http://127.0.0.1:{port}",
        SHOP_DB=str(tmp_path_factory.mktemp("shop") / "shop.sqlite"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(EXAMPLE), os.environ.get("PYTHONPATH")])),
    )
    try:
        _wait(f"http://127.0.0.1:{port}/", upstream)
        yield env
    finally:
        _stop(upstream)


@pytest.mark.parametrize("app", ["app_naive.py", "app_fixed.py"])
def test_both_apps_serve_the_same_item(app: str, shop_env: dict[str, str]) -> None:
    port = _port()
    proc = subprocess.Popen([sys.executable, app, "--port", str(port)], cwd=EXAMPLE, env=shop_env)
    try:
        body = json.loads(_wait(f"http://127.0.0.1:{port}/item/7", proc))
        assert body["item"] == 7
        assert body["stock"] == "12"
        assert body["similar"] > 0
        assert len(body["signature"]) == 16
        result = asyncio.run(
            run_load(f"http://127.0.0.1:{port}/item/7", concurrency=4, duration=30, max_requests=12)
        )
        assert (result.ok, result.errors) == (12, 0), result.error_kinds
    finally:
        _stop(proc)
